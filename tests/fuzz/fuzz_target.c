/*
 * Fuzz harness: target, the request-target checks, the upstream URL and
 * the access log's redaction of presigned URLs.  Sources: src/target.c.
 *
 * Input: the first line is the upstream base URL, the rest (to the end,
 * or to a NUL byte) the request-target.
 */
#include <stdbool.h>
#include <strings.h>

#include "target.h"

#define FUZZ_NAME "target"
#include "fuzz.h"

static void
fuzz_init(void)
{
}

static bool
ref_validate(const char *t)
{
	size_t i;

	if (t[0] != '/')
		return false;
	for (i = 0; t[i] != '\0'; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return i <= TARGET_MAX;
}

static bool
secret(const char *name, size_t len)
{
	static const char *names[] = { "X-Amz-Signature",
	    "X-Amz-Security-Token", "Signature" };
	size_t i;

	for (i = 0; i < 3; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

/* Checks a redaction made with room for all: the path and '?' as they are,
 * then the parameters one for one, secret values replaced. */
static void
check_redacted(const char *t, const char *r)
{
	const char *q = strchr(t, '?');
	size_t plen = q != NULL ? (size_t)(q - t) + 1 : strlen(t);

	FUZZ_CHECK(strncmp(t, r, plen) == 0);
	if (q == NULL) {
		FUZZ_CHECK(r[plen] == '\0');
		return;
	}
	t += plen;
	r += plen;
	for (;;) {
		const char *te = t + strcspn(t, "&"), *re = r + strcspn(r, "&");
		const char *eq = memchr(t, '=', (size_t)(te - t));

		if (eq != NULL && secret(t, (size_t)(eq - t))) {
			size_t nl = (size_t)(eq - t) + 1;

			FUZZ_CHECK((size_t)(re - r) == nl + 8);
			FUZZ_CHECK(strncmp(t, r, nl) == 0);
			FUZZ_CHECK(strncmp(r + nl, "REDACTED", 8) == 0);
		} else {
			FUZZ_CHECK(te - t == re - r);
			FUZZ_CHECK(strncmp(t, r, (size_t)(te - t)) == 0);
		}
		FUZZ_CHECK(*te == *re);
		if (*te == '\0')
			break;
		t = te + 1;
		r = re + 1;
	}
}

static void
fuzz_one(const unsigned char *data, size_t len)
{
	const unsigned char *line;
	size_t pos = 0, n, tlen, blen, full, i;
	char *base, *t, *url, *big;
	const char *bpath;
	static const size_t caps[] = { 1, 2, 3, 9, 17, 64, 200 };

	n = fuzz_split(data, len, &pos, '\n', &line);
	base = fuzz_strdup(line, n);
	n = fuzz_split(data, len, &pos, '\0', &line);
	t = fuzz_strdup(line, n);
	tlen = strlen(t);

	FUZZ_CHECK(target_validate(t) == (ref_validate(t) ? 0 : -1));
	if (target_validate_base(base) == 0) {
		FUZZ_CHECK(strncasecmp(base, "http://", 7) == 0 ||
		    strncasecmp(base, "https://", 8) == 0);
		FUZZ_CHECK(strpbrk(base, "?# \t\r\n") == NULL);
	}

	/* base's path without its trailing '/', then the target byte for
	 * byte */
	url = target_upstream_path(base, t);
	FUZZ_CHECK(url != NULL);
	bpath = strstr(base, "://");
	bpath = bpath != NULL ? strchr(bpath + 3, '/') : NULL;
	blen = bpath != NULL ? strlen(bpath) : 0;
	while (blen > 0 && bpath[blen - 1] == '/')
		blen--;
	FUZZ_CHECK(strlen(url) == blen + tlen);
	FUZZ_CHECK(blen == 0 || memcmp(url, bpath, blen) == 0);
	FUZZ_CHECK(strcmp(url + blen, t) == 0);
	free(url);

	/* Room for everything: each secret value grows to 8 bytes at most. */
	full = tlen + 8 * (tlen / 2 + 1) + 1;
	big = malloc(full);
	FUZZ_CHECK(big != NULL);
	target_redact(t, big, full);
	FUZZ_CHECK(memchr(big, '\0', full) != NULL);
	check_redacted(t, big);

	/* Any smaller buffer: NUL-terminated within it, the same text cut. */
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]) + 2; i++) {
		size_t cap = i < sizeof(caps) / sizeof(caps[0]) ? caps[i] :
		    i == sizeof(caps) / sizeof(caps[0]) ? tlen + 1 :
		    strlen(big);
		size_t want = strlen(big) < cap - 1 ? strlen(big) : cap - 1;
		char *out;

		if (cap == 0)
			continue;
		out = malloc(cap);
		FUZZ_CHECK(out != NULL);
		memset(out, 'Z', cap);
		target_redact(t, out, cap);
		FUZZ_CHECK(memchr(out, '\0', cap) != NULL);
		FUZZ_CHECK(strlen(out) == want);
		FUZZ_CHECK(memcmp(out, big, want) == 0);
		free(out);
	}
	free(big);
	free(base);
	free(t);
}
