#include <criterion/criterion.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture_cert.h"
#include "fixture_files.h"
#include "tlscred.h"

/* A second throwaway self-signed P-256 pair (CN test-b, valid to 2126). */
static const char cert_b[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBeTCCAR+gAwIBAgIUAZFqie0Y1UGtv0jtAmSOatJP3egwCgYIKoZIzj0EAwIw\n"
	"ETEPMA0GA1UEAwwGdGVzdC1iMCAXDTI2MTIwMzE3NTQxM1oYDzIxMjYxMTA5MTc1\n"
	"NDEzWjARMQ8wDQYDVQQDDAZ0ZXN0LWIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
	"AAQI+Jk60KTqugBLHfzsrACnnOS5xU40OFey3eV3LU+fleMaG2OSnX/d5qmqmhpp\n"
	"Pqm1D85MOOYBBlLkm1bTnJ4Go1MwUTAdBgNVHQ4EFgQUkikEsbQcsRUj2LE4bLVL\n"
	"CpKqFxAwHwYDVR0jBBgwFoAUkikEsbQcsRUj2LE4bLVLCpKqFxAwDwYDVR0TAQH/\n"
	"BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAqJNfvON4NzdsUpnWXFSyZIa0YZ8z\n"
	"cZtiwSmHg8qVfggCIH9qtSmSmCmr1rC9JYj3G2IctERYc2LEqJziav5bV6tZ\n"
	"-----END CERTIFICATE-----\n";
static const char key_b[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvTrKHla8lAdw6yP6\n"
	"zIiUQZoti6ktsx4nqPLIE7FQdEGhRANCAAQI+Jk60KTqugBLHfzsrACnnOS5xU40\n"
	"OFey3eV3LU+fleMaG2OSnX/d5qmqmhppPqm1D85MOOYBBlLkm1bTnJ4G\n"
	"-----END PRIVATE KEY-----\n";
/* `openssl x509 -noout -fingerprint -sha256` of cert_b. */
#define FP_B	"17:26:37:D6:C7:5C:1D:21:89:56:49:7C:7C:2F:54:55:FD:F1:76:" \
		"FF:99:08:D8:64:57:58:F2:64:F3:B4:69:14"

static gnutls_certificate_credentials_t ccred;

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sp-tlscred-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	gnutls_certificate_allocate_credentials(&ccred);
}

static void
teardown(void)
{
	char cmd[128];

	tlscred_free();
	gnutls_certificate_free_credentials(ccred);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(tlscred, .init = setup, .fini = teardown);

static void
init_a(void)
{
	struct tls_pem pem = { (char *)cert_a, (char *)key_a };
	char err[256];

	cr_assert_eq(tlscred_init(&pem, err, sizeof(err)), 0, "%s", err);
}

/* A server session as libmicrohttpd's worker has it at the connection's
 * start: tlscred_attach() before the handshake.  *ref: its reference. */
static gnutls_session_t
server_session(struct tlscred **ref)
{
	gnutls_session_t s;

	cr_assert_eq(gnutls_init(&s, GNUTLS_SERVER), 0);
	cr_assert_eq(gnutls_priority_set_direct(s, "NORMAL", NULL), 0);
	*ref = tlscred_attach(s);
	cr_assert_not_null(*ref);
	return s;
}

static void *
client_run(void *arg)
{
	gnutls_session_t c = arg;
	int rc;

	do
		rc = gnutls_handshake(c);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	return (void *)(intptr_t)rc;
}

/* Handshakes sv (its credentials set) with a client over a socket pair;
 * returns the CN of the certificate the client got (static buffer). */
static const char *
handshake(gnutls_session_t sv)
{
	static char cn[64];
	gnutls_session_t cl;
	const gnutls_datum_t *peer;
	unsigned npeer = 0;
	gnutls_x509_crt_t crt;
	size_t cnlen = sizeof(cn);
	pthread_t t;
	void *crc;
	int fd[2], rc;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0);
	cr_assert_eq(gnutls_init(&cl, GNUTLS_CLIENT), 0);
	cr_assert_eq(gnutls_priority_set_direct(cl, "NORMAL", NULL), 0);
	gnutls_credentials_set(cl, GNUTLS_CRD_CERTIFICATE, ccred);
	gnutls_transport_set_int(sv, fd[0]);
	gnutls_transport_set_int(cl, fd[1]);
	pthread_create(&t, NULL, client_run, cl);
	do
		rc = gnutls_handshake(sv);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	pthread_join(t, &crc);
	cr_assert_eq(rc, 0, "server: %s", gnutls_strerror(rc));
	cr_assert_eq((intptr_t)crc, 0, "client: %s",
	    gnutls_strerror((int)(intptr_t)crc));
	peer = gnutls_certificate_get_peers(cl, &npeer);
	cr_assert(peer != NULL && npeer >= 1);
	gnutls_x509_crt_init(&crt);
	cr_assert_eq(gnutls_x509_crt_import(crt, &peer[0],
	    GNUTLS_X509_FMT_DER), 0);
	cr_assert_eq(gnutls_x509_crt_get_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_deinit(cl);
	close(fd[0]);
	close(fd[1]);
	return cn;
}

/* A whole connection: attach, handshake, deinit, release. */
static const char *
connect_once(void)
{
	struct tlscred *ref;
	gnutls_session_t s = server_session(&ref);
	const char *cn = handshake(s);

	gnutls_deinit(s);
	tlscred_release(ref);
	return cn;
}

Test(tlscred, describe_names_subject_expiry_and_fingerprint)
{
	char d[TLSCRED_DESC_MAX];

	cr_assert_eq(tlscred_describe(cert_b, d, sizeof(d)), 0);
	cr_assert_str_eq(d, "subject CN=test-b, expires 2126-11-09 17:54:13 "
	    "UTC, sha256 " FP_B);
	cr_assert_eq(tlscred_describe("-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n", d, sizeof(d)), -1);
	cr_assert_eq(tlscred_describe("", d, sizeof(d)), -1);
}

Test(tlscred, nothing_attached_before_init)
{
	gnutls_session_t s;

	cr_assert_eq(gnutls_init(&s, GNUTLS_SERVER), 0);
	cr_assert_null(tlscred_attach(s));
	tlscred_release(NULL);
	gnutls_deinit(s);
}

Test(tlscred, new_handshakes_get_the_reloaded_pair)
{
	char msg[512];

	init_a();
	cr_assert_str_eq(connect_once(), "test-a");
	cr_assert_eq(tlscred_reload(file("b.crt", cert_b),
	    file("b.pem", key_b), msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_not_null(strstr(msg, "CN=test-b"), "%s", msg);
	cr_assert_not_null(strstr(msg, FP_B), "%s", msg);
	cr_assert_str_eq(connect_once(), "test-b");
	/* And back, as a second renewal would. */
	cr_assert_eq(tlscred_reload(file("a.crt", cert_a),
	    file("a.pem", key_a), msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_str_eq(connect_once(), "test-a");
}

Test(tlscred, a_refused_pair_leaves_the_one_in_force)
{
	char msg[512], chain[4096];
	const char *c, *k;

	init_a();
	/* The key does not match the certificate: the key file is named. */
	c = file("b.crt", cert_b);
	k = file("a.pem", key_a);
	cr_assert_eq(tlscred_reload(c, k, msg, sizeof(msg)), -1);
	cr_assert_not_null(strstr(msg, k), "%s", msg);
	cr_assert_not_null(strstr(msg, "does not match"), "%s", msg);
	cr_assert_str_eq(connect_once(), "test-a");
	/* A missing file is named. */
	c = file("gone.crt", NULL);
	cr_assert_eq(tlscred_reload(c, file("b.pem", key_b), msg,
	    sizeof(msg)), -1);
	cr_assert_not_null(strstr(msg, c), "%s", msg);
	cr_assert_str_eq(connect_once(), "test-a");
	/* Half-written (truncated) certificate. */
	snprintf(chain, sizeof(chain), "%.*s", 200, cert_b);
	c = file("half.crt", chain);
	cr_assert_eq(tlscred_reload(c, file("b.pem", key_b), msg,
	    sizeof(msg)), -1);
	cr_assert_not_null(strstr(msg, c), "%s", msg);
	cr_assert_str_eq(connect_once(), "test-a");
	/* Not PEM at all. */
	c = file("junk.crt", "junk\n");
	cr_assert_eq(tlscred_reload(c, file("b.pem", key_b), msg,
	    sizeof(msg)), -1);
	cr_assert_not_null(strstr(msg, c), "%s", msg);
	cr_assert_str_eq(connect_once(), "test-a");
}

Test(tlscred, a_session_keeps_its_pair_until_released)
{
	struct tlscred *ref1, *ref2;
	gnutls_session_t s1, s2;
	char msg[512];

	/* Attached before two reloads and the end: its handshake comes after
	 * them all and still has the pair it took (AddressSanitizer would see
	 * a freed one). */
	init_a();
	s1 = server_session(&ref1);
	cr_assert_eq(tlscred_reload(file("b.crt", cert_b),
	    file("b.pem", key_b), msg, sizeof(msg)), 0, "%s", msg);
	s2 = server_session(&ref2);
	cr_assert_eq(tlscred_reload(file("a.crt", cert_a),
	    file("a.pem", key_a), msg, sizeof(msg)), 0, "%s", msg);
	tlscred_free();
	cr_assert_str_eq(handshake(s1), "test-a");
	cr_assert_str_eq(handshake(s2), "test-b");
	gnutls_deinit(s1);
	tlscred_release(ref1);
	gnutls_deinit(s2);
	tlscred_release(ref2);
}
