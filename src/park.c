/*
 * park: handshakes waiting for their client, suspended until their
 * socket is readable (see park.h).
 */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"
#include "park.h"
#include "request.h"
#include "upstream.h"

#define EVENTS	64

/* Per descriptor: the connection (written by its worker at the start,
 * read by the thread after the parked flag, which orders them) and
 * whether it is parked (set by the worker, cleared by whoever resumes). */
static struct MHD_Connection	**conn_of;
static struct uloop		**loop_of;	/* the loop running it */
static _Atomic unsigned char	 *parked;
static size_t			  nfd;
static int			  ep = -1;
static pthread_t		  thread;

/* Resumes fd's connection if it is parked; any thread. */
static void
unpark(int fd)
{
	if (atomic_exchange(&parked[fd], 0)) {
		MHD_resume_connection(conn_of[fd]);
		upstream_resumed(loop_of[fd]);
		request_gate_leave();
	}
}

static void *
run(void *arg)
{
	struct epoll_event ev[EVENTS];
	int i, n;

	(void)arg;
	for (;;) {
		n = epoll_wait(ep, ev, EVENTS, -1);
		if (n == -1 && errno != EINTR) {
			log_error("park: epoll_wait: %m");
			break;
		}
		for (i = 0; i < n; i++)
			unpark(ev[i].data.fd);
	}
	return NULL;
}

int
park_init(size_t max_fd)
{
	if ((conn_of = calloc(max_fd, sizeof(*conn_of))) == NULL ||
	    (loop_of = calloc(max_fd, sizeof(*loop_of))) == NULL ||
	    (parked = calloc(max_fd, 1)) == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	nfd = max_fd;
	/* Runs until the process exits: it holds nothing to free. */
	if (pthread_create(&thread, NULL, run, NULL) != 0)
		return -1;
	pthread_detach(thread);
	return 0;
}

void
park_attach(int fd, void *con)
{
	if (fd >= 0 && (size_t)fd < nfd) {
		conn_of[fd] = con;
		loop_of[fd] = upstream_current();
	}
}

void
park_forget(int fd)
{
	if (fd < 0 || (size_t)fd >= nfd || conn_of[fd] == NULL)
		return;
	(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	conn_of[fd] = NULL;
}

bool
park_wait(int fd)
{
	struct epoll_event ev;

	if (fd < 0 || (size_t)fd >= nfd || conn_of[fd] == NULL ||
	    atomic_load(&parked[fd]) || !request_gate_enter())
		return false;
	MHD_suspend_connection(conn_of[fd]);
	atomic_store(&parked[fd], 1);
	/* One-shot: one resume per wait; the registration stays (disabled)
	 * and is re-armed by the next wait. */
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == -1 &&
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		unpark(fd);	/* cannot watch it: let it run */
	return true;
}

void
park_release(void)
{
	size_t fd;

	for (fd = 0; fd < nfd; fd++)
		if (atomic_load(&parked[fd]))
			unpark((int)fd);
}
