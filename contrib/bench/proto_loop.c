/*
 * proto_loop: a throwaway measurement prototype of "one event loop per
 * core" for storage-proxy.  Not part of the product; it exists to compare
 * the shape against the current one (libmicrohttpd's internal thread pool
 * plus one curl thread, two thread hand-offs per request) in
 * contrib/bench/compare.sh.
 *
 * Shape.  N threads (N = online CPUs, or --threads N), each owning:
 *   - one libmicrohttpd daemon in external mode (MHD_USE_EPOLL |
 *     MHD_USE_TLS | MHD_ALLOW_SUSPEND_RESUME, no internal thread) with its
 *     own listen socket on the same port (SO_REUSEPORT, through
 *     MHD_OPTION_LISTENING_ADDRESS_REUSE): the kernel spreads new
 *     connections over the threads by a hash of the address pair, no
 *     thread wakes for another's connection and there is no accept race
 *     (a shared listen socket would sit in N nested epoll sets, which
 *     libmicrohttpd adds without EPOLLEXCLUSIVE: every thread would wake
 *     for every connection).  The price: the spread is by hash, not by
 *     load, and a busy thread keeps its share.
 *   - one curl multi handle driven by curl_multi_socket_action()
 *     (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION);
 *   - one epoll fd holding libmicrohttpd's epoll fd
 *     (MHD_DAEMON_INFO_EPOLL_FD), curl's sockets and an eventfd (used only
 *     to stop).
 * The loop: epoll_wait() with the timeout min(MHD_get_timeout(), curl's
 * timer); curl_multi_socket_action() for each ready curl socket and for
 * curl's timer when due; MHD_run() when libmicrohttpd's fd is ready, its
 * timeout has passed or a connection was resumed; then again curl (for
 * transfers libmicrohttpd's callbacks started or unpaused) and
 * libmicrohttpd (for connections curl's callbacks resumed) until neither
 * has work, at most a few times per turn.
 *
 * Everything of one request happens in one thread: no locks, no
 * cross-thread wake-ups.  curl's callbacks call MHD_resume_connection(),
 * libmicrohttpd's callbacks call curl_easy_pause() and
 * curl_multi_add_handle() / curl_multi_remove_handle(); never the reverse
 * nesting (no curl_multi_* from inside a curl callback, no MHD_run() from
 * inside anything).
 *
 * Requests.  The raw request-target comes from MHD_OPTION_URI_LOG_CALLBACK
 * (its return value is the request's context) and goes to the backend as
 * CURLOPT_REQUEST_TARGET (after the upstream URL's own path, if any), with
 * the client's method and headers (hop-by-hop ones, Expect and
 * Content-Length dropped; an empty "Expect:" keeps curl from waiting for a
 * 100).  The backend's status and headers are copied back (not
 * Content-Length, Connection, Keep-Alive, Transfer-Encoding); its
 * Content-Length is the size given to MHD_create_response_from_callback()
 * (MHD_SIZE_UNKNOWN otherwise: chunked).
 *   GET: the access handler starts the transfer at its first call and
 *   suspends at its final call until the backend's headers are in; the
 *   response's reader is fed from a per-request ring that curl's write
 *   callback fills; curl is paused (curl_easy_pause, both directions once
 *   the request is sent) when the ring has less than a receive buffer of
 *   room, or by CURL_WRITEFUNC_PAUSE if a write does not fit, and resumed
 *   by the reader when half the ring is free; the reader suspends when the
 *   ring is empty and is resumed by the next write.
 *   PUT/POST with Content-Length: streamed.  The access handler copies the
 *   body into a per-request ring and suspends when it is full (resumed by
 *   curl's read callback when half of it is free); curl's read callback
 *   drains it and returns CURL_READFUNC_PAUSE when it is empty (unpaused
 *   by the access handler once UP_KICK bytes or the end are buffered).
 *   After an error answer (>= 300) before the body is all sent, or after
 *   the transfer ended, the rest of the body is read and dropped, and the
 *   answer is queued at the final call (libmicrohttpd refuses a response
 *   while body data is being delivered).  A chunked request body gets 411.
 *   Easy handles are reused from a free list per thread and receive
 *   buffer size (libcurl 7.88 keeps a handle's first buffer across
 *   curl_easy_reset()): 64 KiB while the thread has more than BIG_MAX
 *   transfers, else 512 KiB (libcurl's maximum), with a 4 MiB download
 *   ring, a 1 MiB upload ring, a 512 KiB upload buffer and reader blocks
 *   up to 256 KiB.
 *
 * A small answer (Content-Length up to 256 KiB) is waited for whole and
 * queued as a buffer response, so that its header and body leave in one
 * pass of libmicrohttpd (a reader's body goes out one pass after the
 * header).  PROTO_PLAIN=1 in the environment turns that off (resume at
 * the backend's headers, always a reader); with 64 busy connections it
 * made no measurable difference.
 *
 * libmicrohttpd 0.9.75 in external epoll mode, as read in its source and
 * seen with strace:
 *   - Without an internal thread it drops MHD_USE_ITC (even with
 *     MHD_ALLOW_SUSPEND_RESUME): MHD_resume_connection() only sets flags
 *     and wakes nothing, and MHD_get_timeout() does not look at pending
 *     resumes.  Whoever resumes must make sure MHD_run() runs next (here:
 *     w->resumed).  Resuming from another thread would need a wake-up of
 *     one's own; MHD_add_connection() likewise runs inline in the caller
 *     (not safe from another thread) and warns about the missing ITC only
 *     with an internal thread.
 *   - MHD_run() is MHD_epoll(daemon, 0): one epoll_wait(..., 0) on its own
 *     epoll fd per call, then the resumed connections (a scan of the
 *     suspended list only when one is pending), up to ~10 accept()s,
 *     timeouts, and each connection of its ready list once.
 *   - MHD_get_timeout() is 0 whenever its ready list is not empty: after a
 *     resume, after a response is sent (the connection goes back to
 *     reading), while an upload's socket is still readable, and while a
 *     TLS handshake waits for its client (the spin); MHD_NO when no
 *     connection has a timeout; else the oldest connection's remaining
 *     idle time.
 *   - A suspend is an epoll_ctl(DEL) on libmicrohttpd's epoll fd, the
 *     resume an epoll_ctl(ADD) after the next pass: 2 system calls per
 *     wait for the backend.
 *   - With TLS, GnuTLS reads each record in two recv() calls (header, then
 *     body): two per 16 KiB of upload.
 *
 * What it does NOT do (a prototype): no deadlines of its own (a suspended
 * connection never times out; libmicrohttpd's connection timeout, 60 s,
 * applies only while not suspended), no stall timeout, no detection of a
 * client gone while suspended, no rate limits, no connection or memory
 * limits beyond libmicrohttpd's, no access log, no metrics, no graceful
 * shutdown (SIGTERM prints counters and _exit()s: libmicrohttpd aborts if
 * stopped with suspended connections), no TLS session resumption, no
 * MSG_MORE record pushing, and libmicrohttpd's epoll-mode handshake spin
 * is NOT cured (a connection whose TLS handshake waits for its client
 * makes MHD_get_timeout() return 0: the thread spins until the client
 * speaks).  No HTTP strictness beyond libmicrohttpd's.
 *
 * Build:  cc -O2 -o proto_loop contrib/bench/proto_loop.c \
 *             -lmicrohttpd -lcurl -lpthread
 * Run:    proto_loop --port P --bind 127.0.0.1 --cert FILE --key FILE \
 *             --upstream http://127.0.0.1:B [--threads N]
 *         (other options, as compare.sh passes them, are ignored)
 * Bench:  STORAGE_PROXY=/path/to/proto_loop SCENARIOS="small put1g" \
 *             contrib/bench/compare.sh 3
 * On SIGTERM or SIGINT it prints per-thread counters on stderr and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

#define TAG_MHD		(1ULL << 40)
#define TAG_STOP	(2ULL << 40)
#define TAG_CURL	(4ULL << 40)

#define CHUNK_SMALL	(64 * 1024)	/* CURLOPT_BUFFERSIZE, busy thread */
#define CHUNK_BIG	(512 * 1024)	/* libcurl 7.88's maximum */
#define BIG_MAX		4		/* transfers per thread that get big */
#define DOWN_RING_BIG	(4 * 1024 * 1024)
#define DOWN_RING_SMALL	(256 * 1024)
#define UP_RING		(1024 * 1024)
#define UP_KICK		(128 * 1024)	/* unpause curl's read at this much */
#define UP_BUFFERSIZE	(512 * 1024)	/* CURLOPT_UPLOAD_BUFFERSIZE */
#define BLOCK_MAX	(256 * 1024)	/* reader block */
#define BLOCK_MIN	(4 * 1024)
#define FREE_MAX	64		/* easy handles kept per size */
#define LOOP_AGAIN	8		/* MHD_run() calls per turn, at most */

