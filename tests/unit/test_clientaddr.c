#include <criterion/criterion.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientaddr.h"

static struct clientaddr_trust
trust(const char *list)
{
	struct clientaddr_trust t;
	char err[256] = "";

	cr_assert_eq(clientaddr_parse_trust(list, &t, err, sizeof(err)), 0,
	    "%s: %s", list, err);
	return t;
}

static void
assert_resolves(const struct clientaddr_trust *t, const char *peer,
    const char *xff, const char *want)
{
	char out[CLIENTADDR_STRLEN];

	memset(out, 'X', sizeof(out));
	clientaddr_resolve(t, peer, xff, out, sizeof(out));
	cr_assert_str_eq(out, want, "peer %s xff %s", peer,
	    xff != NULL ? xff : "(null)");
}

Test(clientaddr, parse_v4_v6_cidr)
{
	struct clientaddr_trust t;
	char err[128] = "untouched";
	static const unsigned char v6[16] = {
		0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
	};
	static const unsigned char lo6[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};

	cr_assert_eq(clientaddr_parse_trust(
	    "10.0.0.0/8, 192.168.1.5 ,::1,\tfd00::/8", &t, err, sizeof(err)),
	    0);
	cr_assert_str_eq(err, "untouched");
	cr_assert_eq(t.n, 4);
	cr_assert_eq(t.net[0].family, AF_INET);
	cr_assert_eq(t.net[0].prefix, 8);
	cr_assert_eq(memcmp(t.net[0].addr, "\x0a\0\0\0", 4), 0);
	cr_assert_eq(t.net[1].family, AF_INET);
	cr_assert_eq(t.net[1].prefix, 32);
	cr_assert_eq(memcmp(t.net[1].addr, "\xc0\xa8\x01\x05", 4), 0);
	cr_assert_eq(t.net[2].family, AF_INET6);
	cr_assert_eq(t.net[2].prefix, 128);
	cr_assert_eq(memcmp(t.net[2].addr, lo6, 16), 0);
	cr_assert_eq(t.net[3].family, AF_INET6);
	cr_assert_eq(t.net[3].prefix, 8);
	cr_assert_eq(memcmp(t.net[3].addr, v6, 16), 0);
}

Test(clientaddr, parse_separators_and_host_bits)
{
	struct clientaddr_trust t;

	/* Runs of separators count as one; host bits are cleared. */
	t = trust(" ,10.1.2.3/8,, \n 172.16.0.0/12 , ");
	cr_assert_eq(t.n, 2);
	cr_assert_eq(memcmp(t.net[0].addr, "\x0a\0\0\0", 4), 0);
	cr_assert_eq(t.net[1].prefix, 12);
	cr_assert_eq(memcmp(t.net[1].addr, "\xac\x10\0\0", 4), 0);
	t = trust("10.0.0.0/0");
	cr_assert_eq(t.net[0].prefix, 0);
	cr_assert_eq(memcmp(t.net[0].addr, "\0\0\0\0", 4), 0);
	/* A mapped network is an IPv4 one. */
	t = trust("::ffff:10.0.0.0/104");
	cr_assert_eq(t.net[0].family, AF_INET);
	cr_assert_eq(t.net[0].prefix, 8);
	cr_assert_eq(memcmp(t.net[0].addr, "\x0a\0\0\0", 4), 0);
	t = trust("::ffff:10.1.2.3");
	cr_assert_eq(t.net[0].family, AF_INET);
	cr_assert_eq(t.net[0].prefix, 32);
	/* Shorter than the mapped range: stays an IPv6 network. */
	t = trust("::ffff:0.0.0.0/95");
	cr_assert_eq(t.net[0].family, AF_INET6);
	cr_assert_eq(t.net[0].prefix, 95);
	cr_assert(clientaddr_trusted(&t, "::fffe:0:1"));
	cr_assert_not(clientaddr_trusted(&t, "::fffd:ffff:ffff"));
}

Test(clientaddr, parse_empty)
{
	struct clientaddr_trust t;

	t.n = 7;
	cr_assert_eq(clientaddr_parse_trust("", &t, NULL, 0), 0);
	cr_assert_eq(t.n, 0);
	t.n = 7;
	cr_assert_eq(clientaddr_parse_trust(" , \t", &t, NULL, 0), 0);
	cr_assert_eq(t.n, 0);
	t.n = 7;
	cr_assert_eq(clientaddr_parse_trust(NULL, &t, NULL, 0), 0);
	cr_assert_eq(t.n, 0);
}

