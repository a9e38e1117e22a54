/*
 * park: a TLS handshake that waits for its client costs no CPU.
 *
 * libmicrohttpd 0.9.75 (and 1.0.1) in epoll mode keeps a connection on its
 * worker's ready list until its own receive function sees EAGAIN; during
 * the handshake GnuTLS reads the socket itself, so the list never empties
 * and the worker reruns gnutls_handshake() in a loop, a core at 100 % per
 * waiting client.  Here GnuTLS's read function (tlswatch.c) reports a
 * handshake read that would block: the connection is suspended, which
 * takes it off the ready list and out of the epoll set, and this module's
 * thread resumes it when its socket is readable (or hung up, or shut down
 * by the reaper at the handshake deadline).  Suspended connections count
 * in request.h's gate, so a shutdown resumes them (park_release()) before
 * the daemon stops.
 */
#ifndef PARK_H
#define PARK_H

#include <stdbool.h>
#include <stddef.h>

/* For descriptors below max_fd; starts the thread.  Main thread, before
 * the HTTP threads.  Returns 0, or -1. */
int	park_init(size_t max_fd);
/* Connection con (a struct MHD_Connection *) is on descriptor fd.  The
 * worker that runs it, at its start. */
void	park_attach(int fd, void *con);
/* Before the descriptor closes.  The worker that runs it. */
void	park_forget(int fd);
/* Suspends the connection on fd until its socket is readable.  The
 * worker that runs it, from within libmicrohttpd's processing of it (the
 * handshake).  Returns false (nothing done) if it cannot park: shutting
 * down, unknown descriptor, already parked. */
bool	park_wait(int fd);
/* Resumes every parked connection (shutdown, after request_shut_gate()).
 * Main thread; may be called again. */
void	park_release(void);

#endif
