/*
 * target: validation of request-targets and upstream URL construction.
 */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target.h"

int
target_validate(const char *t)
{
	size_t i;

	if (t == NULL || t[0] != '/')
		return -1;
	for (i = 0; t[i] != '\0'; i++) {
		unsigned char c = (unsigned char)t[i];

		if (i >= TARGET_MAX || c <= 0x20 || c == 0x7f)
			return -1;
	}
	return 0;
}

int
target_validate_base(const char *base)
{
	const char *host;

	if (base == NULL)
		return -1;
	if (strncasecmp(base, "http://", 7) == 0)
		host = base + 7;
	else if (strncasecmp(base, "https://", 8) == 0)
		host = base + 8;
	else
		return -1;
	if (*host == '\0' || *host == '/' || *host == ':')
		return -1;
	if (strpbrk(base, "?# \t\r\n") != NULL)
		return -1;
	return 0;
}

char *
target_upstream_path(const char *base, const char *target)
{
	const char *path;
	size_t blen, tlen = strlen(target);
	char *out;

	/* After "scheme://", the path starts at the first '/', if any. */
	path = strstr(base, "://");
	path = path != NULL ? strchr(path + 3, '/') : NULL;
	blen = path != NULL ? strlen(path) : 0;
	while (blen > 0 && path[blen - 1] == '/')
		blen--;
	if ((out = malloc(blen + tlen + 1)) == NULL)
		return NULL;
	if (blen > 0)
		memcpy(out, path, blen);
	memcpy(out + blen, target, tlen + 1);
	return out;
}

static bool
secret_param(const char *name, size_t len)
{
	static const char *secret[] = { "X-Amz-Signature",
	    "X-Amz-Security-Token", "Signature" };
	size_t i;

	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		if (strlen(secret[i]) == len &&
		    strncasecmp(name, secret[i], len) == 0)
			return true;
	return false;
}

void
target_redact(const char *t, char *out, size_t cap)
{
	static const char mask[] = "REDACTED";
	const char *q = strchr(t, '?'), *p;
	size_t o = 0;

	if (cap == 0)
		return;
	/* The path as it is. */
	for (p = t; *p != '\0' && (q == NULL || p <= q) && o + 1 < cap; p++)
		out[o++] = *p;
	while (q != NULL && *p != '\0' && o + 1 < cap) {
		const char *eq, *end = strchr(p, '&');
		size_t namelen;

		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		namelen = eq != NULL ? (size_t)(eq - p) : (size_t)(end - p);
		if (eq != NULL && secret_param(p, namelen)) {
			/* name= then the mask */
			for (; p <= eq && o + 1 < cap; p++)
				out[o++] = *p;
			for (size_t i = 0; mask[i] != '\0' && o + 1 < cap; i++)
				out[o++] = mask[i];
			p = end;
		} else
			for (; p < end && o + 1 < cap; p++)
				out[o++] = *p;
		if (*p == '&' && o + 1 < cap)
			out[o++] = *p++;
	}
	out[o] = '\0';
}
