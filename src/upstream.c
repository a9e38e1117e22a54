/*
 * upstream: the event loops (see upstream.h).  Each loop owns its
 * libmicrohttpd daemon (through struct upstream_server), its multi handle,
 * its easy handles and its list of active requests; it moves bytes
 * between the backend and each request's rings, and resumes suspended
 * client connections, all in its own thread.
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bufcache.h"
#include "headers.h"
#include "httpcheck.h"
#include "log.h"
#include "metrics.h"
#include "tlsread.h"
#include "upstream.h"

/* libcurl hands a whole recv() (up to the chunk) to the write callback in
 * pieces of at most 16 KiB; what does not fit when we pause is copied into
 * its pause buffer and handed over again at resume, and fails the transfer
 * past 64 MiB.  A paused transfer is therefore resumed only when a whole
 * chunk fits, so the held part is delivered at once, never re-copied. */

#define TAG_SOCKET	(1ULL << 56)
#define TAG_WAKE	(2ULL << 56)
#define TAG_HUP		(3ULL << 56)
#define TAG_SERVER	(4ULL << 56)	/* the loop's libmicrohttpd daemon */
#define TAG_MASK	(0xffULL << 56)
/* Reads per readable backend socket before other sockets get a turn. */
#define DRAIN_ROUNDS	8
#define EVENTS		256
/* Rounds of commands and timers between two epoll_wait() calls. */
#define SETTLE_ROUNDS	4
/* Sends held in a row by on_read() for an answer waiting to be read: a
 * bound, should libcurl not read it. */
#define READ_FIRST_MAX	3

/* [C] Per backend descriptor, for connection sockets this loop opened
 * (on_open()).  Waiting to read only, they are registered edge-triggered
 * and stay registered while libcurl pauses their transfer, so that a pause
 * and its resume cost no epoll_ctl() (two per refill of a slow download).
 * That is safe for reading: libcurl reads until EAGAIN, a pause or its
 * own loop limit (after which it comes back by its timer), and a resume
 * forces a read.  It is not for writing: libcurl sends one buffer per
 * call and expects to be called again while the socket stays writable,
 * so interest in writing is level-triggered and removed on a pause. */
#define S_CONN		0x01	/* opened by on_open(), not yet closed */
#define S_REG		0x02	/* in ep_fd */
#define S_IN		0x04	/* registered for reading */
#define S_OUT		0x08	/* registered for writing */
#define S_PARKED	0x10	/* libcurl asked to remove it: kept */
#define S_EDGE		0x20	/* an event came while parked */
#define S_ET		0x40	/* registered edge-triggered (S_IN only) */

/* The easy-handle pool (easy_get()): handles kept per receive size. */
#define EASY_POOL	16
static const size_t	 easy_sizes[] = { UPSTREAM_CHUNK_SMALL,
    UPSTREAM_CHUNK_SHAPED, UPSTREAM_CHUNK_SLOW, UPSTREAM_CHUNK_BIG };
#define EASY_CLASSES	(sizeof(easy_sizes) / sizeof(easy_sizes[0]))

/* A connection accepted by the listener, for a loop's daemon. */
struct adopt {
	struct adopt		*next;
	int			 fd;
	socklen_t		 len;
	struct sockaddr_storage	 ss;
};

/*
 * One event loop: a thread, its epoll set, its libmicrohttpd daemon (run
 * through the hooks in `srv`) and its multi handle.  Every request is run
 * by the loop whose daemon has its connection, from its first byte to its
 * end; [C] fields belong to that thread.  Only the queue (commands and
 * adopted connections, under queue_lock) is written by other threads:
 * the shaper's timers (loop 0), the listener, shutdown.
 */
struct uloop {
	unsigned		 index;
	pthread_t		 thread;
	bool			 started;
	CURLM			*multi;		/* [C] */
	/* One epoll set for everything the loop waits on: the daemon's own
	 * epoll set, backend sockets (given by libcurl's socket callback),
	 * the wake-up eventfd, and client sockets watched for hang-up.  The
	 * tag is in the top byte of data.u64. */
	int			 ep_fd;
	int			 wake_fd;	/* eventfd: queued from outside */
	atomic_bool		 wake_pending;	/* wake_fd written, not read */
	uint64_t		 timer_at;	/* [C] ns of libcurl's timeout,
						   0: none */
	uint64_t		 cb_bytes;	/* [C] bytes through callbacks */
	unsigned		 nactive;	/* [C] requests on the list */
	bool			 in_unpause;	/* [C] in curl_easy_pause() */
	bool			 resumed;	/* [C] a connection was resumed:
						   run the daemon again */
	struct request		*active;	/* [C] started, not cancelled */
	uint8_t			*socks;		/* [C] S_* by descriptor */
	size_t			 nsocks;
	pthread_mutex_t		 queue_lock;
	struct request		*queue_head, *queue_tail; /* queue_lock */
	struct adopt		*adopt_head;	/* queue_lock */
	/* [C] Requests to wake when the current libcurl call returns
	 * (wake_later(), wake_flush()).  PACE_SLOW downloads that received
	 * data: once per refill with the whole refill in, not per 16 KiB
	 * piece.  Uploads that gave libcurl body bytes: on_read() must
	 * return to libcurl at once (see there).  Each holds a reference. */
	struct request		*woken;
	CURL			*easy_pool[EASY_CLASSES][EASY_POOL]; /* [C] */
	unsigned		 easy_n[EASY_CLASSES];		/* [C] */
};

static void	 wake(struct uloop *);

static const struct config *cfg;
static const struct upstream_server *srv;
static struct uloop	*loops;
static unsigned		 nloops;
static atomic_uint	 next_loop;	/* round robin of adopted connections */
static __thread struct uloop *L;	/* the calling thread's loop, or NULL */
static int		 ca_fd = -1;	/* memfd holding an inline CA */
static char		 ca_path[64];
/* PACE_SLOW download buffers (UPSTREAM_CHUNK_SLOW), shared by the loops:
 * each holds a refill from its arrival until the client side has taken
 * it, and goes back to the cache then (server.c reader()).  1,000
 * downloads at 64 KiB/s held up to about 200 at once (refills come in
 * waves), 2,000 refills a second; SLOW_RESERVE free ones (8 MiB at most)
 * stay resident so that the waves cost no system call (with 64, a third
 * of the refills paid a madvise() and page faults).  Past the reserve, a
 * burst (1,000 downloads starting at once held 964) is given back as it
 * drains. */
