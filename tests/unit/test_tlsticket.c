#include <criterion/criterion.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture_cert.h"
#include "tlsticket.h"

/* One TLS connection over a socket pair: the server session gets
 * tlsticket_enable(), as libmicrohttpd's worker does before the handshake;
 * the client offers `in` (a saved session, or none) and saves what it
 * holds after the connection into `out`. */
struct side {
	gnutls_session_t	 s;
	int			 rc;
};

static gnutls_certificate_credentials_t scred, ccred;

static void *
client_run(void *arg)
{
	struct side *c = arg;
	char buf[4];
	ssize_t n;

	do
		c->rc = gnutls_handshake(c->s);
	while (c->rc < 0 && !gnutls_error_is_fatal(c->rc));
	if (c->rc < 0)
		return NULL;
	/* TLS 1.3 tickets come after the handshake: read up to the data. */
	do
		n = gnutls_record_recv(c->s, buf, sizeof(buf));
	while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	c->rc = n == 4 ? 0 : (int)n;
	return NULL;
}

/* Returns whether the client's session was resumed. */
static bool
connect_once(const char *prio, const gnutls_datum_t *in, gnutls_datum_t *out)
{
	struct side sv = { NULL, 0 }, cl = { NULL, 0 };
	pthread_t t;
	int fd[2];
	bool resumed;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0);
	gnutls_init(&sv.s, GNUTLS_SERVER);
	gnutls_init(&cl.s, GNUTLS_CLIENT);
	cr_assert_eq(gnutls_priority_set_direct(sv.s, prio, NULL), 0);
	cr_assert_eq(gnutls_priority_set_direct(cl.s, prio, NULL), 0);
	gnutls_credentials_set(sv.s, GNUTLS_CRD_CERTIFICATE, scred);
	gnutls_credentials_set(cl.s, GNUTLS_CRD_CERTIFICATE, ccred);
	cr_assert_eq(tlsticket_enable(sv.s), 0);
	if (in != NULL)
		cr_assert_eq(gnutls_session_set_data(cl.s, in->data, in->size),
		    0);
	gnutls_transport_set_int(sv.s, fd[0]);
	gnutls_transport_set_int(cl.s, fd[1]);
	pthread_create(&t, NULL, client_run, &cl);
	do
		sv.rc = gnutls_handshake(sv.s);
	while (sv.rc < 0 && !gnutls_error_is_fatal(sv.rc));
	cr_assert_eq(sv.rc, 0, "server handshake: %s", gnutls_strerror(sv.rc));
	cr_assert_eq(gnutls_record_send(sv.s, "data", 4), 4);
	pthread_join(t, NULL);
	cr_assert_eq(cl.rc, 0, "client: %s", gnutls_strerror(cl.rc));
	resumed = gnutls_session_is_resumed(cl.s) != 0;
	cr_assert_eq(resumed, gnutls_session_is_resumed(sv.s) != 0);
	if (out != NULL)
		cr_assert_eq(gnutls_session_get_data2(cl.s, out), 0);
	gnutls_deinit(sv.s);
	gnutls_deinit(cl.s);
	close(fd[0]);
	close(fd[1]);
	return resumed;
}

static void
setup(void)
{
	gnutls_datum_t c = { (unsigned char *)cert_a, sizeof(cert_a) - 1 };
	gnutls_datum_t k = { (unsigned char *)key_a, sizeof(key_a) - 1 };

	gnutls_certificate_allocate_credentials(&scred);
	cr_assert_eq(gnutls_certificate_set_x509_key_mem(scred, &c, &k,
	    GNUTLS_X509_FMT_PEM), 0);
	gnutls_certificate_allocate_credentials(&ccred);
}

static void
teardown(void)
{
	tlsticket_free();
	gnutls_certificate_free_credentials(scred);
	gnutls_certificate_free_credentials(ccred);
}

TestSuite(tlsticket, .init = setup, .fini = teardown);

static const char *const prio[] = {
	"NORMAL:-VERS-ALL:+VERS-TLS1.2",
	"NORMAL:-VERS-ALL:+VERS-TLS1.3",
};

Test(tlsticket, a_saved_session_resumes)
{
	gnutls_datum_t saved;
	size_t i;

	cr_assert_eq(tlsticket_init(), 0);
	for (i = 0; i < 2; i++) {
		cr_assert(!connect_once(prio[i], NULL, &saved), "%s", prio[i]);
		cr_assert(connect_once(prio[i], &saved, NULL),
		    "%s: not resumed", prio[i]);
		gnutls_free(saved.data);
	}
}

Test(tlsticket, without_a_key_nothing_resumes)
{
	gnutls_datum_t saved;
	size_t i;

	/* Never made, or made and freed: tickets stay off. */
	cr_assert_eq(tlsticket_init(), 0);
	tlsticket_free();
	for (i = 0; i < 2; i++) {
		cr_assert(!connect_once(prio[i], NULL, &saved), "%s", prio[i]);
		cr_assert(!connect_once(prio[i], &saved, NULL),
		    "%s: resumed without tickets", prio[i]);
		gnutls_free(saved.data);
	}
}

Test(tlsticket, a_new_key_refuses_old_tickets)
{
	gnutls_datum_t saved;
	size_t i;

	/* As after a restart: the key is made anew, never stored. */
	for (i = 0; i < 2; i++) {
		cr_assert_eq(tlsticket_init(), 0);
		cr_assert(!connect_once(prio[i], NULL, &saved), "%s", prio[i]);
		tlsticket_free();
		cr_assert_eq(tlsticket_init(), 0);
		cr_assert(!connect_once(prio[i], &saved, NULL),
		    "%s: resumed under another key", prio[i]);
		gnutls_free(saved.data);
		tlsticket_free();
	}
}
