/*
 * target: validation of request-targets and upstream URL construction.
 */

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

		if (i >= TARGET_MAX || c <= 0x20 || c >= 0x7f || c == '#')
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
target_upstream_url(const char *base, const char *target)
{
	size_t blen = strlen(base), tlen = strlen(target);
	char *url;

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if ((url = malloc(blen + tlen + 1)) == NULL)
		return NULL;
	memcpy(url, base, blen);
	memcpy(url + blen, target, tlen + 1);
	return url;
}
