/*
 * tlsticket: TLS session resumption by session tickets (RFC 5077 for TLS
 * 1.2, RFC 8446 4.6.1 for TLS 1.3), so that a client that comes back skips
 * the certificate and its signature.  libmicrohttpd sets no tickets
 * itself.
 *
 * The master key lives in this process's memory only: made at start-up,
 * wiped at exit, never written anywhere, the same across SIGHUP reloads.
 * GnuTLS 3.7 never encrypts a ticket with it directly: each session derives
 * the key of the current period, SHA3-512(period number, master key), with
 * periods of three ticket lifetimes, and also accepts the previous
 * period's key (lib/stek.c).  With TLSTICKET_LIFETIME at one hour the
 * ticket key changes every 3 hours and each is accepted for 6.  A leaked
 * period key opens only that period's tickets; the master key opens them
 * all, past ones too, until a restart replaces it.
 */
#ifndef TLSTICKET_H
#define TLSTICKET_H

/* Ticket lifetime, in seconds: what the client is told, and how long the
 * server accepts one after its session's full handshake (GnuTLS never
 * extends it on resumption). */
#define TLSTICKET_LIFETIME	3600

/* Makes the master key.  Main thread, at start-up, before the HTTP
 * threads start.  Returns 0, or -1 if GnuTLS could not make it. */
int	tlsticket_init(void);
/* Turns tickets on for session (a server gnutls_session_t, before its
 * handshake); a no-op returning 0 without tlsticket_init().  Any thread:
 * the key is read-only once made, and GnuTLS copies it into the session
 * (gnutls_deinit() wipes that copy).  Returns 0, or -1. */
int	tlsticket_enable(void *session);
/* Wipes and frees the master key.  Main thread, after the HTTP threads
 * have stopped. */
void	tlsticket_free(void);

#endif