#define SLOW_RESERVE	256
static struct bufcache	 slow_bufs;
static atomic_bool	 stopping;	/* loops should exit */
static atomic_bool	 aborting;	/* fail all transfers (shutdown) */
static _Atomic uint64_t	 last_answer;	/* ns of the last response headers */

/* libcurl tells which backend sockets to wait on, and for what. */
static int
on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *known)
{
	struct epoll_event ev;
	uint8_t *st = fd >= 0 && (size_t)fd < L->nsocks ? &L->socks[fd] : NULL;
	uint8_t want;

	(void)arg;
	if (what == CURL_POLL_REMOVE) {
		curl_multi_assign(L->multi, fd, NULL);
		if (st != NULL && (*st & (S_CONN | S_REG | S_ET)) ==
		    (S_CONN | S_REG | S_ET)) {
			*st = (uint8_t)((*st | S_PARKED) & ~S_EDGE);
			return 0;
		}
		(void)epoll_ctl(L->ep_fd, EPOLL_CTL_DEL, fd, NULL);
		if (st != NULL)
			*st &= S_CONN;
		return 0;
	}
	/* The transfer's socket, for on_read()'s look at what waits
	 * (libcurl 7.88 names it only after the transfer: no
	 * CURLINFO_ACTIVESOCKET meanwhile). */
	{
		struct request *r = NULL;

		if (curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r) ==
		    CURLE_OK && r != NULL)
			r->up_fd = fd;
	}
	want = (what & CURL_POLL_IN ? S_IN : 0) |
	    (what & CURL_POLL_OUT ? S_OUT : 0);
	memset(&ev, 0, sizeof(ev));
	ev.events = (want & S_IN ? EPOLLIN : 0) | (want & S_OUT ? EPOLLOUT : 0);
	ev.data.u64 = TAG_SOCKET | (uint32_t)fd;
	if (st != NULL && (*st & S_CONN)) {
		uint8_t now = want == S_IN ? S_ET : 0;

		/* Back from a pause with the same interest: nothing to
		 * change.  An edge seen while parked is given again by
		 * re-arming, unless this is a resume (curl_easy_pause()
		 * forces the read itself). */
		if ((*st & S_REG) && (*st & (S_IN | S_OUT | S_ET)) ==
		    (want | now) && (!(*st & S_EDGE) || L->in_unpause)) {
			*st &= (uint8_t)~(S_PARKED | S_EDGE);
			curl_multi_assign(L->multi, fd, (void *)1);
			return 0;
		}
		if (now)
			ev.events |= EPOLLET;
		if (epoll_ctl(L->ep_fd, (*st & S_REG) ? EPOLL_CTL_MOD :
		    EPOLL_CTL_ADD, fd, &ev) == -1)
			log_warn("epoll_ctl on backend socket %d: %s", fd,
			    strerror(errno));
		*st = S_CONN | S_REG | want | now;
		curl_multi_assign(L->multi, fd, (void *)1);
		return 0;
	}
	if (known == NULL) {
		if (epoll_ctl(L->ep_fd, EPOLL_CTL_ADD, fd, &ev) == -1 &&
		    errno == EEXIST)
			(void)epoll_ctl(L->ep_fd, EPOLL_CTL_MOD, fd, &ev);
		curl_multi_assign(L->multi, fd, (void *)1);
	} else
		(void)epoll_ctl(L->ep_fd, EPOLL_CTL_MOD, fd, &ev);
	return 0;
}

/* libcurl opens a backend connection's socket for request arg: marked as
 * ours, so that it can stay registered across pauses (on_socket()). */
static curl_socket_t
on_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct request *r = arg;
	int fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd == -1)
		return CURL_SOCKET_BAD;
	if ((size_t)fd < L->nsocks)
		L->socks[fd] = S_CONN;
	r->up_fd = fd;
	return fd;
}

/* ... and closes it: the kernel drops it from ep_fd, we forget it. */
static int
on_close(void *arg, curl_socket_t fd)
{
	(void)arg;
	if (fd >= 0 && (size_t)fd < L->nsocks)
		L->socks[fd] = 0;
	return close(fd) == 0 ? 0 : 1;
}

/* libcurl asks to be called back in timeout_ms (-1: no timer). */
static int
on_timer(CURLM *m, long timeout_ms, void *arg)
{
	(void)m;
	(void)arg;
	L->timer_at = timeout_ms < 0 ? 0 :
	    request_now() + (uint64_t)timeout_ms * 1000000ULL;
	return 0;
}

