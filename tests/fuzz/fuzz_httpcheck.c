/*
 * Fuzz harness: httpcheck, the strict reading of a request's header
 * section.  Sources: src/httpcheck.c.
 *
 * Input: the first line is the HTTP version, each further line a field
 * "Name: value" (split at the first ':', white space before the value
 * dropped and after it kept, as libmicrohttpd 0.9.75 does; a line without
 * ':' is a name with an empty value).
 * Any byte may appear; names and values are passed with their lengths in
 * buffers of exactly that size, not NUL-terminated.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <strings.h>

#include "httpcheck.h"

#define FUZZ_NAME "httpcheck"
#include "fuzz.h"

static void
fuzz_init(void)
{
}

static bool
ref_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    memchr("!#$%&'*+-.^_`|~", c, 15) != NULL);
}

static bool
ref_token(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!ref_tchar((unsigned char)s[i]))
			return false;
	return len > 0;
}

static bool
ref_value(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x7f || (c < 0x20 && c != '\t'))
			return false;
	}
	return true;
}

/* Exactly "chunked", any case: the caller trims only what its HTTP parser
 * trims (libmicrohttpd 0.9.75 keeps trailing white space). */
static bool
ref_chunked(const char *s, size_t len)
{
	static const char want[] = "chunked";
	size_t i;

	if (len != 7)
		return false;
	for (i = 0; i < 7; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)want[i])
			return false;
	}
	return true;
}

/* What a Host may hold at all: RFC 3986 authority bytes without '@'. */
static bool
ref_host_bytes(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' &&
		    memchr("-._~!$&'()*+,;=:%[]", c, 19) != NULL)))
			return false;
	}
	return true;
}

static bool
all_digits(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

/* The single-value parsers against their references. */
static void
check_value_parsers(const char *name, size_t namelen, const char *value,
    size_t valuelen)
{
	int64_t v = -7;
	int rc;

	FUZZ_CHECK(httpcheck_token(name, namelen) == ref_token(name, namelen));
	FUZZ_CHECK(httpcheck_token(value, valuelen) ==
	    ref_token(value, valuelen));
	FUZZ_CHECK(httpcheck_value(value, valuelen) ==
	    ref_value(value, valuelen));
	FUZZ_CHECK(httpcheck_value(name, namelen) == ref_value(name, namelen));
	FUZZ_CHECK(httpcheck_chunked(value, valuelen) ==
	    ref_chunked(value, valuelen));
	if (httpcheck_host(value, valuelen))
		FUZZ_CHECK(ref_host_bytes(value, valuelen));

	rc = httpcheck_length(value, valuelen, &v);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (all_digits(value, valuelen)) {
		char *z = fuzz_strdup(value, valuelen);
		long long ref;

		errno = 0;
		ref = strtoll(z, NULL, 10);
		/* Accepted exactly when it fits, and then the same number. */
		FUZZ_CHECK((rc == 0) == (errno != ERANGE));
		if (rc == 0)
			FUZZ_CHECK(v == ref && v >= 0);
		free(z);
	} else {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(v == -7);	/* *out untouched on failure */
	}
}

static bool
name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memchr(name, '\0', len) == NULL &&
	    strncasecmp(name, want, len) == 0;
}

static void
fuzz_one(const unsigned char *data, size_t len)
{
	struct httpcheck_req c;
	const unsigned char *line;
	size_t pos = 0, n;
	char *version;
	int verdict = HTTPCHECK_OK, rc;
	unsigned hosts = 0, lengths = 0, codings = 0;

	n = fuzz_split(data, len, &pos, '\n', &line);
	version = fuzz_strdup(line, n);
	httpcheck_req_init(&c, version);
	FUZZ_CHECK(c.verdict == HTTPCHECK_OK && c.why == NULL);
	FUZZ_CHECK(c.length == -1 && !c.chunked);
	FUZZ_CHECK(c.http11 == (strcmp(version, "HTTP/1.0") != 0));

	while (pos < len) {
		const unsigned char *colon, *v;
		size_t namelen, vlen;
		char *name, *value;

		n = fuzz_split(data, len, &pos, '\n', &line);
		colon = memchr(line, ':', n);
		namelen = colon != NULL ? (size_t)(colon - line) : n;
		v = colon != NULL ? colon + 1 : line + n;
		vlen = (size_t)(line + n - v);
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		name = fuzz_dup(line, namelen);
		value = fuzz_dup(v, vlen);

		check_value_parsers(name, namelen, value, vlen);
		rc = httpcheck_req_field(&c, name, namelen, value, vlen);
		FUZZ_CHECK(rc == c.verdict);
		FUZZ_CHECK(rc == HTTPCHECK_OK || rc == HTTPCHECK_BAD ||
		    rc == HTTPCHECK_NOT_IMPL);
		/* A verdict, once given, stays. */
		if (verdict != HTTPCHECK_OK)
			FUZZ_CHECK(rc == verdict);
		if (verdict == HTTPCHECK_OK && rc == HTTPCHECK_OK) {
			FUZZ_CHECK(ref_token(name, namelen));
			FUZZ_CHECK(ref_value(value, vlen));
			if (name_is(name, namelen, "Host")) {
				hosts++;
				FUZZ_CHECK(httpcheck_host(value, vlen));
			}
			else if (name_is(name, namelen, "Content-Length")) {
				lengths++;
				FUZZ_CHECK(all_digits(value, vlen));
			} else if (name_is(name, namelen,
			    "Transfer-Encoding")) {
				codings++;
				FUZZ_CHECK(ref_chunked(value, vlen));
			}
		}
		verdict = rc;
		FUZZ_CHECK((c.verdict == HTTPCHECK_OK) == (c.why == NULL));
		free(name);
		free(value);
	}

	rc = httpcheck_req_end(&c);
	FUZZ_CHECK(rc == c.verdict);
	FUZZ_CHECK(rc == HTTPCHECK_OK || rc == HTTPCHECK_BAD ||
	    rc == HTTPCHECK_NOT_IMPL);
	FUZZ_CHECK((c.verdict == HTTPCHECK_OK) == (c.why == NULL));
	if (verdict != HTTPCHECK_OK)
		FUZZ_CHECK(rc == verdict);
	if (rc == HTTPCHECK_OK) {
		/* One framing, told exactly once. */
		FUZZ_CHECK(c.hosts == hosts && c.lengths == lengths &&
		    c.codings == codings);
		FUZZ_CHECK(c.hosts <= 1 && c.lengths <= 1 && c.codings <= 1);
		FUZZ_CHECK(!c.http11 || c.hosts == 1);
		FUZZ_CHECK(!(c.chunked && c.lengths > 0));
		FUZZ_CHECK(c.chunked == (c.codings == 1));
		FUZZ_CHECK((c.length >= 0) == (c.lengths == 1));
		FUZZ_CHECK(c.length >= -1);
	}
	free(version);
}
