/*
 * httpcheck: whether a message's header section is one the proxy parses
 * exactly as the backend (or the client) will, so that nobody can make
 * the two ends disagree on where a message ends (request smuggling,
 * response splitting).  RFC 9112 sections 5-7 and RFC 9110 section 5.
 * Pure functions, any thread, no allocation; nothing is kept after a call
 * except in the caller's struct.
 */
#ifndef HTTPCHECK_H
#define HTTPCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Verdicts: 0, or the HTTP status the proxy answers with. */
#define HTTPCHECK_OK		0
#define HTTPCHECK_BAD		400	/* malformed: 400, close */
#define HTTPCHECK_NOT_IMPL	501	/* a transfer coding we do not do */

/* A request's header section, fed one field at a time. */
struct httpcheck_req {
	bool		 http11;	/* HTTP/1.1: Host is required */
	unsigned	 hosts;		/* Host fields seen */
	unsigned	 lengths;	/* Content-Length fields seen */
	unsigned	 codings;	/* Transfer-Encoding fields seen */
	bool		 chunked;	/* Transfer-Encoding: chunked */
	unsigned	 expects;	/* Expect fields seen */
	bool		 expect_continue; /* the first Expect is exactly
					 * "100-continue" (any case), as
					 * libmicrohttpd reads it before it
					 * sends 100 Continue itself */
	int64_t		 length;	/* Content-Length, -1 if none */
	int		 verdict;	/* first failure, HTTPCHECK_OK so far */
	const char	*why;		/* static text for the failure, or NULL */
};

/* Starts a check of a request of HTTP version `version` ("HTTP/1.1"). */
void	httpcheck_req_init(struct httpcheck_req *c, const char *version);

/* Feeds one field, name and value as received (lengths in bytes; the
 * value without the white space before it, but with any after it: a
 * parser that does not trim it, such as libmicrohttpd 0.9.75, reads
 * "chunked " as an unknown coding, so it must not pass as chunked).
 * Returns c->verdict: once not HTTPCHECK_OK it stays as it is, and further
 * fields are not looked at. */
int	httpcheck_req_field(struct httpcheck_req *c, const char *name,
	    size_t namelen, const char *value, size_t valuelen);

/* Ends the section: the checks over all fields (Host count, framing).
 * Returns the verdict; on HTTPCHECK_OK the body is c->chunked, or
 * c->length bytes (-1: none). */
int	httpcheck_req_end(struct httpcheck_req *c);

/* True if s[0..len) is a token (RFC 9110 5.6.2), as a field name must be:
 * one or more of ALPHA DIGIT and !#$%&'*+-.^_`|~. */
bool	httpcheck_token(const char *s, size_t len);

/* True if s[0..len) is a field value (RFC 9110 5.5): visible ASCII,
 * obs-text (0x80-0xff), SP and HTAB; no NUL, CR, LF or other control
 * byte. */
bool	httpcheck_value(const char *s, size_t len);

/* Parses a Content-Length value: 1*DIGIT (no sign, no white space inside,
 * no list) that fits in int64_t.  Returns 0 and sets *out, or -1. */
int	httpcheck_length(const char *s, size_t len, int64_t *out);

/* True if a Transfer-Encoding value is exactly the one coding "chunked"
 * (case-insensitive; no white space: the caller trims what it may). */
bool	httpcheck_chunked(const char *s, size_t len);

/* True if a Host value is uri-host [":" port] (RFC 9112 3.2, RFC 3986
 * 3.2.2): a reg-name (unreserved, sub-delims, %HH; empty allowed) or an
 * IP-literal in brackets, then digits after a ':'.  No userinfo, white
 * space, path or second colon outside brackets. */
bool	httpcheck_host(const char *s, size_t len);

/* True if a 1xx status may precede the final response (100 Continue, 103
 * Early Hints); any other status below 200 cannot be forwarded. */
bool	httpcheck_interim(long status);

#endif
