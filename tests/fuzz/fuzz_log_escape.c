/*
 * Fuzz harness: log_escape, the access log's escaping of client bytes.
 * Sources: src/log.c.
 *
 * Input: the bytes to escape (any, NUL included), escaped into buffers of
 * several sizes.  The output is printable ASCII without '"', and reading
 * its "\xHH" escapes back gives the longest prefix of the input that fits.
 */
#include <stdbool.h>

#include "log.h"

#define FUZZ_NAME "log_escape"
#include "fuzz.h"

static void
fuzz_init(void)
{
}

static bool
plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
check_cap(const unsigned char *in, size_t len, size_t cap)
{
	char *out = malloc(cap);
	size_t n, i, o, used;

	FUZZ_CHECK(out != NULL);
	memset(out, 'Z', cap);
	n = log_escape(out, cap, (const char *)in, len);
	FUZZ_CHECK(n < cap);
	FUZZ_CHECK(out[n] == '\0' && strlen(out) == n);
	for (o = 0; o < n; o++) {
		unsigned char c = (unsigned char)out[o];

		FUZZ_CHECK(c >= 0x20 && c <= 0x7e && c != '"');
	}
	/* Unescape, comparing with the input as we go. */
	for (o = 0, i = 0; o < n; i++) {
		int hi, lo;

		FUZZ_CHECK(i < len);
		if (out[o] != '\\') {
			FUZZ_CHECK(plain(in[i]) && out[o] == (char)in[i]);
			o++;
			continue;
		}
		FUZZ_CHECK(o + 3 < n && out[o + 1] == 'x');
		hi = hexval(out[o + 2]);
		lo = hexval(out[o + 3]);
		FUZZ_CHECK(hi >= 0 && lo >= 0);
		FUZZ_CHECK(!plain(in[i]) && in[i] == (hi << 4 | lo));
		o += 4;
	}
	/* Nothing dropped that would have fitted. */
	used = n;
	if (i < len)
		FUZZ_CHECK(used + (plain(in[i]) ? 1 : 4) >= cap);
	free(out);
}

static void
fuzz_one(const unsigned char *data, size_t len)
{
	static const size_t caps[] = { 1, 2, 4, 5, 6, 33, 256 };
	size_t i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		check_cap(data, len, caps[i]);
	check_cap(data, len, len + 1);
	check_cap(data, len, 4 * len + 1);	/* room for all */
	check_cap(data, len, 1 + (len > 0 ? data[0] : 0));
}