Test(clientaddr, parse_bad_prefix)
{
	struct clientaddr_trust t;
	char err[128];

	cr_assert_eq(clientaddr_parse_trust("1.2.3.4, 10.0.0.0/33", &t, err,
	    sizeof(err)), -1);
	cr_assert_str_eq(err,
	    "'10.0.0.0/33' is not an IPv4/IPv6 address or CIDR network");
	cr_assert_eq(clientaddr_parse_trust("::/129", &t, err, sizeof(err)),
	    -1);
	cr_assert_str_eq(err,
	    "'::/129' is not an IPv4/IPv6 address or CIDR network");
	cr_assert_eq(clientaddr_parse_trust("10.0.0.0/", &t, err, sizeof(err)),
	    -1);
	cr_assert_str_eq(err,
	    "'10.0.0.0/' is not an IPv4/IPv6 address or CIDR network");
	cr_assert_eq(clientaddr_parse_trust("10.0.0.0/-1", &t, NULL, 0), -1);
	cr_assert_eq(clientaddr_parse_trust("10.0.0.0/+8", &t, NULL, 0), -1);
	cr_assert_eq(clientaddr_parse_trust("10.0.0.0/08", &t, NULL, 0), -1);
	cr_assert_eq(clientaddr_parse_trust("10.0.0.0/8x", &t, NULL, 0), -1);
	cr_assert_eq(clientaddr_parse_trust("10.0.0.0/8/8", &t, NULL, 0), -1);
	cr_assert_eq(clientaddr_parse_trust("10.0.0.0/1000", &t, NULL, 0), -1);
	cr_assert_eq(clientaddr_parse_trust("/8", &t, NULL, 0), -1);
	cr_assert_eq(clientaddr_parse_trust("10.0.0.0/32", &t, NULL, 0), 0);
	cr_assert_eq(clientaddr_parse_trust("::/128", &t, NULL, 0), 0);
}

Test(clientaddr, parse_garbage_leaves_trust_alone)
{
	struct clientaddr_trust t;
	char err[128];
	char small[8];

	t = trust("10.0.0.0/8");
	cr_assert_eq(clientaddr_parse_trust("192.168.0.1 localhost", &t, err,
	    sizeof(err)), -1);
	cr_assert_str_eq(err,
	    "'localhost' is not an IPv4/IPv6 address or CIDR network");
	cr_assert_eq(t.n, 1);
	cr_assert_eq(t.net[0].prefix, 8);
	cr_assert_eq(clientaddr_parse_trust("10.0.0", &t, err, sizeof(err)),
	    -1);
	cr_assert_str_eq(err,
	    "'10.0.0' is not an IPv4/IPv6 address or CIDR network");
	cr_assert_eq(clientaddr_parse_trust("[::1]", &t, err, sizeof(err)), -1);
	cr_assert_str_eq(err,
	    "'[::1]' is not an IPv4/IPv6 address or CIDR network");
	cr_assert_eq(clientaddr_parse_trust("1.2.3.4;5.6.7.8", &t, err,
	    sizeof(err)), -1);
	cr_assert_str_eq(err,
	    "'1.2.3.4;5.6.7.8' is not an IPv4/IPv6 address or CIDR network");
	/* The message is cut to fit. */
	cr_assert_eq(clientaddr_parse_trust("bogus", &t, small, sizeof(small)),
	    -1);
	cr_assert_str_eq(small, "'bogus'");
}