static int
loop_init(struct uloop *u, unsigned index, size_t nfd, char *err,
    size_t errlen)
{
	struct epoll_event ev;

	u->index = index;
	u->ep_fd = u->wake_fd = -1;
	pthread_mutex_init(&u->queue_lock, NULL);
	if ((u->socks = calloc(nfd > 0 ? nfd : 1, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	u->nsocks = nfd;
	if ((u->multi = curl_multi_init()) == NULL) {
		snprintf(err, errlen, "curl_multi_init failed");
		return -1;
	}
	/* Keep backend connections for reuse; bound them with the clients. */
	curl_multi_setopt(u->multi, CURLMOPT_MAXCONNECTS, 1024L);
	if ((u->ep_fd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (u->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		snprintf(err, errlen, "epoll/eventfd: %s", strerror(errno));
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_WAKE;
	if (epoll_ctl(u->ep_fd, EPOLL_CTL_ADD, u->wake_fd, &ev) == -1) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	return 0;
}

int
upstream_init(const struct config *c, size_t nfd, unsigned n, char *err,
    size_t errlen)
{
	unsigned i;

	cfg = c;
	if (n == 0)
		n = 1;
	if ((loops = calloc(n, sizeof(*loops))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	nloops = n;
	if (bufcache_init(&slow_bufs, UPSTREAM_CHUNK_SLOW, SLOW_RESERVE) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	request_on_resume(upstream_resumed);
	for (i = 0; i < n; i++)
		if (loop_init(&loops[i], i, nfd, err, errlen) == -1)
			return -1;
	/* libcurl's GnuTLS backend takes a CA only as a file: an inline PEM is
	 * given a file that lives in memory, never on disk. */
	if (strstr(cfg->upstream_ca, "-----BEGIN") != NULL) {
		size_t len = strlen(cfg->upstream_ca);

		ca_fd = memfd_create("upstream-ca", MFD_CLOEXEC);
		if (ca_fd == -1 || write(ca_fd, cfg->upstream_ca, len) !=
		    (ssize_t)len) {
			snprintf(err, errlen, "upstream-ca: cannot hold the "
			    "inline PEM: %s", strerror(errno));
			return -1;
		}
		snprintf(ca_path, sizeof(ca_path), "/proc/self/fd/%d", ca_fd);
	} else if (cfg->upstream_ca[0] != '\0') {
		if (access(cfg->upstream_ca, R_OK) == -1) {
			snprintf(err, errlen, "upstream-ca: %s: %s",
			    cfg->upstream_ca, strerror(errno));
			return -1;
		}
		snprintf(ca_path, sizeof(ca_path), "%s", "");
	}
	return 0;
}

void
upstream_resumed(struct uloop *u)
{
	if (u == NULL)
		return;
	if (u == L)
		u->resumed = true;
	else
		wake(u);
}

unsigned
upstream_loops(void)
{
	return nloops;
}

struct uloop *
upstream_current(void)
{
	return L;
}

/* Wakes loop u; one eventfd write however many commands.  Any thread. */
static void
wake(struct uloop *u)
{
	uint64_t one = 1;

	if (!atomic_exchange(&u->wake_pending, true) &&
	    write(u->wake_fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_error("cannot wake loop %u: %s", u->index,
		    strerror(errno));
}

void
upstream_post(struct request *r, unsigned cmds)
{
	struct uloop *u = r->loop;

	pthread_mutex_lock(&u->queue_lock);
	if (r->cmds == 0) {
		request_ref(r);
		r->cmd_next = NULL;
		if (u->queue_tail != NULL)
			u->queue_tail->cmd_next = r;
		else
			u->queue_head = r;
		u->queue_tail = r;
	}
	r->cmds |= cmds;
	pthread_mutex_unlock(&u->queue_lock);
	/* The loop itself runs its queue before it sleeps: no wake-up. */
	if (u != L)
		wake(u);
}

void
upstream_adopt(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct uloop *u = &loops[atomic_fetch_add(&next_loop, 1) % nloops];
	struct adopt *a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		close(fd);
		return;
	}
	a->fd = fd;
	a->len = len <= sizeof(a->ss) ? len : sizeof(a->ss);
	memcpy(&a->ss, sa, a->len);
	pthread_mutex_lock(&u->queue_lock);
	a->next = u->adopt_head;
	u->adopt_head = a;
	pthread_mutex_unlock(&u->queue_lock);
	wake(u);
}

/* Hands the connections the listener queued to this loop's daemon. */
static void
run_adopted(void)
{
	struct adopt *a, *next;

	pthread_mutex_lock(&L->queue_lock);
	a = L->adopt_head;
	L->adopt_head = NULL;
	pthread_mutex_unlock(&L->queue_lock);
	for (; a != NULL; a = next) {
		next = a->next;
		srv->adopt(L->index, a->fd, (struct sockaddr *)&a->ss, a->len);
		free(a);
	}
}

void
upstream_watch(int fd, uint64_t conn_id)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLRDHUP | EPOLLET;
	ev.data.u64 = TAG_HUP | conn_id;
	if (epoll_ctl(L->ep_fd, EPOLL_CTL_ADD, fd, &ev) == -1)
		log_warn("cannot watch client socket %d: %s", fd,
		    strerror(errno));
}

void
upstream_unwatch(int fd)
{
	if (L != NULL)
		(void)epoll_ctl(L->ep_fd, EPOLL_CTL_DEL, fd, NULL);
}

/* --- libcurl callbacks (the request's loop) ----------------------------- */

/* Makes room for need bytes of backend header section: doubling from
 * 1 KiB, at most REQUEST_RESP_HEADERS_MAX.  Returns 0 or -1. */
static int
grow_headers(struct request *r, size_t need)
{
	size_t cap = r->resp_headers_cap > 0 ? r->resp_headers_cap : 1024;
	char *p;

	if (need > REQUEST_RESP_HEADERS_MAX) {
		log_error("request %llu: backend header section larger than "
		    "%d bytes", (unsigned long long)r->id,
		    REQUEST_RESP_HEADERS_MAX);
		return -1;
	}
	if (need <= r->resp_headers_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if ((p = realloc(r->resp_headers, cap)) == NULL)
		return -1;
	r->resp_headers = p;
	r->resp_headers_cap = cap;
	return 0;
}

/* Reads one field line of the backend's response header section strictly:
 * the client must see the response end where the backend meant it to end
 * (RFC 9112 6.3).  Returns NULL, or why the response is refused (502; the
 * text goes to the access log). */
static const char *
read_field(struct request *r, const char *buf, size_t len)
{
	const char *colon, *v;
	size_t namelen, vlen;
	int64_t n;

	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (buf[0] == ' ' || buf[0] == '\t')
		return "folded header line (obs-fold)";
	if ((colon = memchr(buf, ':', len)) == NULL ||
	    !httpcheck_token(buf, (size_t)(colon - buf)))
		return "invalid header line";
	namelen = (size_t)(colon - buf);
	for (v = colon + 1; v < buf + len && (*v == ' ' || *v == '\t'); v++)
		;
	vlen = (size_t)(buf + len - v);
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (!httpcheck_value(v, vlen))
		return "control character in a header value";
	if (namelen == 14 && strncasecmp(buf, "Content-Length", 14) == 0) {
		if (httpcheck_length(v, vlen, &n) == -1)
			return "invalid Content-Length";
		/* Repeated with one value is allowed (RFC 9110 8.6). */
		if (r->resp_lengths++ > 0 && n != r->resp_length)
			return "conflicting Content-Length values";
		r->resp_length = n;
	} else if (namelen == 17 &&
	    strncasecmp(buf, "Transfer-Encoding", 17) == 0) {
		/* libcurl decodes chunked alone (we ask for no content
		 * decoding); any other coding would end the transfer with an
		 * error after the response has started. */
		if (r->resp_coded || !httpcheck_chunked(v, vlen))
			return "Transfer-Encoding other than chunked";
		r->resp_coded = true;
	} else if (namelen == 10 && strncasecmp(buf, "Connection", 10) == 0) {
		if (vlen >= sizeof(r->conn_tokens))
			vlen = sizeof(r->conn_tokens) - 1;
		memcpy(r->conn_tokens, v, vlen);
		r->conn_tokens[vlen] = '\0';
		if (headers_has_token(r->conn_tokens, "close"))
			r->resp_close = true;
	}
	return NULL;
}

static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct request *r = arg;
	size_t len = size * n;
	bool done = false, nobody = false;

	if (r->up != UP_PENDING)	/* trailers: not forwarded */
		return len;
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* A new status line: a 1xx block before it is forgotten. */
		const char *sp = memchr(buf, ' ', len);

		r->status = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;
		r->resp_headers_len = 0;
		r->resp_length = -1;
		r->resp_lengths = 0;
		r->resp_coded = false;
		r->conn_tokens[0] = '\0';
		/* HTTP/1.0: closed after the answer unless kept alive. */
		r->resp_close = len >= 8 && strncmp(buf, "HTTP/1.0", 8) == 0;
		/* 100 and 103 precede the answer; any other 1xx (101 switches
		 * protocols, which the client did not ask for) cannot be
		 * forwarded as one. */
		if (r->status < 100 || r->status > 599)
			r->bad_response = "invalid status line";
		else if (r->status < 200 && !httpcheck_interim(r->status))
			r->bad_response = "1xx status other than 100 or 103";
		/* Either fails the transfer: 502, the reason logged. */
		return r->bad_response != NULL ? 0 : len;
	}
	if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
		if (r->status < 200)
			return len;
		/* Transfer-Encoding wins over Content-Length (RFC 9112 6.3):
		 * libcurl reads the body by the coding, so must the client. */
		if (r->resp_coded)
			r->resp_length = -1;
		done = true;
		nobody = r->resp_length == 0 || r->status == 204 ||
		    r->status == 304 || r->head;
	} else {
		if ((r->bad_response = read_field(r, buf, len)) != NULL)
			return 0;	/* fails the transfer: 502 */
		if (grow_headers(r, r->resp_headers_len + len + 1) == -1)
			return 0;	/* fails the transfer: 502 */
		memcpy(r->resp_headers + r->resp_headers_len, buf, len);
		r->resp_headers_len += len;
		r->resp_headers[r->resp_headers_len] = '\0';
	}
	if (done) {
		unsigned mask = WAKE(WAIT_HEADERS) | WAKE(WAIT_CONTINUE);

		pthread_mutex_lock(&r->lock);
		r->up = UP_HEADERS;
		r->t_headers = request_now();
		atomic_store_explicit(&last_answer, r->t_headers,
		    memory_order_relaxed);
		if (nobody)
			r->body_in = true;
		/* An error answer before the whole body was sent (a 403 or
		 * 404 to an upload) is final: libcurl stops sending (its own
		 * rule, status 300 and over), the client side stops waiting
		 * for upload room and drops the rest (server.c discard()).  A
		 * 2xx before the end keeps libcurl sending: the body still
		 * goes upstream. */
		if (!r->sent_all && r->status >= 300) {
			r->early = true;
			mask |= WAKE(WAIT_UPLOAD) | WAKE(WAIT_TOKENS);
		}
		pthread_mutex_unlock(&r->lock);
		request_wake(r, mask);
	}
	return len;
}

/* The curl_easy_pause() mask that stops the download.  libcurl 7.88
 * treats a pause of one direction as "run the other now": it forces a
 * read of the socket at the next timer, and what that read gets goes into
 * its pause buffer (one more copy, an allocation, and a full buffer held
 * per transfer).  So once the request body is all sent, both directions
 * are paused.  Called under r's lock. */
static int
pause_mask(const struct request *r)
{
	if (r->sent_all)
		return CURLPAUSE_ALL;
	return CURLPAUSE_RECV | (r->up_paused ? CURLPAUSE_SEND : 0);
}

/* Wakes r for mask when the current libcurl call returns. */
static void
wake_later(struct request *r, unsigned mask)
{
	r->wake_mask |= mask;
	if (r->wake_queued)
		return;
	r->wake_queued = true;
	request_ref(r);
	r->wake_next = L->woken;
	L->woken = r;
}

/* Are bytes from the backend waiting to be read on fd?  Peeked, not
 * polled: an end of stream alone is readable too, and no answer. */
static bool
answer_waiting(int fd)
{
	char c;

	return fd >= 0 && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
}

static size_t
on_write(char *buf, size_t size, size_t n, void *arg)
{
	struct request *r = arg;
	size_t len = size * n;
	int mask = 0;

	pthread_mutex_lock(&r->lock);
	if (r->gone || r->hup) {
		pthread_mutex_unlock(&r->lock);
		return CURL_WRITEFUNC_ERROR;
	}
	if (r->down.cap == 0 && ring_grow(&r->down, r->down_init) == -1) {
		pthread_mutex_unlock(&r->lock);
		return CURL_WRITEFUNC_ERROR;
	}
	if (ring_space(&r->down) < len) {
		r->down_paused = true;
		r->down_grow = true;
		pthread_mutex_unlock(&r->lock);
		return CURL_WRITEFUNC_PAUSE;
	}
	ring_write(&r->down, buf, len);
	r->recv_bytes += len;
	L->cb_bytes += len;
	if (r->resp_length >= 0 && r->recv_bytes >= (uint64_t)r->resp_length)
		r->body_in = true;
	/* Pause before the next recv() rather than refuse it: what is refused
	 * is copied and held by libcurl, a chunk more per slow client.
	 * (Inside curl_easy_pause(), unpause() re-pauses afterwards.)  A
	 * PACE_SLOW buffer is refilled only when empty, and one recv() of
	 * UPSTREAM_RECV_SLOW comes in one piece: it pauses once the next
	 * recv() would not fit, that is, with the buffer full.  Once the
	 * whole body is in, no pause: the transfer ends now, and its backend
	 * connection goes back to the pool without a resume. */
	if (!r->body_in && ring_space(&r->down) < (r->pace == PACE_SLOW ?
	    UPSTREAM_RECV_SLOW : r->chunk)) {
		r->down_paused = true;
		r->down_grow = true;
		mask = pause_mask(r);
	}
	pthread_mutex_unlock(&r->lock);
	if (mask != 0 && !L->in_unpause)
		curl_easy_pause(r->easy, mask);
	if (r->pace != PACE_SLOW)
		request_wake(r, WAKE(WAIT_DATA));
	else
		wake_later(r, WAKE(WAIT_DATA));
	return len;
}

/* Resumes the waiters on what the last libcurl call did. */
static void
wake_flush(void)
{
	struct request *r;

	while ((r = L->woken) != NULL) {
		L->woken = r->wake_next;
		r->wake_next = NULL;
		r->wake_queued = false;
		request_wake(r, r->wake_mask);
		r->wake_mask = 0;
		request_unref(r);
	}
}

/* libcurl rewinds the body to send it again: on a reused connection the
 * backend closed before answering, or after a 417 to Expect.  Only
 * possible while none of it has left the upload buffer. */
static int
on_seek(void *arg, curl_off_t offset, int origin)
{
	struct request *r = arg;

	if (offset == 0 && origin == SEEK_SET && r->sent_bytes == 0)
		return CURL_SEEKFUNC_OK;
	return CURL_SEEKFUNC_CANTSEEK;
}

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct request *r = arg;
	size_t len;
	bool room;

	pthread_mutex_lock(&r->lock);
	if (r->gone || r->hup) {
		pthread_mutex_unlock(&r->lock);
		return CURL_READFUNC_ABORT;
	}
	/* libcurl wants the body: the backend sent 100 Continue, or did not
	 * answer within CURLOPT_EXPECT_100_TIMEOUT_MS.  A client waiting
	 * for its own 100 gets it now (server.c on_continue()). */
	r->want_body = true;
	if (r->wait == WAIT_CONTINUE) {
		pthread_mutex_unlock(&r->lock);
		request_wake(r, WAKE(WAIT_CONTINUE));
		pthread_mutex_lock(&r->lock);
	}
	/* A backend that refuses an upload may answer and then close with
	 * the body unread: its reset follows the answer at once, and a send
	 * after the reset fails the transfer (CURLE_SEND_ERROR, a 502) with
	 * the answer unread in the socket, for libcurl (7.88 as well as 8.x)
	 * never reads after a failed send.  libcurl reads before it sends,
	 * but between that read and the send the loop may wait (for
	 * this lock, on the client's wake-up, preempted: up to 20 ms seen
	 * under load).  So look again here, with the lock held: what is left
	 * open is the copy below and libcurl's way to send(), microseconds.
	 * If an answer waits, hold the send and resume at once (a command to
	 * ourselves, unpause()): curl_easy_pause() makes libcurl read before
	 * it sends; an error answer then stops the body, a 100 or a 2xx lets
	 * it go on.  Only while no final answer is in, and a few times in a
	 * row at most, should libcurl not read what waits. */
	if (!r->early && r->up == UP_PENDING && r->upload.len > 0 &&
	    r->read_first < READ_FIRST_MAX && answer_waiting(r->up_fd)) {
		r->read_first++;
		pthread_mutex_unlock(&r->lock);
		upstream_post(r, CMD_RESUME_SEND);
		return CURL_READFUNC_PAUSE;
	}
	/* After an early answer the backend gets no more of the body.
	 * libcurl still asks only if the answer closes the connection (it
	 * stops sending itself otherwise): then the body may end here,
	 * short, for the connection is never reused.  Else it is paused, and
	 * the transfer ends when the answer is in (on_progress()). */
	len = r->early ? 0 : ring_read(&r->upload, buf, size * n);
	if (len == 0) {
		if (r->early ? r->resp_close : r->upload_eof) {
			r->sent_all = true;
			pthread_mutex_unlock(&r->lock);
			return 0;
		}
		r->up_paused = true;
		pthread_mutex_unlock(&r->lock);
		return CURL_READFUNC_PAUSE;
	}
	L->cb_bytes += len;
	r->sent_bytes += len;
	r->read_first = 0;
	/* Wake the client only when half the buffer is free: fewer wake-ups.
	 * After the send, not here: the wake-up may cost the loop its
	 * CPU just before the send (see above). */
	room = ring_space(&r->upload) >= r->upload.cap / 2;
	pthread_mutex_unlock(&r->lock);
	if (room)
		wake_later(r, WAKE(WAIT_UPLOAD));
	return len;
}

/* libcurl's own low-speed check averages over a window and fired 5-7 s
 * late: the stall timeout is kept here, to about a second.  A transfer
 * paused because the client is slow (or slow to send) is not stalled. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct request *r = arg;
	uint64_t now = request_now(), moved = (uint64_t)(dlnow + ulnow);
	bool paused;

	(void)dltotal;
	(void)ultotal;
	/* early and body_in are written by this thread: no lock. */
	if (r->early && r->body_in) {
		/* The backend answered before the whole body was sent and its
		 * answer is all in; libcurl would wait for ever to send the
		 * rest of a body the backend no longer reads.  End the
		 * transfer: its connection is closed, never reused with a
		 * body cut short.  finish() reads this as a success. */
		r->early_end = true;
		return 1;
	}
	if (moved != r->progress_bytes) {
		r->progress_bytes = moved;
		r->t_progress = now;
		return 0;
	}
	/* No progress: the lock only here, not on every call of a transfer
	 * that is moving.  After an early answer the upload is paused by us,
	 * not by a slow client: that is no reason to wait. */
	pthread_mutex_lock(&r->lock);
	paused = r->down_paused || (r->up_paused && !r->early);
	pthread_mutex_unlock(&r->lock);
	if (paused) {
		r->t_progress = now;
		return 0;
	}
	if (now - r->t_progress >= cfg->stall_timeout_ms * 1000000ULL) {
		r->stalled = true;
		return 1;	/* CURLE_ABORTED_BY_CALLBACK */
	}
	return 0;
}

/* --- transfers (the request's loop) --------------------------------------- */

/* Counts a failed transfer by kind (metrics.h).  A transfer ended by us
 * (the client's side finished or hung up, shutdown: aborted by callback;
 * a stall is a timeout by then) is no backend error. */
static void
count_failure(const struct request *r, CURLcode code)
{
	enum metrics_backend_error kind;

	if (code == CURLE_OK || code == CURLE_ABORTED_BY_CALLBACK ||
	    r->cancelled || atomic_load(&aborting))
		return;
	if (r->bad_response != NULL)
		kind = MB_INVALID;
	else switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		kind = MB_CONNECT;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		kind = MB_TIMEOUT;
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		kind = MB_RESET;
		break;
	case CURLE_PARTIAL_FILE:
		kind = MB_TRUNCATED;
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
		kind = MB_INVALID;
		break;
	default:
		kind = MB_OTHER;
	}
	metrics_backend_error(kind);
}

/* Easy handles kept for reuse, by receive buffer size: a handle keeps
 * the buffer it first allocated (libcurl 7.88 refuses CURLOPT_BUFFERSIZE
 * once it has one, and curl_easy_reset() keeps it, and its upload buffer
 * too), so a handle serves only requests of its chunk size.  Reuse saves
 * the handle's allocation and zeroing, and its buffers', per request.
 * The pool covers the ups and downs of the transfers in flight, not
 * their number: a few per size, so that idle handles hold little memory
 * (at most 16 x (32 KiB + 64 KiB upload) per size, and
 * UPSTREAM_BIG_MAX big ones).  [C] */
/* PACE_SLOW handles (UPSTREAM_RECV_SLOW) share a class with others; one
 * of their recv()s is one piece for on_write(), and a refill is whole
 * recv()s. */
_Static_assert(UPSTREAM_RECV_SLOW == UPSTREAM_CHUNK_SMALL ||
    UPSTREAM_RECV_SLOW == UPSTREAM_CHUNK_SHAPED,
    "UPSTREAM_RECV_SLOW is one of the pool's sizes");
_Static_assert(UPSTREAM_RECV_SLOW <= CURL_MAX_WRITE_SIZE &&
    UPSTREAM_CHUNK_SLOW % UPSTREAM_RECV_SLOW == 0,
    "a PACE_SLOW refill is whole recv()s of one piece each");

static int
easy_class(size_t chunk)
{
	unsigned i;

	for (i = 0; i < EASY_CLASSES; i++)
		if (easy_sizes[i] == chunk)
			return (int)i;
	return -1;
}

/* A handle for a transfer of receive buffer size chunk: a kept one, reset
 * to libcurl's defaults, or a new one.  NULL: out of memory. */
static CURL *
easy_get(size_t chunk)
{
	int c = easy_class(chunk);

	if (c >= 0 && L->easy_n[c] > 0)
		return L->easy_pool[c][--L->easy_n[c]];
	return curl_easy_init();
}

/* Gives back a handle out of the multi handle, used with chunk. */
static void
easy_put(CURL *e, size_t chunk)
{
	int c = easy_class(chunk);

	if (c < 0 || L->easy_n[c] == (easy_sizes[c] == UPSTREAM_CHUNK_BIG ?
	    UPSTREAM_BIG_MAX : EASY_POOL)) {
		curl_easy_cleanup(e);
		return;
	}
	curl_easy_reset(e);
	L->easy_pool[c][L->easy_n[c]++] = e;
}

/* Ends r's transfer with `code` (CURLE_OK for success), wakes the client. */
static void
finish(struct request *r, CURLcode code)
{
	if (r->easy != NULL) {
		curl_multi_remove_handle(L->multi, r->easy);
		easy_put(r->easy, r->easy_chunk);
		r->easy = NULL;
	}
	if (r->early_end)
		code = CURLE_OK;
	else if (r->stalled)
		code = CURLE_OPERATION_TIMEDOUT;
	count_failure(r, code);
	pthread_mutex_lock(&r->lock);
	if (r->up != UP_DONE && r->up != UP_FAILED) {
		r->result = code;
		r->up = code == CURLE_OK ? UP_DONE : UP_FAILED;
	}
	pthread_mutex_unlock(&r->lock);
	request_wake(r, WAKE_ANY);
}

void
upstream_tls_setopt(CURL *e)
{
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg->upstream_verify ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg->upstream_verify ? 2L : 0L);
	if (ca_fd >= 0)
		curl_easy_setopt(e, CURLOPT_CAINFO, ca_path);
	else if (cfg->upstream_ca[0] != '\0')
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->upstream_ca);
}

uint64_t
upstream_last_answer(void)
{
	return atomic_load_explicit(&last_answer, memory_order_relaxed);
}

static int
start(struct request *r)
{
	CURL *e;
	int64_t upload_size = -1;

	pthread_mutex_lock(&r->lock);
	r->chunk = L->nactive <= UPSTREAM_BIG_MAX ? UPSTREAM_CHUNK_BIG :
	    UPSTREAM_CHUNK_SMALL;
	r->down_init = r->chunk;
	if (r->pace == PACE_SHAPED) {
		if (r->chunk < UPSTREAM_CHUNK_SHAPED)
			r->chunk = UPSTREAM_CHUNK_SHAPED;
		r->down_init = 2 * r->chunk;
	} else if (r->pace == PACE_SLOW) {
		r->chunk = UPSTREAM_CHUNK_SLOW;
		ring_use_cache(&r->down, &slow_bufs);
		r->down_init = r->chunk;
	}
	pthread_mutex_unlock(&r->lock);
	r->easy_chunk = r->pace == PACE_SLOW ? UPSTREAM_RECV_SLOW : r->chunk;
	if ((e = r->easy = easy_get(r->easy_chunk)) == NULL)
		return -1;
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	/* The URL names the backend; the request-target goes out byte for
	 * byte as the client sent it ('#', dot-segments and all), never
	 * through libcurl's URL parser. */
	curl_easy_setopt(e, CURLOPT_URL, cfg->upstream);
	curl_easy_setopt(e, CURLOPT_REQUEST_TARGET, r->url);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->req_headers);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)r->easy_chunk);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)cfg->connect_timeout_ms);
	/* A transfer that moves no byte for stall-timeout fails (paused ones
	 * are exempt: that is a slow client, bounded by client-timeout).
	 * libcurl's low-speed check is only the backstop of on_progress(). */
	r->t_progress = request_now();
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
	    (long)((cfg->stall_timeout_ms + 999) / 1000) + 10);
	upstream_tls_setopt(e);

	r->sent_all = true;
	if (r->head)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (r->has_body || strcmp(r->method, "PUT") == 0 ||
	    strcmp(r->method, "POST") == 0) {
		/* PUT and POST always carry a length, 0 included. */
		upload_size = r->has_body ? r->req_length : 0;
		r->sent_all = false;
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)upload_size);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (strcmp(r->method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);

	if (curl_multi_add_handle(L->multi, e) != CURLM_OK) {
		easy_put(e, r->easy_chunk);
		r->easy = NULL;
		return -1;
	}
	return 0;
}

