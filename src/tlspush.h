/*
 * tlspush: how TLS records leave for the client.  GnuTLS hands each record
 * to the kernel in a sendmsg() of its own; a download that has the next
 * record ready at once is better sent as one TCP segment for both
 * (MSG_MORE): half the segments and half the client's acknowledgements,
 * which on one host are processed in the sender's system calls (1,000
 * downloads at 64 KiB/s, two records a grant: about 6 % less CPU).
 *
 * Also: a TCP_NODELAY set on a client socket that has it on already and
 * holds nothing back is answered here, without the system call (see
 * setsockopt() in tlspush.c: libmicrohttpd makes one per response).
 */
#ifndef TLSPUSH_H
#define TLSPUSH_H

#include <stdbool.h>
#include <stddef.h>

/* Sizes the per-descriptor table for descriptors below max_fd (the
 * process's RLIMIT_NOFILE).  Start-up, before any connection.  Returns 0,
 * or -1 when out of memory. */
int	tlspush_init(size_t max_fd);
/* Takes over the record pushes of session (a gnutls_session_t) whose
 * socket is fd, with "more" off; nodelay: TCP_NODELAY is on for fd (the
 * caller set it).  The thread that owns the connection, once per
 * connection, before its first response. */
void	tlspush_attach(void *session, int fd, bool nodelay);
/* Whether the records pushed next on fd are followed at once by more
 * (the caller's promise: another record is pushed before the connection
 * waits for anything).  A broken promise delays the held bytes until the
 * kernel's probe timer (200 ms or more), never loses them.  The owning
 * worker thread. */
void	tlspush_more(int fd, bool more);
/* Forgets fd (its connection is closing): a later connection on the same
 * number starts with "more" off and TCP_NODELAY unknown. */
void	tlspush_forget(int fd);
void	tlspush_free(void);

#endif
