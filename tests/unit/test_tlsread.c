#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tlsread.h"

/* A non-blocking stream pair: the test writes on w, reads r through
 * tlsread, as GnuTLS's pull function does. */
static int r = -1, w = -1;

static void
setup(void)
{
	int sv[2];

	cr_assert_eq(tlsread_init(4096), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	r = sv[0];
	w = sv[1];
	cr_assert_eq(fcntl(r, F_SETFL, O_NONBLOCK), 0);
}

static void
teardown(void)
{
	tlsread_forget(r);
	close(r);
	close(w);
	tlsread_free();
}

TestSuite(tlsread, .init = setup, .fini = teardown);

/* GnuTLS reads a record header, then its body: one recv() serves both,
 * and the bytes come out in order. */
Test(tlsread, serves_small_reads_from_one_recv)
{
	char buf[64];

	cr_assert_eq(write(w, "HEADERbody-of-record", 20), 20);
	cr_assert_eq(tlsread_recv(r, buf, 6), 6);
	cr_assert_eq(memcmp(buf, "HEADER", 6), 0);
	cr_assert_eq(tlsread_held(r), 14);
	/* Written after the read-ahead: must wait behind the held bytes. */
	cr_assert_eq(write(w, "NEXT", 4), 4);
	cr_assert_eq(tlsread_recv(r, buf, sizeof(buf)), 14);
	cr_assert_eq(memcmp(buf, "body-of-record", 14), 0);
	cr_assert_eq(tlsread_held(r), 0);
	cr_assert_eq(tlsread_recv(r, buf, sizeof(buf)), 4);
	cr_assert_eq(memcmp(buf, "NEXT", 4), 0);
}

/* EAGAIN only when nothing is held and the socket is drained: what an
 * edge-triggered reader needs to see every byte. */
Test(tlsread, again_only_when_empty)
{
	char buf[8];

	errno = 0;
	cr_assert_eq(tlsread_recv(r, buf, sizeof(buf)), -1);
	cr_assert_eq(errno, EAGAIN);
	cr_assert_eq(write(w, "0123456789", 10), 10);
	cr_assert_eq(tlsread_recv(r, buf, 5), 5);
	cr_assert_eq(tlsread_recv(r, buf, 5), 5);
	cr_assert_eq(memcmp(buf, "56789", 5), 0);
	errno = 0;
	cr_assert_eq(tlsread_recv(r, buf, sizeof(buf)), -1);
	cr_assert_eq(errno, EAGAIN);
}

/* The end of the stream comes after the held bytes, not before. */
Test(tlsread, end_after_held_bytes)
{
	char buf[8];

	cr_assert_eq(write(w, "abcdef", 6), 6);
	shutdown(w, SHUT_WR);
	cr_assert_eq(tlsread_recv(r, buf, 2), 2);
	cr_assert_eq(tlsread_recv(r, buf, 8), 4);
	cr_assert_eq(memcmp(buf, "cdef", 4), 0);
	cr_assert_eq(tlsread_recv(r, buf, 8), 0);
}

/* A read larger than the read-ahead goes straight to the socket, after
 * what is held; and no more than TLSREAD_AHEAD is ever taken at once. */
Test(tlsread, bounded_and_large_reads)
{
	static char big[3 * TLSREAD_AHEAD], out[3 * TLSREAD_AHEAD];
	size_t got = 0, i;
	ssize_t n;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	/* Bigger than the socket buffer may take: write what fits. */
	n = write(w, big, sizeof(big));
	cr_assert_gt(n, TLSREAD_AHEAD);
	cr_assert_eq(tlsread_recv(r, out, 5), 5);
	cr_assert_leq(tlsread_held(r), TLSREAD_AHEAD - 5);
	got = 5;
	while (got < (size_t)n) {
		ssize_t k = tlsread_recv(r, out + got, sizeof(out) - got);

		cr_assert_gt(k, 0);
		got += (size_t)k;
	}
	cr_assert_eq(memcmp(out, big, (size_t)n), 0);
}

/* A closing connection's held bytes are dropped: the next connection on
 * the same number starts empty. */
Test(tlsread, forget_drops_held_bytes)
{
	char buf[8];

	cr_assert_eq(write(w, "leftover", 8), 8);
	cr_assert_eq(tlsread_recv(r, buf, 1), 1);
	cr_assert_eq(tlsread_held(r), 7);
	tlsread_forget(r);
	cr_assert_eq(tlsread_held(r), 0);
	errno = 0;
	cr_assert_eq(tlsread_recv(r, buf, sizeof(buf)), -1);
	cr_assert_eq(errno, EAGAIN);
}
