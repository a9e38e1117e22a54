/*
 * tlscred: the pair in force, swapped under a lock, and reference-counted
 * credentials (see tlscred.h).
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tlscred.h"

struct tlscred {
	gnutls_certificate_credentials_t	cred;
	/* One for being in force, one per connection that took it. */
	atomic_uint				refs;
};

/* The lock covers reading `current` and taking a reference together: a
 * lone atomic pointer would let a reload free the pair between a worker's
 * load of the pointer and its increment.  Held for a few instructions per
 * new connection and per reload. */
static pthread_mutex_t	lock = PTHREAD_MUTEX_INITIALIZER;
static struct tlscred	*current;
/* The expiry of current's first certificate, s since the epoch; 0:
 * unknown.  For the metrics (any thread). */
static _Atomic int64_t	 not_after;

/* The first certificate of pem's chain, parsed (the caller deinits it),
 * or NULL. */
static gnutls_x509_crt_t
first_cert(const char *pem)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t in;

	in.data = (unsigned char *)pem;
	in.size = (unsigned)strlen(pem);
	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

/* The expiry of pem's first certificate, or 0. */
static int64_t
expiry(const char *pem)
{
	gnutls_x509_crt_t crt;
	time_t t;

	if ((crt = first_cert(pem)) == NULL)
		return 0;
	t = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	return t == (time_t)-1 ? 0 : (int64_t)t;
}

/* Credentials holding pem's chain and key, with one reference. */
static struct tlscred *
make(const struct tls_pem *pem, char *err, size_t errlen)
{
	struct tlscred *t;
	gnutls_datum_t c, k;
	int rc;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((rc = gnutls_certificate_allocate_credentials(&t->cred)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(rc));
		goto fail;
	}
	c.data = (unsigned char *)pem->cert;
	c.size = (unsigned)strlen(pem->cert);
	k.data = (unsigned char *)pem->key;
	k.size = (unsigned)strlen(pem->key);
	/* What libmicrohttpd does with MHD_OPTION_HTTPS_MEM_CERT/KEY. */
	if ((rc = gnutls_certificate_set_x509_key_mem(t->cred, &c, &k,
	    GNUTLS_X509_FMT_PEM)) < 0) {
		snprintf(err, errlen, "%s", gnutls_strerror(rc));
		goto fail;
	}
	atomic_init(&t->refs, 1);
	return t;
fail:
	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
	return NULL;
}

/* Puts t in force (its reference becomes the registry's) and drops the
 * registry's reference to the one it replaces. */
static void
swap(struct tlscred *t)
{
	struct tlscred *old;

	pthread_mutex_lock(&lock);
	old = current;
	current = t;
	pthread_mutex_unlock(&lock);
	tlscred_release(old);
}

int
tlscred_init(const struct tls_pem *pem, char *err, size_t errlen)
{
	struct tlscred *t;

	if ((t = make(pem, err, errlen)) == NULL)
		return -1;
	swap(t);
	atomic_store(&not_after, expiry(pem->cert));
	return 0;
}

int
tlscred_reload(const char *certfile, const char *keyfile, char *msg,
    size_t msglen)
{
	struct tls_pem pem = { NULL, NULL };
	struct tlscred *t = NULL;
	char desc[TLSCRED_DESC_MAX];
	int rc = -1;

	/* No priority string: it is not reloaded, and was checked at
	 * start-up. */
	if (tls_load(certfile, keyfile, NULL, &pem, msg, msglen) == -1)
		goto out;
	if (tlscred_describe(pem.cert, desc, sizeof(desc)) == -1) {
		snprintf(msg, msglen, "%s: the first certificate does not "
		    "parse", certfile);
		goto out;
	}
	if ((t = make(&pem, msg, msglen)) == NULL)
		goto out;
	swap(t);
	atomic_store(&not_after, expiry(pem.cert));
	snprintf(msg, msglen, "%s", desc);
	rc = 0;
out:
	tls_free(&pem);
	return rc;
}

struct tlscred *
tlscred_attach(void *session)
{
	struct tlscred *t;

	pthread_mutex_lock(&lock);
	if ((t = current) != NULL)
		atomic_fetch_add(&t->refs, 1);
	pthread_mutex_unlock(&lock);
	if (t == NULL)
		return NULL;
	/* Replaces the credentials of that type libmicrohttpd set. */
	if (gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE,
	    t->cred) < 0) {
		tlscred_release(t);
		return NULL;
	}
	return t;
}

void
tlscred_release(struct tlscred *t)
{
	if (t == NULL || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	gnutls_certificate_free_credentials(t->cred);
	free(t);
}

int
tlscred_describe(const char *pem, char *out, size_t outlen)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = { NULL, 0 };
	unsigned char fp[32];
	size_t fplen = sizeof(fp), i, n;
	char when[32], hex[3 * sizeof(fp)];
	struct tm tm;
	time_t exp;
	int rc = -1;

	if ((crt = first_cert(pem)) == NULL)
		return -1;
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0 ||
	    gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp,
	    &fplen) < 0 || fplen != sizeof(fp))
		goto out;
	exp = gnutls_x509_crt_get_expiration_time(crt);
	if (exp == (time_t)-1 || gmtime_r(&exp, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		goto out;
	for (i = 0, n = 0; i < fplen; i++)
		n += (size_t)snprintf(hex + n, sizeof(hex) - n, "%s%02X",
		    i ? ":" : "", fp[i]);
	/* The log is line-based: no control byte from a certificate. */
	for (i = 0; i < dn.size; i++)
		if (dn.data[i] < 0x20 || dn.data[i] == 0x7f)
			dn.data[i] = '?';
	snprintf(out, outlen, "subject %s, expires %s, sha256 %s",
	    (const char *)dn.data, when, hex);
	rc = 0;
out:
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int64_t
tlscred_not_after(void)
{
	return atomic_load(&not_after);
}

void
tlscred_free(void)
{
	swap(NULL);
}
