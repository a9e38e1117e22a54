/*
 * clientaddr: the client address a request is accounted to.  The
 * per-client limits key on it; behind a load balancer the TCP peer is the
 * balancer, so X-Forwarded-For is believed, but only when the peer is a
 * configured trusted proxy (anyone else could write any address there).
 * Addresses are numeric strings; IPv4-mapped IPv6 ("::ffff:1.2.3.4") is
 * treated as IPv4 throughout so a dual-stack socket and an IPv4 socket
 * agree on who a client is.
 * Pure functions, any thread, no allocation; the caller owns every buffer.
 */
#ifndef CLIENTADDR_H
#define CLIENTADDR_H

#include <stdbool.h>
#include <stddef.h>

#define CLIENTADDR_MAX_NETS	64	/* networks in a trust list */
#define CLIENTADDR_STRLEN	46	/* INET6_ADDRSTRLEN, with the NUL */
#define CLIENTADDR_XFF_MAX	8192	/* X-Forwarded-For bytes read */

struct clientaddr_net {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];	/* network order, host bits 0 */
	unsigned	 prefix;	/* bits: 0-32 or 0-128 */
};

struct clientaddr_trust {
	struct clientaddr_net net[CLIENTADDR_MAX_NETS];
	size_t		 n;
};

/* Parses a trust list such as "10.0.0.0/8, 192.168.1.5 ,::1, fd00::/8":
 * items separated by commas and/or white space (runs count as one), a bare
 * address meaning /32 or /128; "::ffff:a.b.c.d/n" with n >= 96 is the IPv4
 * network a.b.c.d/(n - 96).  An empty list trusts nobody.  Returns 0 and
 * fills *t, or -1 with *t untouched and a message naming the bad item in
 * err (errlen bytes, cut to fit; err may be NULL): a bad address or
 * prefix, or more than CLIENTADDR_MAX_NETS items. */
int	clientaddr_parse_trust(const char *list, struct clientaddr_trust *t,
	    char *err, size_t errlen);

/* Whether the numeric address a (IPv4, IPv6 or IPv4-mapped IPv6, no
 * brackets or port) is in one of t's networks.  False if a is not an
 * address or t is NULL.  IPv4 addresses match IPv4 networks only, IPv6
 * ones IPv6 only. */
bool	clientaddr_trusted(const struct clientaddr_trust *t, const char *a);

/* Writes to out (outlen >= CLIENTADDR_STRLEN bytes, NUL-terminated) the
 * address to account a request to, in inet_ntop form (IPv4-mapped shown
 * as IPv4).  peer is the numeric TCP peer, xff the X-Forwarded-For value or
 * NULL.  If the peer is not trusted, or xff is NULL or empty: the peer.
 * Otherwise xff's comma-separated entries ("1.2.3.4", "1.2.3.4:5678",
 * "2001:db8::1", "[2001:db8::1]:443", white space around each) are walked
 * from the right, skipping trusted ones as nginx's real_ip_recursive does:
 * the first untrusted entry, or the leftmost one if all are trusted.  If
 * that entry is not an address (garbage, "unknown", empty, too long): the
 * peer, since nothing else in the header can be believed either.  Only the
 * last CLIENTADDR_XFF_MAX bytes of xff are looked at (a bound on work per
 * request); an entry cut by that window is dropped.  A peer that is not an
 * address is copied as it is, cut to fit. */
void	clientaddr_resolve(const struct clientaddr_trust *t,
	    const char *peer, const char *xff, char *out, size_t outlen);

#endif
