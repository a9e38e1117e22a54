#include <criterion/criterion.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture_cert.h"
#include "tlspush.h"

/* A TLS connection over loopback TCP: the server side pushes through
 * tlspush, as a libmicrohttpd worker does. */
static int sfd = -1, cfd = -1;
static gnutls_session_t ss, cs;
static gnutls_certificate_credentials_t scred, ccred;

static void *
client_handshake(void *arg)
{
	int rc;

	(void)arg;
	do
		rc = gnutls_handshake(cs);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	return (void *)(intptr_t)rc;
}

static void
setup(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	gnutls_datum_t c = { (unsigned char *)cert_a, sizeof(cert_a) - 1 };
	gnutls_datum_t k = { (unsigned char *)key_a, sizeof(key_a) - 1 };
	pthread_t t;
	void *crc;
	int lfd, one = 1, rc;

	cr_assert_eq(tlspush_init(65536), 0);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(lfd, 1), 0);
	cr_assert_eq(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
	sfd = accept(lfd, NULL, NULL);
	cr_assert(sfd >= 0);
	close(lfd);
	/* As libmicrohttpd leaves a connection: records are pushed at once
	 * unless held on purpose. */
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	gnutls_certificate_allocate_credentials(&scred);
	cr_assert_eq(gnutls_certificate_set_x509_key_mem(scred, &c, &k,
	    GNUTLS_X509_FMT_PEM), 0);
	gnutls_certificate_allocate_credentials(&ccred);
	gnutls_init(&ss, GNUTLS_SERVER);
	gnutls_init(&cs, GNUTLS_CLIENT);
	gnutls_set_default_priority(ss);
	gnutls_set_default_priority(cs);
	gnutls_credentials_set(ss, GNUTLS_CRD_CERTIFICATE, scred);
	gnutls_credentials_set(cs, GNUTLS_CRD_CERTIFICATE, ccred);
	gnutls_transport_set_int(ss, sfd);
	gnutls_transport_set_int(cs, cfd);
	pthread_create(&t, NULL, client_handshake, NULL);
	do
		rc = gnutls_handshake(ss);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	pthread_join(t, &crc);
	cr_assert_eq(rc, 0, "server handshake: %s", gnutls_strerror(rc));
	cr_assert_eq((intptr_t)crc, 0);
	tlspush_attach(ss, sfd, true);
}

static void
teardown(void)
{
	gnutls_deinit(ss);
	gnutls_deinit(cs);
	gnutls_certificate_free_credentials(scred);
	gnutls_certificate_free_credentials(ccred);
	close(sfd);
	close(cfd);
	tlspush_free();
}

/* Whether bytes reach the client's socket within ms. */
static bool
arrives(int ms)
{
	struct pollfd p = { .fd = cfd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Reads n bytes of application data at the client. */
static void
client_read(char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = gnutls_record_recv(cs, buf + got, n - got);

		cr_assert(k > 0, "record_recv: %zd", k);
		got += (size_t)k;
	}
}

TestSuite(tlspush, .init = setup, .fini = teardown);

Test(tlspush, without_more_a_record_leaves_at_once)
{
	char buf[100];

	cr_assert_eq(gnutls_record_send(ss, "0123456789", 10), 10);
	cr_assert(arrives(1000));
	client_read(buf, 10);
	cr_assert_eq(memcmp(buf, "0123456789", 10), 0);
}

Test(tlspush, more_holds_a_record_until_the_next_one)
{
	char out[2 * 4096], in[2 * 4096];
	size_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	tlspush_more(sfd, true);
	cr_assert_eq(gnutls_record_send(ss, out, 4096), 4096);
	/* Held: the kernel's probe timer would send it after 200 ms. */
	cr_assert(!arrives(50), "a record promised a successor left alone");
	tlspush_more(sfd, false);
	cr_assert_eq(gnutls_record_send(ss, out + 4096, 4096), 4096);
	cr_assert(arrives(1000));
	client_read(in, sizeof(in));
	cr_assert_eq(memcmp(in, out, sizeof(out)), 0, "bytes changed");
}

Test(tlspush, forget_clears_the_promise)
{
	char buf[4];

	tlspush_more(sfd, true);
	tlspush_forget(sfd);
	cr_assert_eq(gnutls_record_send(ss, "abcd", 4), 4);
	cr_assert(arrives(1000));
	client_read(buf, 4);
	cr_assert_eq(memcmp(buf, "abcd", 4), 0);
}

Test(tlspush, descriptors_beyond_the_table_are_never_held)
{
	/* Out of range: ignored, no crash, never MSG_MORE. */
	tlspush_more(1 << 20, true);
	tlspush_more(-1, true);
	tlspush_forget(1 << 20);
	cr_assert_eq(gnutls_record_send(ss, "x", 1), 1);
	cr_assert(arrives(1000));
}

static int
nodelay_of(int fd)
{
	int v = -1;
	socklen_t l = sizeof(v);

	cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &l), 0);
	return v != 0;
}

/* libmicrohttpd pushes each response's end with TCP_NODELAY: on a socket
 * known to have it, with nothing held back, that is no system call.  Seen
 * here by telling tlspush the socket has it while it has not: the call
 * then leaves the socket as it is. */
Test(tlspush, redundant_nodelay_is_answered_here)
{
	int zero = 0, one = 1;

	cr_assert_eq(setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &zero,
	    sizeof(zero)), 0);
	cr_assert_eq(nodelay_of(sfd), 0);
	tlspush_attach(ss, sfd, true);
	cr_assert_eq(setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)), 0);
	cr_assert_eq(nodelay_of(sfd), 0, "the redundant call reached the kernel");
	/* Unknown descriptors always reach it. */
	tlspush_forget(sfd);
	cr_assert_eq(setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)), 0);
	cr_assert_eq(nodelay_of(sfd), 1);
}

/* After a record sent with MSG_MORE, or while corked, the push is real:
 * the held record leaves at once. */
Test(tlspush, nodelay_after_more_pushes_the_held_record)
{
	char buf[4];
	int one = 1;

	tlspush_more(sfd, true);
	cr_assert_eq(gnutls_record_send(ss, "held", 4), 4);
	cr_assert(!arrives(50), "a record promised a successor left alone");
	tlspush_more(sfd, false);
	cr_assert_eq(setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)), 0);
	cr_assert(arrives(100), "the push did not push");
	client_read(buf, 4);
	cr_assert_eq(memcmp(buf, "held", 4), 0);
}

Test(tlspush, nodelay_while_corked_pushes)
{
	char buf[5];
	int zero = 0, one = 1;

	cr_assert_eq(setsockopt(sfd, IPPROTO_TCP, TCP_CORK, &one,
	    sizeof(one)), 0);
	cr_assert_eq(gnutls_record_send(ss, "corks", 5), 5);
	cr_assert(!arrives(50), "corked bytes left");
	cr_assert_eq(setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)), 0);
	cr_assert(arrives(100), "the push did not push");
	client_read(buf, 5);
	cr_assert_eq(memcmp(buf, "corks", 5), 0);
	cr_assert_eq(setsockopt(sfd, IPPROTO_TCP, TCP_CORK, &zero,
	    sizeof(zero)), 0);
}