static void
list_add(struct request *r)
{
	request_ref(r);
	L->nactive++;
	r->listed = true;
	r->prev = NULL;
	r->next = L->active;
	if (L->active != NULL)
		L->active->prev = r;
	L->active = r;
}

static void
list_remove(struct request *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		L->active = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
	r->listed = false;
	L->nactive--;
	request_unref(r);
}

static void
unpause(struct request *r)
{
	int mask = 0;

	if (r->easy == NULL)
		return;
	pthread_mutex_lock(&r->lock);
	if (r->down_paused)
		mask |= CURLPAUSE_RECV;
	if (r->up_paused)
		mask |= CURLPAUSE_SEND;
	pthread_mutex_unlock(&r->lock);
	/* May call on_write / on_read inline: never under the lock. */
	L->in_unpause = true;
	curl_easy_pause(r->easy, mask);
	L->in_unpause = false;
	/* on_write may have filled the buffer meanwhile. */
	pthread_mutex_lock(&r->lock);
	if (r->down_paused && !(mask & CURLPAUSE_RECV))
		mask = pause_mask(r);
	else
		mask = -1;
	pthread_mutex_unlock(&r->lock);
	if (mask != -1 && r->easy != NULL)
		curl_easy_pause(r->easy, mask);
	wake_flush();
}

