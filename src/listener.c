/*
 * listener: accepts connections for libmicrohttpd (see listener.h).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "upstream.h"

#define BACKLOG		1024
/* After accept() fails for want of descriptors or memory: the pause
 * before the next try (ms), so that the loop does not spin meanwhile. */
#define RETRY_MS	100

static int			 lfd = -1;
static pthread_t		 thread;
static bool			 started;
static atomic_bool		 stop;
static int			(*admit_fn)(int, const struct sockaddr *);

int
listener_open(const char *bind_addr, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(bind_addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, bind_addr, &s6->sin6_addr) != 1)
			goto badaddr;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, bind_addr, &s4->sin_addr) != 1)
			goto badaddr;
		len = sizeof(*s4);
	}
	if ((lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto syserr;
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(lfd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(lfd, BACKLOG) == -1)
		goto syserr;
	return 0;
syserr:
	snprintf(err, errlen, "cannot listen on %s port %u: %s", bind_addr,
	    (unsigned)port, strerror(errno));
	if (lfd != -1)
		close(lfd);
	lfd = -1;
	return -1;
badaddr:
	snprintf(err, errlen, "bind: '%s' is not a numeric IPv4 or IPv6 "
	    "address", bind_addr);
	return -1;
}

static void *
run(void *arg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool short_logged = false;
	int fd;

	(void)arg;
	while (!atomic_load(&stop)) {
		len = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (atomic_load(&stop))
				break;
			/* Only a shortage waits: anything else is the
			 * error of one connection (accept(2): Linux passes
			 * on pending network errors), tried again at once. */
			if (errno != EMFILE && errno != ENFILE &&
			    errno != ENOBUFS && errno != ENOMEM)
				continue;
			if (!short_logged) {
				log_error("accept: %s; retrying every %d ms",
				    strerror(errno), RETRY_MS);
				short_logged = true;
			}
			(void)poll(NULL, 0, RETRY_MS);
			continue;
		}
		short_logged = false;
		if (admit_fn(fd, (struct sockaddr *)&ss) == -1) {
			close(fd);
			continue;
		}
		upstream_adopt(fd, (struct sockaddr *)&ss, len);
	}
	return NULL;
}

int
listener_start(int (*admit)(int, const struct sockaddr *))
{
	admit_fn = admit;
	if (pthread_create(&thread, NULL, run, NULL) != 0)
		return -1;
	started = true;
	return 0;
}

void
listener_close(void)
{
	if (lfd == -1)
		return;
	atomic_store(&stop, true);
	/* Wakes the accept() the thread is blocked in (EINVAL). */
	(void)shutdown(lfd, SHUT_RDWR);
	if (started)
		pthread_join(thread, NULL);
	started = false;
	close(lfd);
	lfd = -1;
}
