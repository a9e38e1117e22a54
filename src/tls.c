/*
 * tls: start-up checks of the certificate, key and priority string.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls.h"

char *
tls_read_file(const char *path, size_t max, char *err, size_t errlen)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max || n == 0) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ?
		    "read error" : n == 0 ? "empty file" : "file too large");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	return realloc(buf, n + 1);	/* shrinking: cannot fail */
}

int
tls_load(const char *certfile, const char *keyfile, const char *priorities,
    struct tls_pem *out, char *err, size_t errlen)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_priority_t prio = NULL;
	gnutls_datum_t c, k;
	const char *errpos = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((out->cert = tls_read_file(certfile, TLS_FILE_MAX, err,
	    errlen)) == NULL)
		goto fail;
	if ((out->key = tls_read_file(keyfile, TLS_FILE_MAX, err,
	    errlen)) == NULL)
		goto fail;
	if (strstr(out->cert, "-----BEGIN CERTIFICATE-----") == NULL) {
		snprintf(err, errlen, "%s: no PEM certificate in file",
		    certfile);
		goto fail;
	}
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c.data = (unsigned char *)out->cert;
	c.size = (unsigned)strlen(out->cert);
	k.data = (unsigned char *)out->key;
	k.size = (unsigned)strlen(out->key);
	rc = gnutls_certificate_set_x509_key_mem2(cred, &c, &k,
	    GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		const char *who = rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ?
		    keyfile : rc == GNUTLS_E_BASE64_DECODING_ERROR ||
		    rc == GNUTLS_E_ASN1_DER_ERROR ? certfile : keyfile;

		snprintf(err, errlen, "%s: %s (certificate %s, key %s)", who,
		    rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ?
		    "the key does not match the certificate" :
		    gnutls_strerror(rc), certfile, keyfile);
		goto fail;
	}
	if (priorities != NULL &&
	    gnutls_priority_init(&prio, priorities, &errpos) < 0) {
		snprintf(err, errlen, "tls-priorities: invalid GnuTLS priority "
		    "string at '%s'", errpos ? errpos : priorities);
		goto fail;
	}
	gnutls_priority_deinit(prio);
	gnutls_certificate_free_credentials(cred);
	return 0;
fail:
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	tls_free(out);
	return -1;
}

void
tls_free(struct tls_pem *p)
{
	if (p->key != NULL)
		gnutls_memset(p->key, 0, strlen(p->key));
	free(p->key);
	free(p->cert);
	p->cert = p->key = NULL;
}