/* Has libcurl received the whole response body?  Curl thread. */
static bool
body_complete(struct request *r)
{
	if (r->up == UP_PENDING)
		return false;
	return r->head || r->status == 204 || r->status == 304 ||
	    (r->resp_length >= 0 && r->recv_bytes >= (uint64_t)r->resp_length);
}

static void
run_commands(void)
{
	struct request *r, *next;

	pthread_mutex_lock(&L->queue_lock);
	r = L->queue_head;
	L->queue_head = L->queue_tail = NULL;
	pthread_mutex_unlock(&L->queue_lock);

	for (; r != NULL; r = next) {
		unsigned cmds;

		pthread_mutex_lock(&L->queue_lock);
		next = r->cmd_next;
		cmds = r->cmds;
		r->cmds = 0;
		pthread_mutex_unlock(&L->queue_lock);

		if (cmds & CMD_START) {
			list_add(r);
			if (atomic_load(&aborting))
				finish(r, CURLE_ABORTED_BY_CALLBACK);
			else if (start(r) == -1)
				finish(r, CURLE_OUT_OF_MEMORY);
		}
		if (cmds & CMD_CANCEL) {
			if (r->listed && r->easy != NULL && body_complete(r) &&
			    r->sent_all) {
				/* libcurl has the whole body but has not
				 * reported completion (a paused transfer never
				 * does): let it finish, so that the backend
				 * connection stays open for reuse.  Not if
				 * the backend answered before the whole body
				 * was sent: that connection is closed. */
				r->cancelled = true;
				pthread_mutex_lock(&r->lock);
				r->down_paused = r->up_paused = false;
				pthread_mutex_unlock(&r->lock);
				unpause(r);
			}
			else if (r->listed) {
				finish(r, CURLE_ABORTED_BY_CALLBACK);
				list_remove(r);
			}
		} else if (cmds & (CMD_RESUME_RECV | CMD_RESUME_SEND))
			unpause(r);
		request_unref(r);	/* the queue's reference */
	}
}

