/*
 * headers: which header fields cross the proxy (RFC 9110 section 7.6.1).
 * Pure functions, any thread.
 */
#ifndef HEADERS_H
#define HEADERS_H

#include <stdbool.h>
#include <stddef.h>

/* True if the field is hop-by-hop: one of the fixed list, or a token named
 * in `connection` (the message's Connection field value, may be NULL). */
bool	headers_is_hop_by_hop(const char *name, size_t namelen,
	    const char *connection);

/* True if `token` is one of the comma-separated tokens of a Connection
 * value (any case); false if value is NULL. */
bool	headers_has_token(const char *value, const char *token);

/* True if the client's request field must not be copied upstream: hop-by-hop
 * fields and those the proxy sets itself (Host, Content-Length,
 * X-Forwarded-For, X-Forwarded-Proto). */
bool	headers_skip_request(const char *name, const char *connection);

/* True if upstream's response field must not be copied to the client:
 * hop-by-hop fields and Content-Length (the response carries the length). */
bool	headers_skip_response(const char *name, size_t namelen,
	    const char *connection);

#endif
