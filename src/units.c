/*
 * units: the value syntaxes of the configuration (sizes, durations, booleans).
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "units.h"

/* Reads the leading decimal digits of s; *end points past them.  Refuses an
 * empty number, a sign and values over UINT64_MAX. */
static int
parse_digits(const char *s, const char **end, uint64_t *v)
{
	uint64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*end = s;
	*v = n;
	return 0;
}

static int
scale(uint64_t n, uint64_t mult, uint64_t *out)
{
	if (mult != 0 && n > UINT64_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int
units_parse_size(const char *s, uint64_t *bytes)
{
	const char *end;
	uint64_t n, mult;

	if (s == NULL || parse_digits(s, &end, &n) == -1)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case '\0': mult = 1; break;
	case 'k': mult = 1024; end++; break;
	case 'm': mult = 1024 * 1024; end++; break;
	case 'g': mult = 1024 * 1024 * 1024; end++; break;
	default: return -1;
	}
	if (*end != '\0')
		return -1;
	return scale(n, mult, bytes);
}

int
units_parse_duration(const char *s, uint64_t *ms)
{
	const char *end;
	uint64_t n, mult;

	if (s == NULL || parse_digits(s, &end, &n) == -1)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mult = 3600 * 1000;
	else
		return -1;
	return scale(n, mult, ms);
}

int
units_parse_bool(const char *s, bool *v)
{
	static const char *yes[] = { "on", "yes", "true", "1" };
	static const char *no[] = { "off", "no", "false", "0" };
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = false;
			return 0;
		}
	}
	return -1;
}

int
units_parse_uint(const char *s, uint64_t max, uint64_t *v)
{
	const char *end;
	uint64_t n;

	if (s == NULL || parse_digits(s, &end, &n) == -1 || *end != '\0' ||
	    n > max)
		return -1;
	*v = n;
	return 0;
}
