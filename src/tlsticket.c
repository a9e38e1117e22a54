/*
 * tlsticket: the session-ticket master key and its use on each server
 * session (see tlsticket.h).
 */

#include <gnutls/gnutls.h>

#include "tlsticket.h"

/* 64 bytes from gnutls_session_ticket_key_generate(); owned here, written
 * once by the main thread before the HTTP threads start, then read-only. */
static gnutls_datum_t	key;

int
tlsticket_init(void)
{
	if (key.data != NULL)
		return 0;
	if (gnutls_session_ticket_key_generate(&key) < 0) {
		key.data = NULL;
		key.size = 0;
		return -1;
	}
	return 0;
}

int
tlsticket_enable(void *session)
{
	gnutls_session_t s = session;

	if (key.data == NULL)
		return 0;
	/* The lifetime also sets GnuTLS's key rotation period (three
	 * lifetimes), so every session must get the same value. */
	gnutls_db_set_cache_expiration(s, TLSTICKET_LIFETIME);
	return gnutls_session_ticket_enable_server(s, &key) < 0 ? -1 : 0;
}

void
tlsticket_free(void)
{
	if (key.data == NULL)
		return;
	gnutls_memset(key.data, 0, key.size);
	gnutls_free(key.data);
	key.data = NULL;
	key.size = 0;
}
