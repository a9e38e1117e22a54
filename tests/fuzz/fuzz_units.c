/*
 * Fuzz harness: units, the configuration's sizes, durations, booleans and
 * numbers.  Sources: src/units.c.
 *
 * Input: the value, to the end or to a NUL byte.  Each parser is checked
 * against a reference reading, and a number with each suffix appended
 * against the number times the suffix's factor (no overflow wraps).
 */
#include <stdbool.h>
#include <stdint.h>
#include <strings.h>

#include "units.h"

#define FUZZ_NAME "units"
#include "fuzz.h"

static void
fuzz_init(void)
{
}

/* Leading decimal digits: -1 if none, -2 if over UINT64_MAX; else 0. */
static int
ref_digits(const char *s, const char **end, uint64_t *v)
{
	uint64_t n = 0;
	bool over = false;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(*s - '0'), &n))
			over = true;
	*end = s;
	*v = n;
	return over ? -2 : 0;
}

static int
ref_scaled(const char *s, const char *sfx[], const uint64_t mult[],
    size_t nsfx, bool nocase, uint64_t *out)
{
	const char *end;
	uint64_t n;
	size_t i;

	if (ref_digits(s, &end, &n) != 0)
		return -1;
	for (i = 0; i < nsfx; i++)
		if ((nocase ? strcasecmp(end, sfx[i]) : strcmp(end, sfx[i])) == 0)
			return __builtin_mul_overflow(n, mult[i], out) ? -1 : 0;
	return -1;
}

static int
ref_size(const char *s, uint64_t *out)
{
	static const char *sfx[] = { "", "k", "m", "g" };
	static const uint64_t mult[] = { 1, 1ULL << 10, 1ULL << 20, 1ULL << 30 };

	return ref_scaled(s, sfx, mult, 4, true, out);
}

static int
ref_duration(const char *s, uint64_t *out)
{
	static const char *sfx[] = { "", "s", "ms", "m", "h" };
	static const uint64_t mult[] = { 1000, 1000, 1, 60000, 3600000 };

	return ref_scaled(s, sfx, mult, 5, false, out);
}

static void
check_size(const char *s)
{
	uint64_t got = 0x5a5a, want = 0;
	int rc = units_parse_size(s, &got), ref = ref_size(s, &want);

	FUZZ_CHECK(rc == ref);
	if (rc == 0)
		FUZZ_CHECK(got == want);
	else
		FUZZ_CHECK(got == 0x5a5a);
}

static void
check_duration(const char *s)
{
	uint64_t got = 0x5a5a, want = 0;
	int rc = units_parse_duration(s, &got), ref = ref_duration(s, &want);

	FUZZ_CHECK(rc == ref);
	if (rc == 0)
		FUZZ_CHECK(got == want);
	else
		FUZZ_CHECK(got == 0x5a5a);
}

/* s followed by suffix, in a buffer of exactly the right size. */
static char *
with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	char *p = malloc(a + b + 1);

	FUZZ_CHECK(p != NULL);
	memcpy(p, s, a);
	memcpy(p + a, suffix, b + 1);
	return p;
}

static void
fuzz_one(const unsigned char *data, size_t len)
{
	static const char *words[] = { "on", "yes", "true", "1", "off", "no",
	    "false", "0" };
	static const char *sizes[] = { "k", "K", "m", "M", "g", "G" };
	static const uint64_t sizemult[] = { 1ULL << 10, 1ULL << 10,
	    1ULL << 20, 1ULL << 20, 1ULL << 30, 1ULL << 30 };
	static const char *durs[] = { "ms", "s", "m", "h" };
	static const uint64_t durmult[] = { 1, 1000, 60000, 3600000 };
	const unsigned char *piece;
	const char *end;
	size_t pos = 0, n, i;
	uint64_t v, w, max, num;
	bool b = false, ref_b = false;
	int rc, ref;
	char *s;

	n = fuzz_split(data, len, &pos, '\0', &piece);
	s = fuzz_strdup(piece, n);

	check_size(s);
	check_duration(s);

	ref = -1;
	for (i = 0; i < 8; i++)
		if (strcasecmp(s, words[i]) == 0) {
			ref = 0;
			ref_b = i < 4;
		}
	rc = units_parse_bool(s, &b);
	FUZZ_CHECK(rc == ref);
	if (rc == 0)
		FUZZ_CHECK(b == ref_b);

	/* uint: with no bound, and bounded by the input's length */
	max = len % 2 ? UINT64_MAX : (uint64_t)len * 1000;
	ref = ref_digits(s, &end, &num) == 0 && *end == '\0' && num <= max ?
	    0 : -1;
	v = 77;
	rc = units_parse_uint(s, max, &v);
	FUZZ_CHECK(rc == ref);
	FUZZ_CHECK(rc == 0 ? v == num : v == 77);

	/* "<n>k" is n * 1024 if that fits, an error if not, never wrapped. */
	if (units_parse_uint(s, UINT64_MAX, &num) == 0) {
		for (i = 0; i < 6; i++) {
			char *k = with(s, sizes[i]);

			rc = units_parse_size(k, &v);
			if (__builtin_mul_overflow(num, sizemult[i], &w))
				FUZZ_CHECK(rc == -1);
			else
				FUZZ_CHECK(rc == 0 && v == w && v / sizemult[i] == num);
			free(k);
		}
		for (i = 0; i < 4; i++) {
			char *k = with(s, durs[i]);

			rc = units_parse_duration(k, &v);
			if (__builtin_mul_overflow(num, durmult[i], &w))
				FUZZ_CHECK(rc == -1);
			else
				FUZZ_CHECK(rc == 0 && v == w);
			free(k);
		}
		rc = units_parse_size(s, &v);
		FUZZ_CHECK(rc == 0 && v == num);
	}
	free(s);
}
