/*
 * target: the raw request-target and the upstream URL made from it.
 * SigV4 signs the path and query exactly as the client sent them, so the
 * target is forwarded byte for byte, never decoded or normalised.
 * Pure functions, any thread.
 */
#ifndef TARGET_H
#define TARGET_H

#include <stddef.h>

/* Longest request-target accepted, in bytes (a presigned URL is ~1-2 KiB). */
#define TARGET_MAX	(16 * 1024)

/* Returns 0 if t is an origin-form target we forward: starts with '/', at
 * most TARGET_MAX bytes, no control characters, spaces, '#' or non-ASCII
 * bytes (each would change meaning or be refused by the backend's URL
 * parser).  Returns -1 otherwise. */
int	target_validate(const char *t);

/* Returns 0 if base is an upstream base URL: http:// or https://, a host,
 * no query or fragment.  Returns -1 otherwise. */
int	target_validate_base(const char *base);

/* Returns a malloc'd string base + target with base's trailing '/' removed;
 * the caller owns it.  NULL if memory is short. */
char	*target_upstream_url(const char *base, const char *target);

/* Copies t into out (cap bytes, NUL-terminated, cut to fit) for the access
 * log, with the values of query parameters that grant access replaced by
 * "REDACTED": X-Amz-Signature, X-Amz-Security-Token, Signature (SigV2).
 * A presigned URL in a log would otherwise be usable by its readers. */
void	target_redact(const char *t, char *out, size_t cap);

#endif