/* A client hung up.  Its requests that wait on us (at most one is in
 * progress per connection) end their transfer and resume, so that
 * libmicrohttpd closes the connection. */
static void
hangup(uint64_t conn_id)
{
	struct request *r;

	for (r = L->active; r != NULL; r = r->next) {
		bool waiting;

		if (r->conn_id != conn_id)
			continue;
		pthread_mutex_lock(&r->lock);
		r->hup = true;
		waiting = r->wait != WAIT_NONE;
		pthread_mutex_unlock(&r->lock);
		if (waiting)
			finish(r, CURLE_ABORTED_BY_CALLBACK);
	}
}

/* A backend socket is ready.  Read it again while it delivers (up to
 * DRAIN_ROUNDS): one epoll_wait() per several chunks, not per chunk. */
static void
socket_ready(curl_socket_t fd, uint32_t events)
{
	int flags = (events & EPOLLIN ? CURL_CSELECT_IN : 0) |
	    (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
	    (events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
	int running, i;

	/* Writable only: if an answer has arrived meanwhile, libcurl must
	 * read it before it sends more.  A backend that refuses an upload
	 * and closes leaves its answer before its reset; a send into the
	 * reset would fail the transfer and lose the answer. */
	if ((flags & (CURL_CSELECT_OUT | CURL_CSELECT_IN)) == CURL_CSELECT_OUT) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP |
		    POLLERR)))
			flags |= CURL_CSELECT_IN;
	}

	for (i = 0; i < DRAIN_ROUNDS; i++) {
		uint64_t before = L->cb_bytes;

		curl_multi_socket_action(L->multi, fd, flags, &running);
		wake_flush();
		if (L->cb_bytes == before || (events & EPOLLOUT))
			break;
	}
}

