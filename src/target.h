/*
 * target: the raw request-target and the upstream URL made from it.
 * SigV4 signs the path and query exactly as the client sent them, so the
 * target is forwarded byte for byte, never decoded or normalised.
 * Pure functions, any thread.
 */
#ifndef TARGET_H
#define TARGET_H

#include <stddef.h>

/* Longest request-target accepted, in bytes: header-max's own cap.  The
 * request line must fit in header-max (libmicrohttpd answers a longer one
 * itself); below that, how long a path may be is the backend's to say. */
#define TARGET_MAX	(1024 * 1024)

/* Returns 0 if t is an origin-form target we forward: starts with '/', at
 * most TARGET_MAX bytes, no control characters, spaces or DEL (the
 * backend could split the request line elsewhere).  '#' and bytes above
 * 0x7f go to the backend as sent: it decides, as it would directly.
 * Returns -1 otherwise. */
int	target_validate(const char *t);

/* Returns 0 if base is an upstream base URL: http:// or https://, a host,
 * no query or fragment.  Returns -1 otherwise. */
int	target_validate_base(const char *base);

/* Returns the request-target to send upstream, malloc'd (the caller owns
 * it): base's path, if any, without its trailing '/', then target as it
 * is.  base must have passed target_validate_base().  NULL if memory is
 * short. */
char	*target_upstream_path(const char *base, const char *target);

/* Copies t into out (cap bytes, NUL-terminated, cut to fit) for the access
 * log, with the values of query parameters that grant access replaced by
 * "REDACTED": X-Amz-Signature, X-Amz-Security-Token, Signature (SigV2).
 * A presigned URL in a log would otherwise be usable by its readers. */
void	target_redact(const char *t, char *out, size_t cap);

#endif
