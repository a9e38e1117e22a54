/*
 * tlscred: the certificate and key that new TLS handshakes use, replaced
 * while the server runs (SIGHUP), so that a renewed certificate needs no
 * restart and no connection in flight is dropped.
 *
 * libmicrohttpd loads the start-up pair into credentials of its own and
 * sets them on every new session; the connection-start notification
 * (server.c), which runs before the handshake, sets the pair in force here
 * instead.  A GnuTLS session keeps pointers into its credentials (the chain
 * it sends, the key it signs with) and counts no references, so each
 * connection holds one on its pair from that notification until its close
 * notification, which libmicrohttpd sends after gnutls_deinit().  A pair
 * replaced is freed when the last connection that took it closes.
 */
#ifndef TLSCRED_H
#define TLSCRED_H

#include <stddef.h>
#include <stdint.h>

#include "tls.h"

struct tlscred;

/* Longest description tlscred_describe() writes, NUL included. */
#define TLSCRED_DESC_MAX	512

/* Puts pem (checked by tls_load(); only read, the caller keeps it) in
 * force.  Main thread, before the HTTP threads start.  Returns 0, or -1
 * with a message in err. */
int	tlscred_init(const struct tls_pem *pem, char *err, size_t errlen);
/* Reads certfile and keyfile with tls_load()'s checks and puts the pair in
 * force for the handshakes that start after it.  Returns 0 with the new
 * certificate described in msg (tlscred_describe()), or -1 with the reason,
 * naming the file, in msg: the pair in force stays.  Main thread (SIGHUP),
 * after tlscred_init(). */
int	tlscred_reload(const char *certfile, const char *keyfile, char *msg,
	    size_t msglen);
/* Sets the pair in force on session (a server gnutls_session_t, before its
 * handshake) and returns a reference to it, for tlscred_release() once the
 * session is deinitialised.  NULL without tlscred_init() or on error: the
 * session keeps the credentials it had.  Any thread (the connection's
 * worker). */
struct tlscred *tlscred_attach(void *session);
/* Gives back a reference from tlscred_attach(); NULL is a no-op.  Any
 * thread. */
void	tlscred_release(struct tlscred *);
/* The first certificate of a PEM chain as "subject <DN>, expires
 * <YYYY-MM-DD HH:MM:SS UTC>, sha256 <AA:BB:...>" (the fingerprint as
 * `openssl x509 -fingerprint -sha256` prints it) in out (outlen bytes,
 * TLSCRED_DESC_MAX is enough).  Returns 0, or -1 if it does not parse.
 * Pure, any thread. */
int	tlscred_describe(const char *pem, char *out, size_t outlen);
/* Drops the pair in force.  Main thread, after the HTTP threads stopped
 * (every connection's reference given back). */
void	tlscred_free(void);
/* When the certificate in force expires, in seconds since the epoch; 0
 * before tlscred_init() or if unknown.  Any thread. */
int64_t	tlscred_not_after(void);

#endif
