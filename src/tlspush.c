/*
 * tlspush: record pushes with MSG_MORE when the next record follows at
 * once (see tlspush.h).  libmicrohttpd gives GnuTLS the socket as a
 * descriptor (gnutls_transport_set_int()), so the push function learns
 * only the descriptor: the "more" flag is kept per descriptor.
 */

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <gnutls/gnutls.h>

#include "tlspush.h"

/* One flag per descriptor.  Written and read by the worker thread that
 * owns the connection on that descriptor; relaxed atomics because a
 * descriptor number passes between threads when connections close and
 * others open (the kernel orders those). */
static _Atomic unsigned char	*more;
static size_t			 nmore;

int
tlspush_init(size_t max_fd)
{
	if ((more = calloc(max_fd > 0 ? max_fd : 1, 1)) == NULL)
		return -1;
	nmore = max_fd;
	return 0;
}

static bool
get_more(int fd)
{
	return fd >= 0 && (size_t)fd < nmore &&
	    atomic_load_explicit(&more[fd], memory_order_relaxed) != 0;
}

/* GnuTLS's vectored push: what its default does (sendmsg() without
 * SIGPIPE), plus MSG_MORE when promised.  Returns bytes sent or -1 with
 * errno, which GnuTLS reads. */
static ssize_t
push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct msghdr m;
	int fd = (int)(intptr_t)ptr;

	memset(&m, 0, sizeof(m));
	/* giovec_t is struct iovec's layout (GnuTLS says so). */
	m.msg_iov = (struct iovec *)(uintptr_t)iov;
	m.msg_iovlen = (size_t)iovcnt;
	return sendmsg(fd, &m, MSG_NOSIGNAL | (get_more(fd) ? MSG_MORE : 0));
}

void
tlspush_more(int fd, bool on)
{
	if (fd >= 0 && (size_t)fd < nmore)
		atomic_store_explicit(&more[fd], on ? 1 : 0,
		    memory_order_relaxed);
}

void
tlspush_attach(void *session, int fd)
{
	tlspush_more(fd, false);
	gnutls_transport_set_vec_push_function((gnutls_session_t)session,
	    push);
}

void
tlspush_forget(int fd)
{
	tlspush_more(fd, false);
}

void
tlspush_free(void)
{
	free(more);
	more = NULL;
	nmore = 0;
}