/* What a suspended connection waits for. */
enum { W_HEADERS = 1, W_DATA = 2, W_SPACE = 4 };

struct ring {
	char	*b;
	size_t	 cap, head, len;
};

struct worker;

struct req {
	struct worker		*w;
	struct MHD_Connection	*conn;
	char			*target;
	bool			 started;	/* first access handler call done */
	unsigned		 reject;	/* status to answer without backend */
	unsigned		 susp;		/* W_* while suspended, else 0 */
	CURL			*easy;
	bool			 big;		/* easy handle of CHUNK_BIG */
	size_t			 chunk;
	struct curl_slist	*hdrs;
	int			 cpause;	/* CURLPAUSE_* bits as set */
	bool			 want_pause;	/* during our own unpause */
	/* The backend's answer. */
	int			 status;
	bool			 hdr_done, head;
	long long		 clen;		/* -1: unknown */
	char			*rh;		/* "Name: value\0"... */
	size_t			 rh_len, rh_cap;
	uint64_t		 recv_bytes;
	bool			 done;		/* transfer ended */
	CURLcode		 result;
	bool			 early;		/* error answer mid-upload */
	struct ring		 down;
	/* The request body. */
	bool			 upload;
	uint64_t		 up_total, up_in, up_sent;
	bool			 up_eof, sent_all;
	struct ring		 up;
};

