/*
 * tlsread: how bytes from the client come in under TLS.  GnuTLS reads
 * exactly what it needs, a record's 5-byte header and then its body, so
 * each record costs two recv() calls and a drained socket a third; on
 * these machines a system call costs more than decrypting 16 KiB.  Here
 * one recv() of up to TLSREAD_AHEAD bytes serves several of GnuTLS's reads.
 *
 * The promise libmicrohttpd relies on holds: a read fails with EAGAIN
 * only when nothing is held here and the socket is drained, so that its
 * edge-triggered epoll still sees every byte.  A connection holds a
 * buffer only while bytes wait in it: while libmicrohttpd stops reading
 * without having met EAGAIN (its read buffer is full: an upload waiting
 * for the backend).  Otherwise the buffer goes back to the thread's
 * spare, so idle and downloading connections hold none.
 *
 * Threads: a descriptor's buffer is touched only by the thread that owns
 * its connection (the loop, inside libmicrohttpd's calls into GnuTLS);
 * each thread keeps one spare buffer of its own.
 */
#ifndef TLSREAD_H
#define TLSREAD_H

#include <stddef.h>
#include <sys/types.h>

/* Bytes read ahead at most: two full records and the next header. */
#define TLSREAD_AHEAD	(32 * 1024 + 64)

/* Sizes the per-descriptor table for descriptors below max_fd.  Start-up,
 * before any connection.  Returns 0, or -1 when out of memory. */
int	tlsread_init(size_t max_fd);
/* Like recv(fd, buf, len, 0): up to len bytes, from what was read ahead
 * or else from the socket.  Returns bytes, 0 at the end of the stream, or
 * -1 with errno (EAGAIN only when nothing is held and the socket has
 * nothing).  The thread that owns the connection on fd. */
ssize_t	tlsread_recv(int fd, void *buf, size_t len);
/* Bytes held for fd (read from the socket, not yet given to GnuTLS). */
size_t	tlsread_held(int fd);
/* Drops what is held for fd (its connection is closing).  Owning thread. */
void	tlsread_forget(int fd);
/* Frees the table (and the calling thread's spare); after every
 * connection is closed. */
void	tlsread_free(void);
/* Frees the calling thread's spare buffer (a thread that ends). */
void	tlsread_thread_done(void);

#endif