Test(clientaddr, parse_long_item_quoted_short)
{
	struct clientaddr_trust t;
	char list[200], err[256], want[256];

	memset(list, 'a', 199);
	list[199] = '\0';
	cr_assert_eq(clientaddr_parse_trust(list, &t, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "'%.64s...' is not an IPv4/IPv6 address "
	    "or CIDR network", list);
	cr_assert_str_eq(err, want);
}

Test(clientaddr, parse_too_many)
{
	struct clientaddr_trust t;
	char list[2048], err[128];
	size_t i, off = 0;

	for (i = 0; i < CLIENTADDR_MAX_NETS; i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off,
		    "10.0.%zu.0/24,", i);
	cr_assert_eq(clientaddr_parse_trust(list, &t, err, sizeof(err)), 0);
	cr_assert_eq(t.n, CLIENTADDR_MAX_NETS);
	cr_assert(clientaddr_trusted(&t, "10.0.63.9"));
	snprintf(list + off, sizeof(list) - off, " 10.9.9.9");
	cr_assert_eq(clientaddr_parse_trust(list, &t, err, sizeof(err)), -1);
	cr_assert_str_eq(err,
	    "'10.9.9.9': more than 64 trusted proxy networks");
	cr_assert_eq(t.n, CLIENTADDR_MAX_NETS);
}

Test(clientaddr, trusted_v4_prefix_boundaries)
{
	struct clientaddr_trust t = trust("10.0.0.0/8");

	cr_assert(clientaddr_trusted(&t, "10.0.0.0"));
	cr_assert(clientaddr_trusted(&t, "10.255.255.255"));
	cr_assert_not(clientaddr_trusted(&t, "11.0.0.0"));
	cr_assert_not(clientaddr_trusted(&t, "9.255.255.255"));

	/* /13: 172.16.0.0 - 172.23.255.255 */
	t = trust("172.17.0.0/13");
	cr_assert(clientaddr_trusted(&t, "172.16.0.0"));
	cr_assert(clientaddr_trusted(&t, "172.23.255.255"));
	cr_assert_not(clientaddr_trusted(&t, "172.24.0.0"));
	cr_assert_not(clientaddr_trusted(&t, "172.15.255.255"));

	t = trust("192.168.1.5");
	cr_assert(clientaddr_trusted(&t, "192.168.1.5"));
	cr_assert_not(clientaddr_trusted(&t, "192.168.1.4"));
	cr_assert_not(clientaddr_trusted(&t, "192.168.1.6"));

	/* /31 and /1 */
	t = trust("192.168.1.4/31");
	cr_assert(clientaddr_trusted(&t, "192.168.1.4"));
	cr_assert(clientaddr_trusted(&t, "192.168.1.5"));
	cr_assert_not(clientaddr_trusted(&t, "192.168.1.6"));
	cr_assert_not(clientaddr_trusted(&t, "192.168.1.3"));
	t = trust("128.0.0.0/1");
	cr_assert(clientaddr_trusted(&t, "200.1.1.1"));
	cr_assert_not(clientaddr_trusted(&t, "127.255.255.255"));
}

Test(clientaddr, trusted_zero_prefix)
{
	struct clientaddr_trust t = trust("0.0.0.0/0");

	cr_assert(clientaddr_trusted(&t, "0.0.0.0"));
	cr_assert(clientaddr_trusted(&t, "255.255.255.255"));
	cr_assert(clientaddr_trusted(&t, "::ffff:8.8.8.8"));
	/* Families do not mix: an IPv4 /0 is not every IPv6 address. */
	cr_assert_not(clientaddr_trusted(&t, "::1"));
	t = trust("::/0");
	cr_assert(clientaddr_trusted(&t, "2001:db8::1"));
	cr_assert(clientaddr_trusted(&t, "::"));
	cr_assert_not(clientaddr_trusted(&t, "8.8.8.8"));
}

Test(clientaddr, trusted_v6)
{
	struct clientaddr_trust t = trust("fd00::/8, 2001:db8::/127, ::1");

	cr_assert(clientaddr_trusted(&t, "fd12:3456::1"));
	cr_assert(clientaddr_trusted(&t,
	    "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	cr_assert_not(clientaddr_trusted(&t, "fe00::"));
	cr_assert_not(clientaddr_trusted(&t, "fc00::1"));
	cr_assert(clientaddr_trusted(&t, "2001:db8::"));
	cr_assert(clientaddr_trusted(&t, "2001:db8::1"));
	cr_assert(clientaddr_trusted(&t, "2001:DB8:0:0:0:0:0:1"));
	cr_assert_not(clientaddr_trusted(&t, "2001:db8::2"));
	cr_assert_not(clientaddr_trusted(&t, "2001:db8::1:0"));
	cr_assert(clientaddr_trusted(&t, "::1"));
	cr_assert_not(clientaddr_trusted(&t, "::2"));
	cr_assert_not(clientaddr_trusted(&t, "127.0.0.1"));
}

Test(clientaddr, trusted_mapped)
{
	struct clientaddr_trust t = trust("10.0.0.0/8, ::ffff:192.168.0.0/112");

	cr_assert(clientaddr_trusted(&t, "::ffff:10.1.2.3"));
	cr_assert(clientaddr_trusted(&t, "::FFFF:10.1.2.3"));
	cr_assert(clientaddr_trusted(&t, "::ffff:a01:203"));
	cr_assert_not(clientaddr_trusted(&t, "::ffff:11.0.0.0"));
	cr_assert(clientaddr_trusted(&t, "192.168.77.1"));
	cr_assert(clientaddr_trusted(&t, "::ffff:192.168.77.1"));
	cr_assert_not(clientaddr_trusted(&t, "192.169.0.0"));
	/* IPv4-compatible (deprecated) is not mapped. */
	cr_assert_not(clientaddr_trusted(&t, "::10.1.2.3"));
}

Test(clientaddr, trusted_refuses_non_addresses)
{
	struct clientaddr_trust t = trust("0.0.0.0/0, ::/0");

	cr_assert_not(clientaddr_trusted(&t, NULL));
	cr_assert_not(clientaddr_trusted(&t, ""));
	cr_assert_not(clientaddr_trusted(&t, "unknown"));
	cr_assert_not(clientaddr_trusted(&t, "10.0.0.1:80"));
	cr_assert_not(clientaddr_trusted(&t, "[::1]"));
	cr_assert_not(clientaddr_trusted(&t, " 10.0.0.1"));
	cr_assert_not(clientaddr_trusted(&t, "10.0.0.256"));
	cr_assert_not(clientaddr_trusted(NULL, "10.0.0.1"));
	/* One byte over the longest address (under ASan: no overrun). */
	cr_assert_not(clientaddr_trusted(&t,
	    "0000:0000:0000:0000:0000:ffff:255.255.255.2550"));
	cr_assert(clientaddr_trusted(&t,
	    "0000:0000:0000:0000:0000:ffff:255.255.255.255"));
	t = trust("");
	cr_assert_not(clientaddr_trusted(&t, "10.0.0.1"));
}

Test(clientaddr, resolve_untrusted_peer_ignores_xff)
{
	struct clientaddr_trust t = trust("10.0.0.0/8");

	assert_resolves(&t, "203.0.113.7", "1.2.3.4", "203.0.113.7");
	assert_resolves(&t, "203.0.113.7", "10.0.0.1", "203.0.113.7");
	t = trust("");
	assert_resolves(&t, "10.0.0.1", "1.2.3.4", "10.0.0.1");
}

Test(clientaddr, resolve_no_xff_gives_peer)
{
	struct clientaddr_trust t = trust("10.0.0.0/8");

	assert_resolves(&t, "10.0.0.1", NULL, "10.0.0.1");
	assert_resolves(&t, "10.0.0.1", "", "10.0.0.1");
	assert_resolves(&t, "10.0.0.1", "   ", "10.0.0.1");
}

Test(clientaddr, resolve_normalises_peer)
{
	struct clientaddr_trust t = trust("10.0.0.0/8");

	assert_resolves(&t, "::ffff:203.0.113.7", NULL, "203.0.113.7");
	assert_resolves(&t, "2001:DB8:0:0:0:0:0:1", NULL, "2001:db8::1");
	/* A trusted mapped peer is trusted. */
	assert_resolves(&t, "::ffff:10.0.0.1", "1.2.3.4", "1.2.3.4");
	/* Not an address: kept as is. */
	assert_resolves(&t, "unix", "1.2.3.4", "unix");
}

Test(clientaddr, resolve_trusted_peer_single_entry)
{
	struct clientaddr_trust t = trust("10.0.0.0/8");

	assert_resolves(&t, "10.0.0.1", "203.0.113.7", "203.0.113.7");
	assert_resolves(&t, "10.0.0.1", "2001:db8::7", "2001:db8::7");
	assert_resolves(&t, "10.0.0.1", "::ffff:203.0.113.7", "203.0.113.7");
	assert_resolves(&t, "10.0.0.1", "2001:0db8:0000::0007", "2001:db8::7");
}

Test(clientaddr, resolve_takes_rightmost_untrusted)
{
	struct clientaddr_trust t = trust("10.0.0.0/8");

	/* The client may forge the left part; only the right is vouched for. */
	assert_resolves(&t, "10.0.0.1", "6.6.6.6, 203.0.113.7",
	    "203.0.113.7");
	assert_resolves(&t, "10.0.0.1", "unknown, 203.0.113.7",
	    "203.0.113.7");
}

Test(clientaddr, resolve_recursive_skips_trusted)
{
	struct clientaddr_trust t = trust("10.0.0.0/8, fd00::/8");

	assert_resolves(&t, "10.0.0.1",
	    "6.6.6.6, 203.0.113.7, 10.1.1.1, fd00::5, 10.2.2.2",
	    "203.0.113.7");
	assert_resolves(&t, "10.0.0.1", "198.51.100.1,10.9.9.9",
	    "198.51.100.1");
	assert_resolves(&t, "10.0.0.1", "198.51.100.1, ::ffff:10.9.9.9",
	    "198.51.100.1");
}

Test(clientaddr, resolve_all_trusted_gives_leftmost)
{
	struct clientaddr_trust t = trust("10.0.0.0/8, fd00::/8");

	assert_resolves(&t, "10.0.0.1", "10.3.3.3, 10.2.2.2, 10.1.1.1",
	    "10.3.3.3");
	assert_resolves(&t, "10.0.0.1", "[fd00::3]:80, 10.2.2.2", "fd00::3");
	assert_resolves(&t, "10.0.0.1", "10.0.0.1", "10.0.0.1");
}

Test(clientaddr, resolve_ports_and_brackets)
{
	struct clientaddr_trust t = trust("10.0.0.0/8");

	assert_resolves(&t, "10.0.0.1", "203.0.113.7:5678", "203.0.113.7");
	assert_resolves(&t, "10.0.0.1", "[2001:db8::1]:443", "2001:db8::1");
	assert_resolves(&t, "10.0.0.1", "[2001:db8::1]", "2001:db8::1");
	assert_resolves(&t, "10.0.0.1", "[::ffff:203.0.113.7]:1",
	    "203.0.113.7");
	assert_resolves(&t, "10.0.0.1", "203.0.113.7, 10.1.1.1:80",
	    "203.0.113.7");
	assert_resolves(&t, "10.0.0.1", "203.0.113.7:65535", "203.0.113.7");
	/* Malformed ports and brackets are garbage. */
	assert_resolves(&t, "10.0.0.1", "203.0.113.7:65536", "10.0.0.1");
	assert_resolves(&t, "10.0.0.1", "203.0.113.7:", "10.0.0.1");
	assert_resolves(&t, "10.0.0.1", "203.0.113.7:http", "10.0.0.1");
	assert_resolves(&t, "10.0.0.1", "[2001:db8::1", "10.0.0.1");
	assert_resolves(&t, "10.0.0.1", "[2001:db8::1]443", "10.0.0.1");
	assert_resolves(&t, "10.0.0.1", "[203.0.113.7]:80", "10.0.0.1");
	assert_resolves(&t, "10.0.0.1", "2001:db8::1:443", "2001:db8::1:443");
	assert_resolves(&t, "10.0.0.1", "2001:db8::1]:443", "10.0.0.1");
}

Test(clientaddr, resolve_garbage_gives_peer)
{
	struct clientaddr_trust t = trust("10.0.0.0/8");

	assert_resolves(&t, "10.0.0.2", "unknown", "10.0.0.2");
	assert_resolves(&t, "10.0.0.2", "1.2.3.4, unknown", "10.0.0.2");
	assert_resolves(&t, "10.0.0.2", "1.2.3.4, unknown, 10.1.1.1",
	    "10.0.0.2");
	assert_resolves(&t, "10.0.0.2", "1.2.3.4,", "10.0.0.2");
	assert_resolves(&t, "10.0.0.2", "1.2.3.4, , 10.1.1.1", "10.0.0.2");
	assert_resolves(&t, "10.0.0.2", "1.2.3", "10.0.0.2");
	assert_resolves(&t, "10.0.0.2", "1.2.3.4 5.6.7.8", "10.0.0.2");
	assert_resolves(&t, "10.0.0.2", "1.2.3.4\r\n", "10.0.0.2");
	assert_resolves(&t, "10.0.0.2", "_hidden", "10.0.0.2");
	assert_resolves(&t, "10.0.0.2", "fe80::1%eth0", "10.0.0.2");
	/* Too long to be an address, even if it starts like one. */
	assert_resolves(&t, "10.0.0.2",
	    "2001:0db8:0000:0000:0000:0000:0000:0001:0000:0000", "10.0.0.2");
	/* The longest spelling of an address (45 bytes) is one. */
	assert_resolves(&t, "10.0.0.2",
	    "0000:0000:0000:0000:0000:ffff:203.0.113.7",
	    "203.0.113.7");
	assert_resolves(&t, "10.0.0.2",
	    "0000:0000:0000:0000:0000:ffff:255.255.255.255",
	    "255.255.255.255");
	/* Garbage left of the client does not matter. */
	assert_resolves(&t, "10.0.0.2", "unknown, 203.0.113.7",
	    "203.0.113.7");
}

Test(clientaddr, resolve_whitespace)
{
	struct clientaddr_trust t = trust("10.0.0.0/8");

	assert_resolves(&t, "10.0.0.1", "  203.0.113.7  ", "203.0.113.7");
	assert_resolves(&t, "10.0.0.1", "\t203.0.113.7\t,\t10.1.1.1 ",
	    "203.0.113.7");
	assert_resolves(&t, "10.0.0.1", "1.1.1.1 ,203.0.113.7,10.1.1.1",
	    "203.0.113.7");
	assert_resolves(&t, "10.0.0.1", " [2001:db8::1]:443 ", "2001:db8::1");
}

Test(clientaddr, resolve_very_long_header)
{
	struct clientaddr_trust t = trust("10.0.0.0/8, 2001:db8::/32");
	size_t n = 100000, len;
	char *xff;

	xff = malloc(n + 64);
	cr_assert_not_null(xff);

	/* A huge forged left part does not matter. */
	memset(xff, 'a', n);
	strcpy(xff + n, ", 203.0.113.7, 10.1.1.1");
	assert_resolves(&t, "10.0.0.1", xff, "203.0.113.7");

	/* Only the last 8192 bytes are read: a client out of the window is
	 * not found, and the leftmost whole trusted entry in it is used. */
	len = 0;
	while (len < CLIENTADDR_XFF_MAX + 100) {
		memcpy(xff + len, "10.0.0.9,", 9);
		len += 9;
	}
	xff[len - 1] = '\0';
	memcpy(xff, "6.6.6.6, ", 9);
	assert_resolves(&t, "10.0.0.1", xff, "10.0.0.9");

	/* The window cuts "2001:db8::99" to "db8::99", itself an (untrusted)
	 * address: it must be dropped, not taken for the client. */
	memcpy(xff, "2001:db8::99,", 13);
	len = 13;
	memset(xff + len, ' ', CLIENTADDR_XFF_MAX - 19);
	len += CLIENTADDR_XFF_MAX - 19;
	strcpy(xff + len, "2001:db8::1");
	len = strlen(xff);
	cr_assert_eq(len, CLIENTADDR_XFF_MAX + 5);
	assert_resolves(&t, "10.0.0.1", xff, "2001:db8::1");

	/* The window starts right after a comma: its first entry is whole. */
	memset(xff, ' ', n);
	memcpy(xff, "6.6.6.6,", 8);
	memcpy(xff + 8, "7.7.7.7", 7);
	xff[8 + CLIENTADDR_XFF_MAX] = '\0';
	assert_resolves(&t, "10.0.0.1", xff, "7.7.7.7");
	/* One byte more and "7.7.7.7" is cut: nothing whole is left. */
	xff[8 + CLIENTADDR_XFF_MAX] = ' ';
	xff[9 + CLIENTADDR_XFF_MAX] = '\0';
	assert_resolves(&t, "10.0.0.1", xff, "10.0.0.1");

	/* A single entry bigger than the window: the peer. */
	memset(xff, '1', n);
	xff[n] = '\0';
	assert_resolves(&t, "10.0.0.1", xff, "10.0.0.1");
	free(xff);
}

Test(clientaddr, resolve_output_is_always_terminated)
{
	struct clientaddr_trust t = trust("10.0.0.0/8");
	char out[CLIENTADDR_STRLEN];
	char peer[100];

	memset(peer, 'p', sizeof(peer) - 1);
	peer[sizeof(peer) - 1] = '\0';
	clientaddr_resolve(&t, peer, NULL, out, sizeof(out));
	cr_assert_eq(strlen(out), sizeof(out) - 1);
	clientaddr_resolve(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL,
	    out, sizeof(out));
	cr_assert_str_eq(out, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	clientaddr_resolve(&t, "10.0.0.1",
	    "0:0:0:0:0:ffff:255.255.255.255", out, sizeof(out));
	cr_assert_str_eq(out, "255.255.255.255");
}
