/*
 * httpcheck: the strict reading of header sections.
 *
 * The proxy and the backend parse the same bytes; wherever one of them
 * could read a message differently from the other (two lengths, a coding
 * it does not know, a field line it would split or join differently), the
 * message is refused before a byte goes upstream.  nginx 1.22 refuses the
 * same cases with 400 or 501.
 */

#include <string.h>
#include <strings.h>

#include "httpcheck.h"

/* Is c a letter, a digit, or one of `extra`? */
static bool
alnum_or(unsigned char c, const char *extra)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr(extra, c) != NULL;
}

/* tchar, RFC 9110 5.6.2. */
static bool
is_tchar(unsigned char c)
{
	return alnum_or(c, "!#$%&'*+-.^_`|~");
}

bool
httpcheck_token(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

bool
httpcheck_value(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

int
httpcheck_length(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

bool
httpcheck_chunked(const char *s, size_t len)
{
	return len == 7 && strncasecmp(s, "chunked", 7) == 0;
}

/* Unreserved or sub-delims, RFC 3986 2.2-2.3. */
static bool
is_regname(unsigned char c)
{
	return alnum_or(c, "-._~!$&'()*+,;=");
}

static bool
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

bool
httpcheck_host(const char *s, size_t len)
{
	size_t i = 0;

	if (len > 0 && s[0] == '[') {
		/* IP-literal: hex digits, ':' and '.' (an embedded IPv4),
		 * or an IPvFuture's unreserved and sub-delims. */
		for (i = 1; i < len && s[i] != ']'; i++)
			if (!is_regname((unsigned char)s[i]) && s[i] != ':')
				return false;
		if (i == len || i == 1)
			return false;
		i++;
	} else {
		for (; i < len && s[i] != ':'; i++) {
			if (s[i] == '%' && i + 2 < len &&
			    is_hex((unsigned char)s[i + 1]) &&
			    is_hex((unsigned char)s[i + 2])) {
				i += 2;
				continue;
			}
			if (!is_regname((unsigned char)s[i]))
				return false;
		}
	}
	if (i == len)
		return true;
	if (s[i] != ':')
		return false;
	/* port = *DIGIT */
	for (i++; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool
httpcheck_interim(long status)
{
	return status == 100 || status == 103;
}

void
httpcheck_req_init(struct httpcheck_req *c, const char *version)
{
	memset(c, 0, sizeof(*c));
	c->http11 = version != NULL && strcmp(version, "HTTP/1.0") != 0;
	c->length = -1;
}

static int
fail(struct httpcheck_req *c, int verdict, const char *why)
{
	c->verdict = verdict;
	c->why = why;
	return verdict;
}

static bool
name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

int
httpcheck_req_field(struct httpcheck_req *c, const char *name,
    size_t namelen, const char *value, size_t valuelen)
{
	if (c->verdict != HTTPCHECK_OK)
		return c->verdict;
	if (!httpcheck_token(name, namelen))
		return fail(c, HTTPCHECK_BAD, "A header field name is not a "
		    "token.");
	if (!httpcheck_value(value, valuelen))
		return fail(c, HTTPCHECK_BAD, "A header field value has a "
		    "control character.");
	if (name_is(name, namelen, "Host")) {
		if (++c->hosts > 1)
			return fail(c, HTTPCHECK_BAD, "More than one Host "
			    "header field.");
		if (!httpcheck_host(value, valuelen))
			return fail(c, HTTPCHECK_BAD, "The Host header field "
			    "is not a host and port.");
	} else if (name_is(name, namelen, "Content-Length")) {
		if (++c->lengths > 1)
			return fail(c, HTTPCHECK_BAD, "More than one "
			    "Content-Length header field.");
		if (httpcheck_length(value, valuelen, &c->length) == -1)
			return fail(c, HTTPCHECK_BAD, "Content-Length is not "
			    "a number of bytes.");
	} else if (name_is(name, namelen, "Transfer-Encoding")) {
		/* Only "chunked", on one line: a list, or a second line,
		 * would be one more coding, and codings we do not decode
		 * leave the body's end to the backend's guess. */
		if (++c->codings > 1 || !httpcheck_chunked(value, valuelen))
			return fail(c, HTTPCHECK_NOT_IMPL, "Only the "
			    "Transfer-Encoding chunked is implemented.");
		/* RFC 9112 6.1: in HTTP/1.0 its framing is faulty. */
		if (!c->http11)
			return fail(c, HTTPCHECK_BAD, "Transfer-Encoding in an "
			    "HTTP/1.0 request.");
		c->chunked = true;
	} else if (name_is(name, namelen, "Expect") && c->expects++ == 0)
		c->expect_continue = valuelen == 12 &&
		    strncasecmp(value, "100-continue", 12) == 0;
	return HTTPCHECK_OK;
}

int
httpcheck_req_end(struct httpcheck_req *c)
{
	if (c->verdict != HTTPCHECK_OK)
		return c->verdict;
	if (c->http11 && c->hosts == 0)
		return fail(c, HTTPCHECK_BAD, "An HTTP/1.1 request needs a "
		    "Host header field.");
	if (c->chunked && c->lengths > 0)
		return fail(c, HTTPCHECK_BAD, "Both Transfer-Encoding and "
		    "Content-Length.");
	return HTTPCHECK_OK;
}
