/*
 * redisurl: Redis URLs (see redisurl.h).
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisurl.h"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Decodes %XX escapes of [s, s + n) into out (cap bytes with the NUL).
 * Returns 0 or -1 (too long, bad escape, or a NUL byte). */
static int
decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			char hex[3];
			char *end;

			if (i + 2 >= n)
				return -1;
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			hex[2] = '\0';
			c = (int)strtol(hex, &end, 16);
			if (end != hex + 2 || c == 0)
				return -1;
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int
parse_uint(const char *s, size_t n, unsigned long max, unsigned *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int
redisurl_parse(const char *url, struct redisurl *u, char *err, size_t errlen)
{
	const char *p, *at, *hostend, *end, *slash, *colon;
	size_t n;

	memset(u, 0, sizeof(*u));
	u->port = 6379;
	if (strncmp(url, "rediss://", 9) == 0)
		return fail(err, errlen, "'rediss://' (TLS) is not supported "
		    "by this build (hiredis 0.14 has no TLS); use redis:// "
		    "over a private network or a TLS tunnel");
	if (strncmp(url, "redis://", 8) != 0)
		return fail(err, errlen, "'%.64s' is not a redis:// URL", url);
	p = url + 8;
	end = p + strlen(p);
	if (strpbrk(p, " \t\r\n?#") != NULL)
		return fail(err, errlen, "white space, query or fragment in "
		    "the URL");
	/* The last '@' ends the credentials: a password may hold '@'. */
	at = NULL;
	{
		const char *q;

		for (q = p; q < end; q++)
			if (*q == '@')
				at = q;
	}
	if (at != NULL) {
		colon = memchr(p, ':', (size_t)(at - p));
		if (colon == NULL) {
			/* redis://password@host, as some clients take it */
			if (decode(p, (size_t)(at - p), u->password,
			    sizeof(u->password)) == -1)
				return fail(err, errlen, "the password is "
				    "too long or badly escaped");
		} else {
			if (decode(p, (size_t)(colon - p), u->user,
			    sizeof(u->user)) == -1)
				return fail(err, errlen, "the user name is "
				    "too long or badly escaped");
			if (decode(colon + 1, (size_t)(at - colon - 1),
			    u->password, sizeof(u->password)) == -1)
				return fail(err, errlen, "the password is "
				    "too long or badly escaped");
		}
		p = at + 1;
	}
	slash = strchr(p, '/');
	hostend = slash != NULL ? slash : end;
	if (p < hostend && *p == '[') {
		const char *rb = memchr(p, ']', (size_t)(hostend - p));

		if (rb == NULL)
			return fail(err, errlen, "unclosed '[' in the host");
		n = (size_t)(rb - p - 1);
		if (n == 0 || n >= sizeof(u->host))
			return fail(err, errlen, "bad IPv6 host");
		memcpy(u->host, p + 1, n);
		u->host[n] = '\0';
		colon = rb + 1 < hostend ? rb + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return fail(err, errlen, "junk after ']' in the host");
	} else {
		colon = memchr(p, ':', (size_t)(hostend - p));
		n = (size_t)((colon != NULL ? colon : hostend) - p);
		if (n == 0)
			return fail(err, errlen, "no host in the URL");
		if (n >= sizeof(u->host))
			return fail(err, errlen, "the host is too long");
		memcpy(u->host, p, n);
		u->host[n] = '\0';
	}
	if (colon != NULL && (parse_uint(colon + 1, (size_t)(hostend - colon -
	    1), 65535, &u->port) == -1 || u->port == 0))
		return fail(err, errlen, "the port is not 1-65535");
	if (slash != NULL && slash + 1 < end &&
	    parse_uint(slash + 1, (size_t)(end - slash - 1), 1000000,
	    &u->db) == -1)
		return fail(err, errlen, "the database is not a number");
	return 0;
}