/* An event for a backend socket; a parked one only remembers it. */
static void
socket_event(curl_socket_t fd, uint32_t events)
{
	if (fd >= 0 && (size_t)fd < L->nsocks && (L->socks[fd] & S_PARKED)) {
		L->socks[fd] |= S_EDGE;
		return;
	}
	socket_ready(fd, events);
}

static void
run_done(void)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(L->multi, &left)) != NULL) {
		struct request *r = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&r);
		finish(r, m->data.result);
		/* A plain transfer's client never waits on this thread once
		 * the transfer is over (the buffer holds the rest; a waiter
		 * for tokens needs the hang-up watch): off the list now, and
		 * the client's end needs no command (curl_done). */
		if (r->cancelled || r->pace == PACE_PLAIN) {
			pthread_mutex_lock(&r->lock);
			r->curl_done = true;
			pthread_mutex_unlock(&r->lock);
			list_remove(r);
		}
	}
}

static void
abort_all(void)
{
	struct request *r;

	for (r = L->active; r != NULL; r = r->next)
		finish(r, CURLE_ABORTED_BY_CALLBACK);
}

/* Sleep until the earliest of libcurl's timer, the daemon's and (loop 0)
 * the shaper's, in ms rounded up (a token timer that fires late loses
 * nothing: tokens accrue from the clock, not from the wake-up). */