struct worker {
	int			 id;
	pthread_t		 th;
	int			 epfd, mhd_fd, stopfd;
	struct MHD_Daemon	*d;
	CURLM			*multi;
	long long		 curl_due;	/* ms, monotonic; -1: none */
	bool			 resumed;
	bool			 in_unpause;
	int			 active;	/* transfers in the multi */
	CURL			*free_small[FREE_MAX], *free_big[FREE_MAX];
	int			 nsmall, nbig;
	/* Counters, read by main at exit. */
	unsigned long long	 n_conn, n_req, n_susp, n_resume, n_run,
				 n_wait, n_curl_act;
};

static const char *opt_bind = "127.0.0.1", *opt_cert, *opt_key, *opt_up;
static unsigned opt_port, opt_threads;
/* PROTO_PLAIN=1 in the environment: wake at the backend's headers and
 * always answer through the reader (no coalescing of small answers). */
static bool plain;
static char *up_origin, *up_path = "";
static char *pem_cert, *pem_key;
static const char *prio =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:"
    "+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:"
    "-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA:-GROUP-ALL:+GROUP-X25519:"
    "+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE";

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fprintf(stderr, "proto_loop: out of memory\n");
		abort();
	}
	return p;
}

/* --- ring ---------------------------------------------------------------- */

static size_t
ring_space(const struct ring *r)
{
	return r->cap - r->len;
}

static size_t
ring_put(struct ring *r, const char *p, size_t n)
{
	size_t tail, first;

	if (n > ring_space(r))
		n = ring_space(r);
	if (n == 0)
		return 0;
	tail = (r->head + r->len) % r->cap;
	first = r->cap - tail < n ? r->cap - tail : n;
	memcpy(r->b + tail, p, first);
	memcpy(r->b, p + first, n - first);
	r->len += n;
	return n;
}

static size_t
ring_get(struct ring *r, char *p, size_t n)
{
	size_t first;

	if (n > r->len)
		n = r->len;
	if (n == 0)
		return 0;
	first = r->cap - r->head < n ? r->cap - r->head : n;
	memcpy(p, r->b + r->head, first);
	memcpy(p + first, r->b, n - first);
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	if (r->len == 0)
		r->head = 0;
	return n;
}

/* --- suspend / resume (all in the owning thread) ------------------------ */

static void
suspend(struct req *r, unsigned why)
{
	r->susp = why;
	r->w->n_susp++;
	MHD_suspend_connection(r->conn);
}

/* Resumes r if it waits for one of mask.  Resuming only what is
 * suspended: libmicrohttpd's behaviour is undefined otherwise. */
static void
wake(struct req *r, unsigned mask)
{
	if ((r->susp & mask) == 0)
		return;
	r->susp = 0;
	r->w->n_resume++;
	r->w->resumed = true;
	MHD_resume_connection(r->conn);
}

/* --- curl side ----------------------------------------------------------- */

static void
set_pause(struct req *r, int bits)
{
	if (r->easy == NULL || bits == r->cpause)
		return;
	r->cpause = bits;
	r->w->in_unpause = true;
	r->want_pause = false;
	curl_easy_pause(r->easy, bits);
	r->w->in_unpause = false;
	/* A write callback inside that call filled the ring again. */
	if (r->want_pause && !(r->cpause & CURLPAUSE_RECV)) {
		r->cpause |= CURLPAUSE_RECV | (r->sent_all ? CURLPAUSE_SEND : 0);
		curl_easy_pause(r->easy, r->cpause);
	}
}

