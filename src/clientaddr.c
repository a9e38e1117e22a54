/*
 * clientaddr: trusted proxy networks and the X-Forwarded-For walk.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "clientaddr.h"

/* Longest item quoted in an error message; a pasted blob stays readable. */
#define ERR_ITEM_MAX	64

struct ipaddr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 b[16];		/* network order */
};

static bool
is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* HTTP optional white space around list elements (RFC 9110 OWS). */
static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_mapped(const unsigned char *b)
{
	static const unsigned char pfx[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	return memcmp(b, pfx, sizeof(pfx)) == 0;
}

/* Parses the len bytes at s as an IPv4 or IPv6 address as inet_pton(3)
 * spells them: no brackets, ports, zones or white space. */
static int
addr_parse_raw(const char *s, size_t len, struct ipaddr *a)
{
	char buf[CLIENTADDR_STRLEN];

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(a->b, 0, sizeof(a->b));
	if (inet_pton(AF_INET, buf, a->b) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, a->b) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

/* As addr_parse_raw(), with IPv4-mapped IPv6 turned into IPv4 so that one
 * client has one key whichever socket family it came in on. */
static int
addr_parse(const char *s, size_t len, struct ipaddr *a)
{
	if (addr_parse_raw(s, len, a) == -1)
		return -1;
	if (a->family == AF_INET6 && is_mapped(a->b)) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, sizeof(a->b) - 4);
		a->family = AF_INET;
	}
	return 0;
}

/* Decimal prefix length no larger than max; no sign, no leading zeros
 * (they suggest a typo, and "/010" reads as octal to some). */
static int
prefix_parse(const char *s, size_t len, unsigned max, unsigned *prefix)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*prefix = v;
	return 0;
}

/* One trust list item: address or address/prefix.  Host bits set below
 * the prefix are allowed ("10.1.2.3/8", as nginx does) and cleared. */
static int
net_parse(const char *s, size_t len, struct clientaddr_net *n)
{
	struct ipaddr a;
	const char *slash;
	size_t alen;
	unsigned max, prefix, i;

	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;
	if (addr_parse_raw(s, alen, &a) == -1)
		return -1;
	max = a.family == AF_INET ? 32 : 128;
	prefix = max;
	if (slash != NULL && prefix_parse(slash + 1, len - alen - 1, max,
	    &prefix) == -1)
		return -1;
	/* Mapped addresses are matched as IPv4, so a network inside the
	 * mapped range must be an IPv4 one to ever match; a shorter prefix
	 * reaches outside that range and stays IPv6. */
	if (a.family == AF_INET6 && is_mapped(a.b) && prefix >= 96) {
		memmove(a.b, a.b + 12, 4);
		memset(a.b + 4, 0, sizeof(a.b) - 4);
		a.family = AF_INET;
		prefix -= 96;
	}
	n->family = a.family;
	n->prefix = prefix;
	memset(n->addr, 0, sizeof(n->addr));
	for (i = 0; i < prefix / 8; i++)
		n->addr[i] = a.b[i];
	if (prefix % 8 != 0)
		n->addr[i] = a.b[i] & (unsigned char)(0xff << (8 - prefix % 8));
	return 0;
}

static bool
net_contains(const struct clientaddr_net *n, const struct ipaddr *a)
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;
	unsigned char mask;

	if (n->family != a->family)
		return false;
	if (memcmp(n->addr, a->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a->b[full] & mask) == n->addr[full];
}

static bool
trusted_addr(const struct clientaddr_trust *t, const struct ipaddr *a)
{
	size_t i;

	if (t == NULL)
		return false;
	for (i = 0; i < t->n && i < CLIENTADDR_MAX_NETS; i++)
		if (net_contains(&t->net[i], a))
			return true;
	return false;
}

int
clientaddr_parse_trust(const char *list, struct clientaddr_trust *t,
    char *err, size_t errlen)
{
	struct clientaddr_trust nt;
	const char *p, *item;
	size_t len;
	int qlen;

	/* Built aside so that a bad list leaves the caller's (say, the
	 * configuration in use before a reload) as it was. */
	memset(&nt, 0, sizeof(nt));
	p = list != NULL ? list : "";
	for (;;) {
		while (is_sep(*p))
			p++;
		if (*p == '\0')
			break;
		item = p;
		while (*p != '\0' && !is_sep(*p))
			p++;
		len = (size_t)(p - item);
		qlen = len > ERR_ITEM_MAX ? ERR_ITEM_MAX : (int)len;
		if (nt.n == CLIENTADDR_MAX_NETS) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "'%.*s%s': more than %d "
				    "trusted proxy networks", qlen, item,
				    len > ERR_ITEM_MAX ? "..." : "",
				    CLIENTADDR_MAX_NETS);
			return -1;
		}
		if (net_parse(item, len, &nt.net[nt.n]) == -1) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "'%.*s%s' is not an "
				    "IPv4/IPv6 address or CIDR network", qlen,
				    item, len > ERR_ITEM_MAX ? "..." : "");
			return -1;
		}
		nt.n++;
	}
	*t = nt;
	return 0;
}