static int
wait_ms(void)
{
	uint64_t now, at = L->timer_at, tok = L->index == 0 ?
	    srv->timer_at() : 0;
	int64_t mhd;
	bool queued;
	int ms;

	/* Commands queued without a wake-up (by this loop's own callbacks,
	 * or the shaper timers' refills left by the last round's limit) run
	 * now. */
	pthread_mutex_lock(&L->queue_lock);
	queued = L->queue_head != NULL || L->adopt_head != NULL;
	pthread_mutex_unlock(&L->queue_lock);
	if (queued || L->resumed)
		return 0;

	if (tok != 0 && (at == 0 || tok < at))
		at = tok;
	now = request_now();
	ms = at == 0 ? -1 : at <= now ? 0 : (int)((at - now + 999999) / 1000000);
	mhd = srv->timeout_ms(L->index);
	if (mhd >= 0 && (ms < 0 || mhd < ms))
		ms = mhd > INT32_MAX ? INT32_MAX : (int)mhd;
	return ms;
}

static void *
loop(void *arg)
{
	struct epoll_event ev[EVENTS];
	int i, n, running, rounds;
	uint64_t junk;
	unsigned c;

	L = arg;
	while (!atomic_load(&stopping)) {
		/* Sleeps until a socket, a timer, a hang-up or a command: no
		 * periodic tick of ours. */
		n = epoll_wait(L->ep_fd, ev, EVENTS, wait_ms());
		for (i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64 & TAG_MASK;

			if (tag == TAG_WAKE) {
				if (read(L->wake_fd, &junk, sizeof(junk)) < 0)
					junk = 0;
				atomic_store(&L->wake_pending, false);
			} else if (tag == TAG_HUP)
				hangup(ev[i].data.u64 & ~TAG_MASK);
			else if (tag == TAG_SERVER)
				;	/* run below, every turn */
			else
				socket_event((curl_socket_t)(ev[i].data.u64 &
				    0xffffffffULL), ev[i].events);
		}
		/* The client side (requests, bodies, responses), then
		 * commands, libcurl's timer, finished transfers, then the
		 * shaper's timers (loop 0).  Each may resume connections or
		 * queue commands, which are run at once: one more round, not
		 * a wake-up.  At most SETTLE_ROUNDS, so that timers falling
		 * due meanwhile never keep the sockets waiting. */
		rounds = 0;
		do {
			L->resumed = false;
			run_adopted();
			srv->run(L->index);
			run_commands();
			if (atomic_load(&aborting))
				abort_all();
			if (L->timer_at != 0 && L->timer_at <= request_now()) {
				L->timer_at = 0;
				curl_multi_socket_action(L->multi,
				    CURL_SOCKET_TIMEOUT, 0, &running);
				wake_flush();
			}
			run_done();
			if (L->index == 0 && srv->timer_at() != 0 &&
			    srv->timer_at() <= request_now())
				srv->timer_fire(request_now());
		} while (L->resumed && ++rounds < SETTLE_ROUNDS &&
		    !atomic_load(&stopping));
	}
	/* The daemon is stopped by the thread that ran it; its requests'
	 * ends queue their last commands. */
	srv->stop(L->index);
	run_adopted();
	run_commands();
	abort_all();
	while (L->active != NULL)
		list_remove(L->active);
	/* libcurl closes the backend connections through on_close(): in
	 * this thread, which owns them. */
	for (c = 0; c < EASY_CLASSES; c++)
		while (L->easy_n[c] > 0)
			curl_easy_cleanup(L->easy_pool[c][--L->easy_n[c]]);
	curl_multi_cleanup(L->multi);
	L->multi = NULL;
	tlsread_thread_done();
	return NULL;
}

int
upstream_start(const struct upstream_server *s)
{
	struct epoll_event ev;
	unsigned i;

	srv = s;
	for (i = 0; i < nloops; i++) {
		struct uloop *u = &loops[i];

		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = TAG_SERVER;
		if (epoll_ctl(u->ep_fd, EPOLL_CTL_ADD, srv->fd(i), &ev) == -1)
			return -1;
		if (pthread_create(&u->thread, NULL, loop, u) != 0)
			return -1;
		u->started = true;
	}
	return 0;
}

void
upstream_kick(void)
{
	if (nloops > 0)
		wake(&loops[0]);
}

void
upstream_abort_all(void)
{
	unsigned i;

	atomic_store(&aborting, true);
	for (i = 0; i < nloops; i++)
		wake(&loops[i]);
}

void
upstream_stop(void)
{
	unsigned i;

	atomic_store(&stopping, true);
	for (i = 0; i < nloops; i++)
		wake(&loops[i]);
	for (i = 0; i < nloops; i++) {
		struct uloop *u = &loops[i];

		if (u->started)
			pthread_join(u->thread, NULL);
		u->started = false;
		if (u->multi != NULL)		/* never started */
			curl_multi_cleanup(u->multi);
		u->multi = NULL;
		if (u->ep_fd >= 0)
			close(u->ep_fd);
		if (u->wake_fd >= 0)
			close(u->wake_fd);
		free(u->socks);
		pthread_mutex_destroy(&u->queue_lock);
	}
	free(loops);
	loops = NULL;
	nloops = 0;
	/* Every request is gone by now, unless some outlived the shutdown
	 * (then their buffers stay mapped until the exit). */
	if (request_count() == 0)
		bufcache_free(&slow_bufs);
	if (ca_fd >= 0)
		close(ca_fd);
}