static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n, l = len;

	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
		const char *sp = memchr(buf, ' ', len);

		r->status = sp != NULL ? atoi(sp + 1) : 0;
		r->rh_len = 0;
		r->clen = -1;
		return len;
	}
	while (l > 0 && (buf[l - 1] == '\n' || buf[l - 1] == '\r'))
		l--;
	if (l == 0) {
		if (r->status >= 200) {
			r->hdr_done = true;
			if (r->upload && !r->sent_all && r->status >= 300) {
				r->early = true;
				wake(r, W_SPACE);
			}
			/* With a body to come, the waiter is woken by its
			 * first bytes (on_write): one resume, not two, and
			 * the headers go out with the body. */
			if (plain || r->head || r->status == 204 ||
			    r->status == 304 || r->clen == 0)
				wake(r, W_HEADERS);
		}
		return len;
	}
	if (l > 15 && strncasecmp(buf, "content-length:", 15) == 0)
		r->clen = strtoll(buf + 15, NULL, 10);
	if (r->rh_len + l + 1 > r->rh_cap) {
		r->rh_cap = (r->rh_len + l + 1) * 2;
		if ((r->rh = realloc(r->rh, r->rh_cap)) == NULL)
			return 0;
	}
	memcpy(r->rh + r->rh_len, buf, l);
	r->rh[r->rh_len + l] = '\0';
	r->rh_len += l + 1;
	return len;
}

static size_t
on_write(char *buf, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n;

	if (r->down.b == NULL) {
		/* A small body gets a ring of its size: it is waited for
		 * whole (answer_ready()), so it must fit without a pause. */
		r->down.cap = r->clen > 0 && r->clen <= BLOCK_MAX ?
		    (size_t)r->clen : r->big ? DOWN_RING_BIG : DOWN_RING_SMALL;
		r->down.b = xmalloc(r->down.cap);
	}
	if (ring_space(&r->down) < len) {
		r->cpause |= CURLPAUSE_RECV;
		return CURL_WRITEFUNC_PAUSE;
	}
	ring_put(&r->down, buf, len);
	r->recv_bytes += len;
	/* Pause before the next recv() instead of refusing it (what is
	 * refused is copied and kept by libcurl). */
	if (ring_space(&r->down) < r->chunk &&
	    (r->clen < 0 || (uint64_t)r->clen > r->down.cap)) {
		if (r->w->in_unpause)
			r->want_pause = true;
		else {
			r->cpause = CURLPAUSE_RECV |
			    (r->sent_all || (r->cpause & CURLPAUSE_SEND) ?
			    CURLPAUSE_SEND : 0);
			curl_easy_pause(r->easy, r->cpause);
		}
	}
	/* A small body is waited for whole: its answer is then queued
	 * from the buffer, headers and body in one pass. */
	if (plain || r->clen < 0 || r->clen > BLOCK_MAX ||
	    r->recv_bytes >= (uint64_t)r->clen)
		wake(r, W_DATA | W_HEADERS);
	else
		wake(r, W_DATA);
	return len;
}

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len;

	if (r->early) {
		r->sent_all = true;
		return 0;
	}
	len = ring_get(&r->up, buf, size * n);
	if (len == 0) {
		if (r->up_eof) {
			r->sent_all = true;
			return 0;
		}
		r->cpause |= CURLPAUSE_SEND;
		return CURL_READFUNC_PAUSE;
	}
	r->up_sent += len;
	if (ring_space(&r->up) >= r->up.cap / 2)
		wake(r, W_SPACE);
	return len;
}

static int
on_seek(void *arg, curl_off_t offset, int origin)
{
	struct req *r = arg;

	/* A rewind before any byte left the ring (reused connection lost). */
	if (offset == 0 && origin == SEEK_SET && r->up_sent == 0)
		return CURL_SEEKFUNC_OK;
	return CURL_SEEKFUNC_CANTSEEK;
}

/* After an error answer mid-upload: end the transfer once the answer is
 * in, else libcurl waits for ever to send the rest. */
static int
on_progress(void *arg, curl_off_t dlt, curl_off_t dln, curl_off_t ult,
    curl_off_t uln)
{
	struct req *r = arg;

	(void)dlt; (void)dln; (void)ult; (void)uln;
	if (r->early && (r->status == 204 || r->status == 304 ||
	    r->clen == 0 || (r->clen > 0 &&
	    r->recv_bytes >= (uint64_t)r->clen)))
		return 1;
	return 0;
}

static void
easy_put(struct worker *w, CURL *e, bool big)
{
	CURL **list = big ? w->free_big : w->free_small;
	int *n = big ? &w->nbig : &w->nsmall;

	if (*n == FREE_MAX) {
		curl_easy_cleanup(e);
		return;
	}
	curl_easy_reset(e);
	list[(*n)++] = e;
}

static void
xfer_detach(struct req *r)
{
	if (r->easy == NULL)
		return;
	curl_multi_remove_handle(r->w->multi, r->easy);
	easy_put(r->w, r->easy, r->big);
	r->easy = NULL;
	r->w->active--;
}

