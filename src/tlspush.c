/*
 * tlspush: record pushes with MSG_MORE when the next record follows at
 * once, and no TCP_NODELAY push that has nothing to push (see tlspush.h).
 * libmicrohttpd gives GnuTLS the socket as a descriptor
 * (gnutls_transport_set_int()), so the push function learns only the
 * descriptor: the flags are kept per descriptor.
 */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "tlspush.h"

/* Flags per descriptor.  Written and read by the thread that owns the
 * connection on that descriptor; relaxed atomics because a descriptor
 * number passes between threads when connections close and others open
 * (the kernel orders those). */
#define F_MORE		0x01	/* the caller promised another record */
#define F_NODELAY	0x02	/* a client socket with TCP_NODELAY on */
#define F_HELD		0x04	/* the last push used MSG_MORE */
#define F_CORKED	0x08	/* TCP_CORK is on */
static _Atomic unsigned char	*flags;
static size_t			 nflags;

int
tlspush_init(size_t max_fd)
{
	if ((flags = calloc(max_fd > 0 ? max_fd : 1, 1)) == NULL)
		return -1;
	nflags = max_fd;
	return 0;
}

static unsigned
get(int fd)
{
	if (fd < 0 || (size_t)fd >= nflags)
		return 0;
	return atomic_load_explicit(&flags[fd], memory_order_relaxed);
}

static void
put(int fd, unsigned set, unsigned clear)
{
	unsigned f;

	if (fd < 0 || (size_t)fd >= nflags)
		return;
	f = atomic_load_explicit(&flags[fd], memory_order_relaxed);
	atomic_store_explicit(&flags[fd], (unsigned char)((f & ~clear) | set),
	    memory_order_relaxed);
}

/* GnuTLS's vectored push: what its default does (sendmsg() without
 * SIGPIPE), plus MSG_MORE when promised.  Returns bytes sent or -1 with
 * errno, which GnuTLS reads. */
static ssize_t
push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct msghdr m;
	int fd = (int)(intptr_t)ptr;
	bool more = (get(fd) & F_MORE) != 0;

	memset(&m, 0, sizeof(m));
	/* giovec_t is struct iovec's layout (GnuTLS says so). */
	m.msg_iov = (struct iovec *)(uintptr_t)iov;
	m.msg_iovlen = (size_t)iovcnt;
	put(fd, more ? F_HELD : 0, more ? 0 : F_HELD);
	return sendmsg(fd, &m, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
}

void
tlspush_more(int fd, bool on)
{
	put(fd, on ? F_MORE : 0, on ? 0 : F_MORE);
}

void
tlspush_attach(void *session, int fd, bool nodelay)
{
	put(fd, nodelay ? F_NODELAY : 0, F_MORE | F_HELD | F_CORKED |
	    (nodelay ? 0 : F_NODELAY));
	gnutls_transport_set_vec_push_function((gnutls_session_t)session,
	    push);
}

void
tlspush_forget(int fd)
{
	put(fd, 0, F_MORE | F_NODELAY | F_HELD | F_CORKED);
}

/*
 * libmicrohttpd (0.9.75) pushes the end of every response by setting
 * TCP_NODELAY, even when it is on already: it does not know the state of
 * a socket given to it by MHD_add_connection(), and with TLS it never
 * learns it.  On a socket with TCP_NODELAY on, not corked and whose last
 * record went without MSG_MORE, nothing waits in the kernel and the call
 * would push nothing: two system calls per response, 2 of 13 per 4 KiB
 * GET.  This definition takes the place of the C library's for the whole
 * process; every other call goes through to the kernel unchanged.
 */
int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	unsigned f = get(fd);
	int on, rc;

	if (level != IPPROTO_TCP || (name != TCP_NODELAY && name != TCP_CORK) ||
	    val == NULL || len < (socklen_t)sizeof(int) || (f & F_NODELAY) == 0)
		return (int)syscall(SYS_setsockopt, fd, level, name, val, len);
	on = *(const int *)val != 0;
	if (name == TCP_NODELAY && on && (f & (F_HELD | F_CORKED)) == 0)
		return 0;
	if ((rc = (int)syscall(SYS_setsockopt, fd, level, name, val, len)) == 0) {
		if (name == TCP_CORK)
			put(fd, on ? F_CORKED : 0, on ? 0 : F_CORKED);
		else if (!on)
			put(fd, 0, F_NODELAY);
	}
	return rc;
}

void
tlspush_free(void)
{
	free(flags);
	flags = NULL;
	nflags = 0;
}
