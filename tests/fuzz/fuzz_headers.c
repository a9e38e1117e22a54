/*
 * Fuzz harness: headers, which fields cross the proxy (Connection token
 * lists).  Sources: src/headers.c.
 *
 * Input: the first line is the Connection field value, each further line
 * a field name.  Each name is tested as a length-delimited buffer (not
 * NUL-terminated) and as a string, with that Connection value and none.
 */
#include <stdbool.h>
#include <strings.h>

#include "headers.h"

#define FUZZ_NAME "headers"
#include "fuzz.h"

static void
fuzz_init(void)
{
}

static const char *fixed_hop[] = { "Connection", "Proxy-Connection",
    "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade" };
static const char *proxy_sets[] = { "Host", "Content-Length",
    "X-Forwarded-For", "X-Forwarded-Proto" };

static bool
same_name(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y || x == '\0')
			return false;
	}
	return true;
}

static bool
in_fixed(const char *name, size_t len, const char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same_name(name, len, list[i], strlen(list[i])))
			return true;
	return false;
}

/* Reference reading of a Connection value: comma-separated tokens,
 * white space (SP, HTAB) around each ignored, empty elements skipped. */
static bool
ref_in_connection(const char *name, size_t len, const char *conn)
{
	const char *p = conn;

	if (conn == NULL)
		return false;
	for (;;) {
		const char *e = strchr(p, ','), *b = p;
		size_t n;

		if (e == NULL)
			e = p + strlen(p);
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		n = (size_t)(e - b);
		while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t'))
			n--;
		if (n > 0 && same_name(b, n, name, len))
			return true;
		if (*e == '\0')
			return false;
		p = e + 1;
	}
}

static void
check_name(const char *name, size_t len, const char *conn)
{
	bool hop, req, resp, ref_hop;

	hop = headers_is_hop_by_hop(name, len, conn);
	ref_hop = in_fixed(name, len, fixed_hop, 7) ||
	    ref_in_connection(name, len, conn);
	FUZZ_CHECK(hop == ref_hop);
	resp = headers_skip_response(name, len, conn);
	FUZZ_CHECK(resp == (hop || same_name(name, len, "Content-Length", 14)));
	if (memchr(name, '\0', len) == NULL) {
		char *z = fuzz_strdup(name, len);

		req = headers_skip_request(z, conn);
		FUZZ_CHECK(req == (hop || in_fixed(name, len, proxy_sets, 4)));
		free(z);
	}
}

static void
fuzz_one(const unsigned char *data, size_t len)
{
	const unsigned char *line;
	size_t pos = 0, n;
	char *conn;

	n = fuzz_split(data, len, &pos, '\n', &line);
	conn = fuzz_strdup(line, n);
	/* Each token of the Connection value names itself hop-by-hop. */
	check_name(conn, strlen(conn), conn);
	while (pos < len) {
		char *name;

		n = fuzz_split(data, len, &pos, '\n', &line);
		name = fuzz_dup(line, n);
		check_name(name, n, conn);
		check_name(name, n, NULL);
		free(name);
	}
	free(conn);
}
