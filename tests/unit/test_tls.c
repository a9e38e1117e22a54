#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture_cert.h"
#include "fixture_files.h"
#include "tls.h"

/* An unrelated key. */
static const char key_b[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKFJ3/B23mbsF6h9M\n"
	"1zdmqNl6inaFus3/4vMe+wmT3zuhRANCAASC90U9GsfTy4Vx+5Dk1svsBhvEkCCK\n"
	"5+4SDTHgKAxTh2ohM4Y1ONlti0g2hsN7LulEIU8FOgVecZVKXQba9QKV\n"
	"-----END PRIVATE KEY-----\n";


static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sp-tls-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(tls, .init = setup, .fini = teardown);

Test(tls, loads_matching_pair)
{
	struct tls_pem pem;
	char err[512];
	char chain[4096];

	/* A "chain" of the certificate twice still loads: the first is used. */
	snprintf(chain, sizeof(chain), "%s%s", cert_a, cert_a);
	cr_assert_eq(tls_load(file("c.crt", chain), file("k.pem", key_a),
	    "NORMAL", &pem, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(pem.cert, chain);
	cr_assert_str_eq(pem.key, key_a);
	tls_free(&pem);
	cr_assert_null(pem.key);
}

Test(tls, mismatch_names_the_key_file)
{
	struct tls_pem pem;
	char err[512];
	const char *k = file("other.pem", key_b);

	cr_assert_eq(tls_load(file("c.crt", cert_a), k, NULL, &pem, err,
	    sizeof(err)), -1);
	cr_assert_not_null(strstr(err, k), "%s", err);
	cr_assert_not_null(strstr(err, "does not match"), "%s", err);
	cr_assert_null(pem.cert, "nothing kept on failure");
}

Test(tls, missing_or_bad_files_are_named)
{
	struct tls_pem pem;
	char err[512];
	const char *missing = file("none.crt", NULL);
	const char *empty = file("empty.crt", "");
	const char *junk = file("junk.crt", "not a certificate\n");
	const char *k = file("k.pem", key_a);

	cr_assert_eq(tls_load(missing, k, NULL, &pem, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, missing), "%s", err);
	cr_assert_eq(tls_load(empty, k, NULL, &pem, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "empty"), "%s", err);
	cr_assert_eq(tls_load(junk, k, NULL, &pem, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, junk), "%s", err);
	cr_assert_eq(tls_load(file("c.crt", cert_a), file("none.pem", NULL),
	    NULL, &pem, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "none.pem"), "%s", err);
}

Test(tls, bad_priority_string_is_refused)
{
	struct tls_pem pem;
	char err[512];

	cr_assert_eq(tls_load(file("c.crt", cert_a), file("k.pem", key_a),
	    "NORMAL:+NO-SUCH-THING", &pem, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "tls-priorities"), "%s", err);
}

Test(tls, read_file_caps_size)
{
	char err[512], *buf, big[2048];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_null(tls_read_file(file("big", big), 1024, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "too large"), "%s", err);
	cr_assert_not_null(buf = tls_read_file(file("ok", "abc"), 1024, err,
	    sizeof(err)));
	cr_assert_str_eq(buf, "abc");
	free(buf);
}