static void
reap(struct worker *w)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(w->multi, &left)) != NULL) {
		struct req *r;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		r->result = m->data.result;
		if (r->early && r->result == CURLE_ABORTED_BY_CALLBACK)
			r->result = CURLE_OK;
		r->done = true;
		xfer_detach(r);
		wake(r, W_HEADERS | W_DATA | W_SPACE);
	}
}

static int
on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct worker *w = userp;
	struct epoll_event ev;

	(void)e;
	memset(&ev, 0, sizeof(ev));
	ev.data.u64 = TAG_CURL | (uint32_t)s;
	if (what == CURL_POLL_REMOVE) {
		if (socketp != NULL)
			(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(w->multi, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
	    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (socketp == NULL) {
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, s, &ev) == -1 &&
		    errno == EEXIST)
			(void)epoll_ctl(w->epfd, EPOLL_CTL_MOD, s, &ev);
		curl_multi_assign(w->multi, s, (void *)1);
	} else
		(void)epoll_ctl(w->epfd, EPOLL_CTL_MOD, s, &ev);
	return 0;
}

static int
on_timer(CURLM *m, long timeout_ms, void *userp)
{
	struct worker *w = userp;

	(void)m;
	w->curl_due = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	return 0;
}

/* --- requests ------------------------------------------------------------ */

static bool
hop_by_hop(const char *k)
{
	static const char *const skip[] = { "connection", "keep-alive",
	    "proxy-connection", "te", "trailer", "transfer-encoding",
	    "upgrade", "expect", "content-length", NULL };
	int i;

	for (i = 0; skip[i] != NULL; i++)
		if (strcasecmp(k, skip[i]) == 0)
			return true;
	return false;
}

struct hdr_walk {
	struct req	*r;
	bool		 accept, chunked;
	long long	 clen;
};

static enum MHD_Result
on_req_header(void *cls, enum MHD_ValueKind kind, const char *k,
    const char *v)
{
	struct hdr_walk *hw = cls;
	char line[8192];

	(void)kind;
	if (strcasecmp(k, "content-length") == 0)
		hw->clen = strtoll(v, NULL, 10);
	if (strcasecmp(k, "transfer-encoding") == 0)
		hw->chunked = true;
	if (strcasecmp(k, "accept") == 0)
		hw->accept = true;
	if (hop_by_hop(k))
		return MHD_YES;
	/* "Name;" is curl's way to send a header with an empty value. */
	if (v == NULL || v[0] == '\0')
		snprintf(line, sizeof(line), "%s;", k);
	else
		snprintf(line, sizeof(line), "%s: %s", k, v);
	hw->r->hdrs = curl_slist_append(hw->r->hdrs, line);
	return MHD_YES;
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->w = cls;
	r->conn = con;
	r->clen = -1;
	r->target = xmalloc(strlen(up_path) + strlen(uri) + 1);
	strcpy(r->target, up_path);
	strcat(r->target, uri);
	return r;
}

static void
req_free(struct req *r)
{
	xfer_detach(r);
	curl_slist_free_all(r->hdrs);
	free(r->target);
	free(r->rh);
	free(r->down.b);
	free(r->up.b);
	free(r);
}

static void
on_completed(void *cls, struct MHD_Connection *con, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	struct req *r = *ctx;

	(void)cls; (void)con; (void)toe;
	if (r != NULL)
		req_free(r);
	*ctx = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *con, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct worker *w = cls;
	const union MHD_ConnectionInfo *ci;
	int one = 1;

	(void)ctx;
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	w->n_conn++;
	/* Nagle off, as storage-proxy does. */
	ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		(void)setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY,
		    &one, sizeof(one));
}

/* Starts r's backend transfer.  -1: could not. */
static int
xfer_start(struct req *r, const char *method, struct hdr_walk *hw)
{
	struct worker *w = r->w;
	CURL *e;

	r->big = w->active < BIG_MAX;
	r->chunk = r->big ? CHUNK_BIG : CHUNK_SMALL;
	if (r->big && w->nbig > 0)
		e = w->free_big[--w->nbig];
	else if (!r->big && w->nsmall > 0)
		e = w->free_small[--w->nsmall];
	else if ((e = curl_easy_init()) == NULL)
		return -1;
	r->easy = e;
	if (!hw->accept)
		r->hdrs = curl_slist_append(r->hdrs, "Accept:");
	r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_URL, up_origin);
	curl_easy_setopt(e, CURLOPT_REQUEST_TARGET, r->target);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	/* Refused (harmlessly) once the handle has its buffer. */
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)r->chunk);
	r->sent_all = true;
	if (strcmp(method, "HEAD") == 0) {
		r->head = true;
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (hw->clen >= 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "POST") == 0) {
		r->upload = true;
		r->sent_all = false;
		r->up_total = hw->clen > 0 ? (uint64_t)hw->clen : 0;
		r->up_eof = r->up_total == 0;
		r->up.cap = r->up_total < UP_RING ?
		    (r->up_total > 0 ? r->up_total : 1) : UP_RING;
		r->up.b = xmalloc(r->up.cap);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->up_total);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, r);
		curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(e, CURLOPT_SEEKDATA, r);
		curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
		if (r->up_total >= UP_RING)
			curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE,
			    (long)UP_BUFFERSIZE);
	} else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (curl_multi_add_handle(w->multi, e) != CURLM_OK) {
		easy_put(w, e, r->big);
		r->easy = NULL;
		return -1;
	}
	w->active++;
	return 0;
}

