/*
 * tlswatch: tells conntab (conntab.h) when a TLS connection's handshake is
 * done and when its next request starts, which libmicrohttpd does not say:
 * GnuTLS's read function for the session is replaced by one that notes
 * the first bytes read on an idle connection, and a handshake hook notes
 * the client's Finished.  Both run in the worker thread that owns the
 * connection, inside libmicrohttpd's calls into GnuTLS.
 */
#ifndef TLSWATCH_H
#define TLSWATCH_H

/* Hooks the server session (a gnutls_session_t, before its handshake) on
 * descriptor fd, whose conntab entry is looked up by descriptor.  Worker
 * thread, from the connection-start notification. */
void	tlswatch_attach(void *session);

#endif