bool
clientaddr_trusted(const struct clientaddr_trust *t, const char *a)
{
	struct ipaddr ia;

	if (a == NULL || addr_parse(a, strlen(a), &ia) == -1)
		return false;
	return trusted_addr(t, &ia);
}

/* ":port" tail of an X-Forwarded-For entry: 1-5 digits, at most 65535. */
static int
port_check(const char *s, size_t len)
{
	unsigned v = 0;
	size_t i;

	if (len < 2 || len > 6 || s[0] != ':')
		return -1;
	for (i = 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= 65535 ? 0 : -1;
}

/* One X-Forwarded-For entry with its white space: "1.2.3.4",
 * "1.2.3.4:5678", "2001:db8::1", "[2001:db8::1]" or "[2001:db8::1]:443".
 * A single colon means IPv4 with a port; more mean bare IPv6. */
static int
entry_parse(const char *s, size_t len, struct ipaddr *a)
{
	const char *c, *rb;

	while (len > 0 && is_ows(s[0])) {
		s++;
		len--;
	}
	while (len > 0 && is_ows(s[len - 1]))
		len--;
	if (len == 0)
		return -1;
	if (s[0] == '[') {
		rb = memchr(s, ']', len);
		if (rb == NULL)
			return -1;
		if (addr_parse_raw(s + 1, (size_t)(rb - s - 1), a) == -1 ||
		    a->family != AF_INET6)
			return -1;
		if ((size_t)(rb + 1 - s) != len &&
		    port_check(rb + 1, len - (size_t)(rb + 1 - s)) == -1)
			return -1;
		/* Parse again for the mapped-to-IPv4 folding. */
		return addr_parse(s + 1, (size_t)(rb - s - 1), a);
	}
	c = memchr(s, ':', len);
	if (c != NULL &&
	    memchr(c + 1, ':', len - (size_t)(c + 1 - s)) == NULL) {
		if (port_check(c, len - (size_t)(c - s)) == -1 ||
		    addr_parse_raw(s, (size_t)(c - s), a) == -1 ||
		    a->family != AF_INET)
			return -1;
		return 0;
	}
	return addr_parse(s, len, a);
}

static void
put_addr(char *out, size_t outlen, const struct ipaddr *a)
{
	char buf[CLIENTADDR_STRLEN];

	if (inet_ntop(a->family, a->b, buf, sizeof(buf)) == NULL)
		buf[0] = '\0';
	snprintf(out, outlen, "%s", buf);
}

void
clientaddr_resolve(const struct clientaddr_trust *t, const char *peer,
    const char *xff, char *out, size_t outlen)
{
	struct ipaddr pa, a, left;
	const char *start, *end, *p;
	size_t len;

	if (out == NULL || outlen == 0)
		return;
	if (peer == NULL)
		peer = "";
	if (addr_parse(peer, strlen(peer), &pa) == -1) {
		snprintf(out, outlen, "%s", peer);
		return;
	}
	if (!trusted_addr(t, &pa) || xff == NULL || *xff == '\0') {
		put_addr(out, outlen, &pa);
		return;
	}

	len = strlen(xff);
	start = xff;
	end = xff + len;
	if (len > CLIENTADDR_XFF_MAX) {
		start = end - CLIENTADDR_XFF_MAX;
		/* The window may begin inside an entry, and a tail such as
		 * "db8::1" of "2001:db8::1" is an address too: skip it. */
		if (start[-1] != ',') {
			while (start < end && *start != ',')
				start++;
			if (start == end) {
				put_addr(out, outlen, &pa);
				return;
			}
			start++;
		}
	}

	/* The rightmost entries were appended by our trusted proxies; the
	 * first one they did not vouch for is the client. */
	left = pa;
	for (;;) {
		p = end;
		while (p > start && p[-1] != ',')
			p--;
		if (entry_parse(p, (size_t)(end - p), &a) == -1) {
			put_addr(out, outlen, &pa);
			return;
		}
		if (!trusted_addr(t, &a)) {
			put_addr(out, outlen, &a);
			return;
		}
		left = a;
		if (p == start)
			break;
		end = p - 1;
	}
	put_addr(out, outlen, &left);
}