static ssize_t
reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct req *r = cls;
	size_t n;

	(void)pos;
	n = ring_get(&r->down, buf, max);
	/* Half the ring free: let curl read again (its pause buffer, if
	 * any, is written into the ring inside this call). */
	if ((r->cpause & CURLPAUSE_RECV) &&
	    ring_space(&r->down) >= r->down.cap / 2)
		set_pause(r, r->sent_all ? 0 : r->cpause & ~CURLPAUSE_RECV);
	if (n == 0)
		n = ring_get(&r->down, buf, max);
	if (n > 0)
		return (ssize_t)n;
	if (r->done) {
		if (r->result == CURLE_OK && (r->clen < 0 ||
		    r->recv_bytes >= (uint64_t)r->clen))
			return MHD_CONTENT_READER_END_OF_STREAM;
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	suspend(r, W_DATA);
	return 0;
}

static bool
skip_resp_header(const char *k, size_t kl)
{
	static const char *const skip[] = { "content-length", "connection",
	    "keep-alive", "transfer-encoding", NULL };
	int i;

	for (i = 0; skip[i] != NULL; i++)
		if (strlen(skip[i]) == kl && strncasecmp(k, skip[i], kl) == 0)
			return true;
	return false;
}

static enum MHD_Result
queue_error(struct MHD_Connection *con, unsigned status, const char *msg)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(msg), (void *)msg,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain");
	ret = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
