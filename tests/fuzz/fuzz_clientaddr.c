/*
 * Fuzz harness: clientaddr, trusted-proxy lists and the X-Forwarded-For
 * walk.  Sources: src/clientaddr.c.
 *
 * Input: the first line is the trust list, the second the TCP peer, the
 * rest (to the end, or to a NUL byte) the X-Forwarded-For value.  The walk
 * is also run with that value behind a long run of trusted entries, so
 * that it starts inside the CLIENTADDR_XFF_MAX window at varying offsets.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>

#include "clientaddr.h"

#define FUZZ_NAME "clientaddr"
#include "fuzz.h"

static void
fuzz_init(void)
{
}

static bool
is_address(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* The peer in the form clientaddr_resolve() writes it. */
static void
peer_form(const char *peer, char *out)
{
	unsigned char b[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	if (strlen(peer) < CLIENTADDR_STRLEN && inet_pton(AF_INET, peer, b) == 1)
		inet_ntop(AF_INET, b, out, CLIENTADDR_STRLEN);
	else if (strlen(peer) < CLIENTADDR_STRLEN &&
	    inet_pton(AF_INET6, peer, b) == 1) {
		if (memcmp(b, mapped, 12) == 0)
			inet_ntop(AF_INET, b + 12, out, CLIENTADDR_STRLEN);
		else
			inet_ntop(AF_INET6, b, out, CLIENTADDR_STRLEN);
	} else
		snprintf(out, CLIENTADDR_STRLEN, "%s", peer);
}

static void
check_resolve(const struct clientaddr_trust *t, const char *peer,
    const char *xff)
{
	char *out = malloc(CLIENTADDR_STRLEN), pf[CLIENTADDR_STRLEN];

	FUZZ_CHECK(out != NULL);
	memset(out, 'Z', CLIENTADDR_STRLEN);
	clientaddr_resolve(t, peer, xff, out, CLIENTADDR_STRLEN);
	FUZZ_CHECK(memchr(out, '\0', CLIENTADDR_STRLEN) != NULL);
	FUZZ_CHECK(strlen(out) < CLIENTADDR_STRLEN);
	peer_form(peer, pf);
	/* The peer, or an address read from X-Forwarded-For. */
	FUZZ_CHECK(strcmp(out, pf) == 0 || is_address(out));
	/* Nobody but a trusted peer is believed. */
	if (!clientaddr_trusted(t, peer) || xff == NULL || xff[0] == '\0')
		FUZZ_CHECK(strcmp(out, pf) == 0);
	free(out);
}

static void
check_trust(const struct clientaddr_trust *t)
{
	size_t i, b;

	FUZZ_CHECK(t->n <= CLIENTADDR_MAX_NETS);
	for (i = 0; i < t->n; i++) {
		const struct clientaddr_net *n = &t->net[i];
		unsigned max = n->family == AF_INET ? 32 : 128;

		FUZZ_CHECK(n->family == AF_INET || n->family == AF_INET6);
		FUZZ_CHECK(n->prefix <= max);
		/* host bits cleared, unused bytes 0 */
		for (b = 0; b < 16; b++) {
			unsigned bits = b * 8 >= n->prefix ? 0 :
			    n->prefix - b * 8 >= 8 ? 8 : n->prefix - b * 8;
			unsigned char mask = (unsigned char)(0xff00 >> bits);

			FUZZ_CHECK((n->addr[b] & ~mask & 0xff) == 0);
		}
	}
}

static void
fuzz_one(const unsigned char *data, size_t len)
{
	struct clientaddr_trust t, before;
	const unsigned char *line;
	size_t pos = 0, n, xlen, plen, errlen;
	char *list, *peer, *xff, *padded, *err;
	int rc;

	n = fuzz_split(data, len, &pos, '\n', &line);
	list = fuzz_strdup(line, n);
	n = fuzz_split(data, len, &pos, '\n', &line);
	peer = fuzz_strdup(line, n);
	n = fuzz_split(data, len, &pos, '\0', &line);
	xff = fuzz_strdup(line, n);
	xlen = strlen(xff);

	/* An error message of any size is cut to fit. */
	errlen = 1 + len % 97;
	err = malloc(errlen);
	FUZZ_CHECK(err != NULL);
	memset(err, 'Z', errlen);
	memset(&t, 0xa5, sizeof(t));
	before = t;
	rc = clientaddr_parse_trust(list, &t, err, errlen);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_CHECK(memcmp(&t, &before, sizeof(t)) == 0);
		FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
		/* NULL err is allowed too */
		FUZZ_CHECK(clientaddr_parse_trust(list, &t, NULL, 0) == -1);
		memset(&t, 0, sizeof(t));
	} else
		check_trust(&t);
	free(err);

	/* Each network contains its own address (but for IPv6 networks in
	 * the IPv4-mapped range: their addresses are read as IPv4). */
	if (rc == 0 && t.n > 0 && (t.net[0].family == AF_INET ||
	    memcmp(t.net[0].addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) != 0)) {
		char a[CLIENTADDR_STRLEN];

		FUZZ_CHECK(inet_ntop(t.net[0].family, t.net[0].addr, a,
		    sizeof(a)) != NULL);
		FUZZ_CHECK(clientaddr_trusted(&t, a));
	}

	FUZZ_CHECK(!clientaddr_trusted(NULL, peer));
	check_resolve(&t, peer, xff);
	check_resolve(&t, peer, NULL);
	check_resolve(NULL, peer, xff);

	/* Behind trusted entries (the peer's own address, if it is one),
	 * the whole value a bit longer than the window. */
	if (clientaddr_trusted(&t, peer)) {
		size_t fill = CLIENTADDR_XFF_MAX + 1 + len % 61, o = 0;

		plen = strlen(peer);
		padded = malloc(fill + xlen + 1);
		FUZZ_CHECK(padded != NULL);
		while (o < fill) {
			size_t k = plen < fill - o ? plen : fill - o;

			memcpy(padded + o, peer, k);
			o += k;
			if (o < fill)
				padded[o++] = ',';
			if (o < fill)
				padded[o++] = ' ';
		}
		memcpy(padded + o, xff, xlen + 1);
		check_resolve(&t, peer, padded);
		free(padded);
	}
	free(list);
	free(peer);
	free(xff);
}
