/*
 * tlswatch: the phase changes of a TLS connection that only GnuTLS sees
 * (see tlswatch.h).
 */

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>

#include "conntab.h"
#include "metrics.h"
#include "park.h"
#include "reaper.h"
#include "tlsread.h"
#include "request.h"
#include "tlswatch.h"

static void
enter(int fd, enum conntab_phase from, enum conntab_phase to)
{
	struct conntab_entry *e = conntab_byfd(fd);
	bool kick = false;

	if (e == NULL || conntab_phase(e) != from)
		return;
	conntab_enter(e, to, request_now(), &kick);
	if (kick)
		reaper_kick();
}

/* GnuTLS's read: what its default does (recv(), with read-ahead:
 * tlsread.h), plus the start of a request on a kept-alive connection (its
 * first bytes start the header deadline), and a handshake read that would
 * block parks the connection.
 * Returns bytes read, 0 at the end, or -1 with errno. */
static ssize_t
pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	int fd = (int)(intptr_t)ptr;
	ssize_t n = tlsread_recv(fd, buf, len);

	struct conntab_entry *e;

	if (n > 0)
		enter(fd, CT_IDLE, CT_HEADERS);
	else if (n == -1 && errno == EAGAIN &&
	    (e = conntab_byfd(fd)) != NULL &&
	    conntab_phase(e) == CT_HANDSHAKE) {
		/* The handshake waits for the client: off the ready list
		 * until it writes (park.h). */
		(void)park_wait(fd);
		errno = EAGAIN;		/* GnuTLS reads it */
	}
	return n;
}

/* After the client's Finished: the handshake is over for the waiting
 * side, and the wait for a request starts. */
static int
hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
    const gnutls_datum_t *msg)
{
	(void)htype;
	(void)when;
	(void)msg;
	if (incoming) {
		metrics_add(MC_TLS_HANDSHAKES, 1);
		enter(gnutls_transport_get_int(s), CT_HANDSHAKE, CT_HEADERS);
	}
	return 0;
}

void
tlswatch_attach(void *session)
{
	gnutls_session_t s = session;

	gnutls_transport_set_pull_function(s, pull);
	gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_FINISHED,
	    GNUTLS_HOOK_POST, hook);
}