queue_answer(struct req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t off, block;

	if (!r->hdr_done)
		return queue_error(r->conn, 502, "Bad Gateway\n");
	if (r->status == 204 || r->status == 304)
		resp = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	else if (!plain && !r->head && r->done && r->result == CURLE_OK &&
	    r->clen > 0 && r->clen <= BLOCK_MAX &&
	    r->down.len == (size_t)r->clen && r->down.head == 0)
		/* All in, contiguous: a buffer response, sent with its
		 * header in one pass (a reader's body waits for the next
		 * one).  The ring lives until on_completed(). */
		resp = MHD_create_response_from_buffer(r->down.len,
		    r->down.b, MHD_RESPMEM_PERSISTENT);
	else {
		block = r->clen >= 0 && (uint64_t)r->clen < BLOCK_MAX ?
		    (size_t)r->clen : BLOCK_MAX;
		if (block < BLOCK_MIN)
			block = BLOCK_MIN;
		resp = MHD_create_response_from_callback(r->clen >= 0 ?
		    (uint64_t)r->clen : MHD_SIZE_UNKNOWN, block, reader, r,
		    NULL);
	}
	if (resp == NULL)
		return MHD_NO;
	for (off = 0; off < r->rh_len; off += strlen(r->rh + off) + 1) {
		char *line = r->rh + off, *colon = strchr(line, ':'), *v;

		if (colon == NULL || skip_resp_header(line, colon - line))
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		MHD_add_response_header(resp, line, v);
		*colon = ':';
	}
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Can the answer be queued?  The headers are in and, unless PROTO_PLAIN,
 * a small body too (or the first bytes of a big one). */
static bool
answer_ready(const struct req *r)
{
	if (r->done)
		return true;
	if (!r->hdr_done)
		return false;
	if (plain || r->head || r->status == 204 || r->status == 304 ||
	    r->clen == 0)
		return true;
	if (r->clen > 0 && r->clen <= BLOCK_MAX)
		return r->recv_bytes >= (uint64_t)r->clen;
	return r->recv_bytes > 0;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *con, const char *url,
    const char *method, const char *version, const char *data,
    size_t *data_size, void **ctx)
{
	struct req *r = *ctx;

	(void)cls; (void)url; (void)version;
	if (r == NULL)
		return MHD_NO;
	if (!r->started) {
		struct hdr_walk hw = { r, false, false, -1 };

		r->started = true;
		r->w->n_req++;
		MHD_get_connection_values(con, MHD_HEADER_KIND, on_req_header,
		    &hw);
		if (hw.chunked) {
			r->reject = 411;	/* the body is dropped */
			r->done = true;
			return MHD_YES;
		}
		if (xfer_start(r, method, &hw) == -1)
			r->done = true;		/* 502 at the final call */
		return MHD_YES;
	}
	if (*data_size > 0) {
		size_t put;

		/* The transfer ended or the backend said no: drop the rest. */
		if (r->done || r->early || !r->upload) {
			r->up_in += *data_size;
			*data_size = 0;
			return MHD_YES;
		}
		put = ring_put(&r->up, data, *data_size);
		r->up_in += put;
		*data_size -= put;
		if (r->up_in >= r->up_total)
			r->up_eof = true;
		/* Wake curl's read per UP_KICK bytes, not per TLS record. */
		if ((r->cpause & CURLPAUSE_SEND) && (r->up_eof ||
		    r->up.len >= UP_KICK || ring_space(&r->up) == 0))
			set_pause(r, r->cpause & ~CURLPAUSE_SEND);
		/* What did not fit stays with libmicrohttpd, offered again
		 * after the resume. */
		if (*data_size > 0)
			suspend(r, W_SPACE);
		return MHD_YES;
	}
	/* The final call: no more body. */
	if (r->reject != 0)
		return queue_error(con, r->reject, "Length Required\n");
	if (r->upload && !r->up_eof)
		r->up_eof = true;
	if (r->upload && (r->cpause & CURLPAUSE_SEND))
		set_pause(r, r->cpause & ~CURLPAUSE_SEND);
	if (!answer_ready(r)) {
		suspend(r, W_HEADERS);
		return MHD_YES;
	}
	return queue_answer(r);
}

/* --- the loop ------------------------------------------------------------ */

static void
curl_timeout_if_due(struct worker *w, long long now)
{
	int running;

	if (w->curl_due >= 0 && now >= w->curl_due) {
		w->curl_due = -1;
		w->n_curl_act++;
		curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[64];
	long long mhd_due = 0;

	for (;;) {
		MHD_UNSIGNED_LONG_LONG mt;
		long long now = now_ms(), t = -1;
		int n, i, k, running;
		bool run_mhd = false;

		if (MHD_get_timeout(w->d, &mt) == MHD_YES) {
			mhd_due = now + (mt > INT_MAX ? INT_MAX : (long long)mt);
			t = mhd_due - now;
		} else
			mhd_due = -1;
		if (w->curl_due >= 0 && (t < 0 || w->curl_due - now < t))
			t = w->curl_due - now < 0 ? 0 : w->curl_due - now;
		w->n_wait++;
		n = epoll_wait(w->epfd, ev, 64, t > INT_MAX ? INT_MAX : (int)t);
		for (i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64;

			if (tag == TAG_MHD)
				run_mhd = true;
			else if (tag == TAG_STOP)
				return NULL;
			else {
				int fl = 0;

				if (ev[i].events & EPOLLIN)
					fl |= CURL_CSELECT_IN;
				if (ev[i].events & EPOLLOUT)
					fl |= CURL_CSELECT_OUT;
				if (ev[i].events & (EPOLLERR | EPOLLHUP))
					fl |= CURL_CSELECT_ERR;
				w->n_curl_act++;
				curl_multi_socket_action(w->multi,
				    (curl_socket_t)(tag & 0xffffffffULL), fl,
				    &running);
			}
		}
		now = now_ms();
		if (mhd_due >= 0 && now >= mhd_due)
			run_mhd = true;
		/* curl first (its callbacks resume connections), then
		 * libmicrohttpd (its callbacks start and unpause transfers),
		 * and again while either left the other work. */
		for (k = 0; k < LOOP_AGAIN; k++) {
			curl_timeout_if_due(w, now);
			reap(w);
			if (!run_mhd && !w->resumed)
				break;
			run_mhd = false;
			w->resumed = false;
			w->n_run++;
			MHD_run(w->d);
			now = now_ms();
			/* libmicrohttpd has more to do at once (a connection
			 * still readable, an answer's body to send): again,
			 * without an epoll_wait() of ours in between. */
			if (MHD_get_timeout(w->d, &mt) == MHD_YES && mt == 0)
				run_mhd = true;
			if (!run_mhd && !w->resumed &&
			    !(w->curl_due >= 0 && now >= w->curl_due))
				break;
		}
	}
}

/* --- setup --------------------------------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fprintf(stderr, "proto_loop: cannot read %s\n", path);
		exit(1);
	}
	rewind(f);
	b = xmalloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "proto_loop: cannot read %s\n", path);
		exit(1);
	}
	b[n] = '\0';
	fclose(f);
	return b;
}

static void
worker_init(struct worker *w, int id)
{
	struct sockaddr_in sin;
	struct epoll_event ev;
	const union MHD_DaemonInfo *di;

	w->id = id;
	w->curl_due = -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)opt_port);
	if (inet_pton(AF_INET, opt_bind, &sin.sin_addr) != 1) {
		fprintf(stderr, "proto_loop: --bind: IPv4 only\n");
		exit(1);
	}
	w->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_TLS |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, (uint16_t)opt_port,
	    NULL, NULL, on_request, w,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
	    MHD_OPTION_HTTPS_MEM_CERT, pem_cert,
	    MHD_OPTION_HTTPS_MEM_KEY, pem_key,
	    MHD_OPTION_HTTPS_PRIORITIES, prio,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)8192,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(68 * 1024),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, w,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, w,
	    MHD_OPTION_END);
	if (w->d == NULL) {
		fprintf(stderr, "proto_loop: cannot start daemon %d\n", id);
		exit(1);
	}
	di = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL) {
		fprintf(stderr, "proto_loop: no epoll fd\n");
		exit(1);
	}
	w->mhd_fd = di->epoll_fd;
	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (w->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		perror("proto_loop: epoll/eventfd");
		exit(1);
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_MHD;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->mhd_fd, &ev) == -1) {
		perror("proto_loop: epoll_ctl");
		exit(1);
	}
	ev.data.u64 = TAG_STOP;
	(void)epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stopfd, &ev);
	if ((w->multi = curl_multi_init()) == NULL) {
		fprintf(stderr, "proto_loop: curl_multi_init\n");
		exit(1);
	}
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, 4096L);
}

static void
usage(void)
{
	fprintf(stderr, "usage: proto_loop --port P [--bind A] --cert F "
	    "--key F --upstream URL [--threads N]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct worker *ws;
	struct rlimit rl;
	sigset_t set;
	unsigned i;
	int sig;
	long ncpu;
	const char *p;

	for (i = 1; i < (unsigned)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (unsigned)argc ?
		    argv[i + 1] : NULL;

		if (strncmp(a, "--", 2) != 0)
			continue;
		if (strchr(a, '=') != NULL)	/* --x=y: ignored */
			continue;
		if (v == NULL || strncmp(v, "--", 2) == 0)
			continue;		/* a flag: ignored */
		i++;
		if (strcmp(a, "--port") == 0)
			opt_port = (unsigned)atoi(v);
		else if (strcmp(a, "--bind") == 0)
			opt_bind = v;
		else if (strcmp(a, "--cert") == 0)
			opt_cert = v;
		else if (strcmp(a, "--key") == 0)
			opt_key = v;
		else if (strcmp(a, "--upstream") == 0)
			opt_up = v;
		else if (strcmp(a, "--threads") == 0)
			opt_threads = (unsigned)atoi(v);
	}
	if (opt_port == 0 || opt_cert == NULL || opt_key == NULL ||
	    opt_up == NULL)
		usage();
	/* The upstream URL's origin, and its path prefixed to targets. */
	if ((p = strstr(opt_up, "://")) == NULL)
		usage();
	p = strchr(p + 3, '/');
	if (p != NULL) {
		up_origin = strndup(opt_up, (size_t)(p - opt_up));
		up_path = strdup(p);
		if (up_path[strlen(up_path) - 1] == '/')
			up_path[strlen(up_path) - 1] = '\0';
	} else
		up_origin = strdup(opt_up);
	pem_cert = slurp(opt_cert);
	pem_key = slurp(opt_key);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	plain = getenv("PROTO_PLAIN") != NULL &&
	    strcmp(getenv("PROTO_PLAIN"), "1") == 0;
	curl_global_init(CURL_GLOBAL_ALL);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (opt_threads == 0)
		opt_threads = ncpu > 0 ? (unsigned)ncpu : 1;
	ws = calloc(opt_threads, sizeof(*ws));
	for (i = 0; i < opt_threads; i++)
		worker_init(&ws[i], (int)i);
	for (i = 0; i < opt_threads; i++)
		if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "proto_loop: pthread_create\n");
			exit(1);
		}
	sigwait(&set, &sig);
	for (i = 0; i < opt_threads; i++) {
		struct worker *w = &ws[i];

		fprintf(stderr, "proto_loop: thread %u: %llu connections, "
		    "%llu requests, %llu suspends, %llu resumes, %llu MHD_run, "
		    "%llu epoll_wait, %llu curl actions\n", i,
		    __atomic_load_n(&w->n_conn, __ATOMIC_RELAXED),
		    __atomic_load_n(&w->n_req, __ATOMIC_RELAXED),
		    __atomic_load_n(&w->n_susp, __ATOMIC_RELAXED),
		    __atomic_load_n(&w->n_resume, __ATOMIC_RELAXED),
		    __atomic_load_n(&w->n_run, __ATOMIC_RELAXED),
		    __atomic_load_n(&w->n_wait, __ATOMIC_RELAXED),
		    __atomic_load_n(&w->n_curl_act, __ATOMIC_RELAXED));
	}
	fflush(stderr);
	_exit(0);
}
