/*
 * shaper: one limiter for the whole process, and one timer heap.  A request
 * refused tokens sleeps (suspended) in the heap until the moment its
 * deficit is covered; event loop 0, which already sleeps in epoll_wait()
 * until its next event, fires those timers (upstream.h).  No tick per request, no
 * polling.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "request.h"
#include "shaper.h"
#include "upstream.h"

/* Requests resumed per pass of shaper_expire() (bounded stack array). */
#define EXPIRE_BATCH	64
#define NEVER		UINT64_MAX
/* Timers are rounded up to a grid, so that transfers due within the same
 * few milliseconds are resumed in one pass of loop 0 and of each
 * worker, not one wake-up each.  Nothing is lost to the rounding: tokens
 * accrue from the clock, and a waiter that is late takes what accrued
 * meanwhile.  The grid is a power of two of 1 ms up to SLACK_MAX, at most
 * a quarter of the wait, so that a fast transfer (a short wait) is not
 * held longer than its buffer lasts. */
#define SLACK_MIN	(1000000ULL)
#define SLACK_MAX	(16 * 1000000ULL)

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static struct limiter	 lim;		/* [S] */
static struct clientaddr_trust trust;	/* [S] */
static struct request	**heap;		/* [S] 1-based min-heap on tok_at */
static size_t		 heap_n, heap_cap; /* [S] */
static bool		 stopped;	/* [S] */
static bool		 full_logged;	/* [S] */
/* Lock-free views for the hot path and loop 0. */
static atomic_bool	 rated_down, rated_up;
static atomic_bool	 limited;	/* any rate or max-connections */
static atomic_uint_fast64_t next_at;	/* heap[1]'s time; 0: no timer */

/* --- timer heap (shaper lock held) ---------------------------------------- */

static void
heap_put(size_t i, struct request *r)
{
	heap[i] = r;
	r->heap_idx = i;
}

static void
sift_up(size_t i)
{
	struct request *r = heap[i];

	while (i > 1 && heap[i / 2]->tok_at > r->tok_at) {
		heap_put(i, heap[i / 2]);
		i /= 2;
	}
	heap_put(i, r);
}

static void
sift_down(size_t i)
{
	struct request *r = heap[i];
	size_t c;

	while ((c = 2 * i) <= heap_n) {
		if (c < heap_n && heap[c + 1]->tok_at < heap[c]->tok_at)
			c++;
		if (heap[c]->tok_at >= r->tok_at)
			break;
		heap_put(i, heap[c]);
		i = c;
	}
	heap_put(i, r);
}

/* Publishes the earliest timer; wakes loop 0 if it moved closer,
 * since it may be asleep until a later one. */
static void
publish(void)
{
	uint64_t at = heap_n > 0 && heap[1]->tok_at != NEVER ?
	    heap[1]->tok_at : 0;
	uint64_t old = atomic_exchange(&next_at, at);

	if (at != 0 && (old == 0 || at < old))
		upstream_kick();
}

static void
heap_remove(struct request *r)
{
	size_t i = r->heap_idx;
	struct request *last;

	if (i == 0)
		return;
	r->heap_idx = 0;
	last = heap[heap_n--];
	if (i <= heap_n) {
		heap_put(i, last);
		sift_up(i);
		sift_down(last->heap_idx);
	}
}

/* Arms r's timer for `at` (NEVER: woken by the request ahead of it only).
 * Returns -1 if the heap is full. */
static int
heap_set(struct request *r, uint64_t at)
{
	if (r->heap_idx == 0) {
		if (heap_n == heap_cap)
			return -1;
		r->tok_at = at;
		heap_put(++heap_n, r);
		sift_up(heap_n);
		return 0;
	}
	r->tok_at = at;
	sift_up(r->heap_idx);
	sift_down(r->heap_idx);
	return 0;
}

/* Every waiter is due now: they ask again under new limits.  Setting all
 * keys equal keeps the heap ordered. */
static void
heap_all_due(void)
{
	size_t i;

	for (i = 1; i <= heap_n; i++)
		heap[i]->tok_at = 1;
}

/* --- wake-ups -------------------------------------------------------------- */

static struct request *
flow_request(struct lim_flow *f)
{
	return (struct request *)(void *)((char *)f -
	    offsetof(struct request, flow));
}

/* r's tokens are due: resume it.  A PACE_SLOW download that drained its
 * buffer (r->refill, set by the reader) stays suspended and has the
 * backend refill it first; the data's arrival resumes it (upstream.c).
 * Any thread: upstream_post() wakes r's loop unless it is the caller. */
static void
due(struct request *r)
{
	bool refill = false;

	pthread_mutex_lock(&r->lock);
	if (r->refill && r->wait == WAIT_TOKENS && r->up == UP_HEADERS &&
	    !r->hup && !r->gone) {
		r->refill = false;
		r->wait = WAIT_DATA;
		r->down_paused = false;
		refill = true;
	}
	pthread_mutex_unlock(&r->lock);
	if (refill)
		upstream_post(r, CMD_RESUME_RECV);
	else
		request_wake(r, WAKE(WAIT_TOKENS));
}

/* Takes a reference on each flow's request: it is registered, so its
 * connection's reference is still held while we hold the shaper lock. */
static void
collect(const struct lim_wake *lw, struct shaper_wake *w)
{
	size_t i;

	for (i = 0; i < lw->n && w->n < 2; i++) {
		struct request *r = flow_request(lw->flow[i]);

		request_ref(r);
		w->r[w->n++] = r;
	}
}

void
shaper_wake(struct shaper_wake *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		due(w->r[i]);
		request_unref(w->r[i]);
	}
	w->n = 0;
}

/* --- public ---------------------------------------------------------------- */

static void
set_rated(void)
{
	atomic_store(&rated_down, lim.lim.download_rate > 0 ||
	    lim.lim.client_rate > 0 || lim.lim.global_rate > 0);
	atomic_store(&rated_up, lim.lim.upload_rate > 0);
	atomic_store(&limited, atomic_load(&rated_down) ||
	    atomic_load(&rated_up) || lim.lim.max_conns > 0);
}

int
shaper_init(const struct lim_limits *l, const struct clientaddr_trust *t,
    size_t max_waiters)
{
	if ((heap = calloc(max_waiters + 1, sizeof(*heap))) == NULL)
		return -1;
	heap_cap = max_waiters;
	limiter_init(&lim, l, request_now());
	trust = *t;
	set_rated();
	return 0;
}

void
shaper_set(const struct lim_limits *l, const struct clientaddr_trust *t)
{
	pthread_mutex_lock(&lock);
	limiter_set(&lim, l, request_now());
	trust = *t;
	set_rated();
	heap_all_due();
	publish();
	pthread_mutex_unlock(&lock);
}

void
shaper_rates(uint64_t *global, uint64_t *client)
{
	pthread_mutex_lock(&lock);
	*global = lim.lim.global_rate;
	*client = lim.lim.client_rate;
	pthread_mutex_unlock(&lock);
}

uint64_t
shaper_max_conns(void)
{
	uint64_t n;

	pthread_mutex_lock(&lock);
	n = lim.lim.max_conns;
	pthread_mutex_unlock(&lock);
	return n;
}

uint64_t
shaper_demand(void (*fn)(const char *, uint64_t, void *), void *arg)
{
	uint64_t n;

	pthread_mutex_lock(&lock);
	n = limiter_demand(&lim, fn, arg);
	pthread_mutex_unlock(&lock);
	return n;
}

void
shaper_share(uint64_t global, uint64_t client)
{
	pthread_mutex_lock(&lock);
	limiter_share(&lim, global, client);
	pthread_mutex_unlock(&lock);
}

void
shaper_share_global(uint64_t global)
{
	pthread_mutex_lock(&lock);
	limiter_share(&lim, global, lim.client_share);
	pthread_mutex_unlock(&lock);
}

void
shaper_share_client(const char *addr, uint64_t rate)
{
	pthread_mutex_lock(&lock);
	limiter_share_client(&lim, addr, rate);
	pthread_mutex_unlock(&lock);
}

void
shaper_stop(void)
{
	pthread_mutex_lock(&lock);
	stopped = true;
	atomic_store(&rated_down, false);
	atomic_store(&rated_up, false);
	heap_all_due();
	publish();
	pthread_mutex_unlock(&lock);
}

int
shaper_enter(struct request *r, bool upload, const char *xff)
{
	uint64_t rate;
	int rc;

	/* Without any limit there is nothing to count or shape: no lock and
	 * no address resolved.  A request that entered so stays unshaped if
	 * a reload turns limits on meanwhile. */
	if (!atomic_load(&limited)) {
		r->pace = PACE_PLAIN;
		r->shaped = false;
		return 0;
	}
	pthread_mutex_lock(&lock);
	rate = lim.lim.download_rate;
	clientaddr_resolve(&trust, r->client_addr, xff, r->limit_addr,
	    sizeof(r->limit_addr));
	rc = limiter_enter(&lim, &r->flow, upload, r->limit_addr,
	    request_now());
	if (upload || !atomic_load(&rated_down))
		r->pace = PACE_PLAIN;
	else if (rate > 0 && rate <= SHAPER_SLOW_RATE)
		r->pace = PACE_SLOW;
	else
		r->pace = PACE_SHAPED;
	pthread_mutex_unlock(&lock);
	r->shaped = rc == 0;
	return rc;
}

void
shaper_start(struct request *r)
{
	/* Without a download rate there is no bucket to restart: no lock
	 * per response. */
	if (!r->shaped || !atomic_load(&rated_down))
		return;
	pthread_mutex_lock(&lock);
	limiter_restart(&lim, &r->flow, request_now());
	pthread_mutex_unlock(&lock);
}

void
shaper_leave(struct request *r)
{
	struct shaper_wake w = { .n = 0 };
	struct lim_wake lw = { .n = 0 };

	if (!r->shaped)
		return;
	pthread_mutex_lock(&lock);
	heap_remove(r);
	limiter_leave(&lim, &r->flow, &lw);
	collect(&lw, &w);
	publish();
	pthread_mutex_unlock(&lock);
	r->shaped = false;
	shaper_wake(&w);
}

/* Rounds the timer at (ns) up to its grid (see SLACK_MIN). */
static uint64_t
on_grid(uint64_t at, uint64_t now)
{
	uint64_t g = SLACK_MIN;

	if (at <= now || (at - now) / 4 < SLACK_MIN)
		return at;
	while (g < SLACK_MAX && 2 * g <= (at - now) / 4)
		g *= 2;
	return (at + g - 1) / g * g;
}

bool
shaper_limits(const struct request *r)
{
	return r->shaped &&
	    atomic_load(r->flow.upload ? &rated_up : &rated_down);
}

size_t
shaper_take(struct request *r, size_t want, struct shaper_wake *w)
{
	struct lim_wake lw;
	uint64_t at, now;
	size_t got;

	if (!shaper_limits(r))
		return want;
	pthread_mutex_lock(&lock);
	if (stopped) {
		pthread_mutex_unlock(&lock);
		return want;
	}
	now = request_now();
	got = limiter_take(&lim, &r->flow, want, now, &at, &lw);
	if (got > 0)
		heap_remove(r);
	else if (heap_set(r, at != 0 ? on_grid(at, now) : NEVER) == -1) {
		/* Cannot happen while every waiter is a connection within
		 * the limit the heap was sized for; fail open, loudly. */
		if (!full_logged)
			log_error("shaper: timer heap full (%zu); granting "
			    "without limit", heap_cap);
		full_logged = true;
		got = want;
	}
	collect(&lw, w);
	publish();
	pthread_mutex_unlock(&lock);
	return got;
}

uint64_t
shaper_deadline(void)
{
	return atomic_load(&next_at);
}

void
shaper_expire(uint64_t now)
{
	struct request *ready[EXPIRE_BATCH];
	size_t i, n;

	do {
		n = 0;
		pthread_mutex_lock(&lock);
		while (n < EXPIRE_BATCH && heap_n > 0 &&
		    heap[1]->tok_at <= now) {
			struct request *r = heap[1];

			heap_remove(r);
			request_ref(r);
			ready[n++] = r;
		}
		publish();
		pthread_mutex_unlock(&lock);
		for (i = 0; i < n; i++) {
			due(ready[i]);
			request_unref(ready[i]);
		}
	} while (n == EXPIRE_BATCH);
}

static void
fmt_rate(char *buf, size_t len, uint64_t bps)
{
	if (bps == 0)
		snprintf(buf, len, "unlimited");
	else if (bps % (1024 * 1024) == 0)
		snprintf(buf, len, "%llu MiB/s", (unsigned long long)(bps >> 20));
	else if (bps % 1024 == 0)
		snprintf(buf, len, "%llu KiB/s", (unsigned long long)(bps >> 10));
	else
		snprintf(buf, len, "%llu B/s", (unsigned long long)bps);
}

void
shaper_log(const struct lim_limits *l, const char *trusted)
{
	char d[32], c[32], g[32], u[32], conns[32], depth[48];

	fmt_rate(d, sizeof(d), l->download_rate);
	fmt_rate(c, sizeof(c), l->client_rate);
	fmt_rate(g, sizeof(g), l->global_rate);
	fmt_rate(u, sizeof(u), l->upload_rate);
	if (l->max_conns > 0)
		snprintf(conns, sizeof(conns), "%llu",
		    (unsigned long long)l->max_conns);
	else
		snprintf(conns, sizeof(conns), "unlimited");
	if (l->depth > 0)
		snprintf(depth, sizeof(depth), "%llu bytes",
		    (unsigned long long)l->depth);
	else
		snprintf(depth, sizeof(depth), "auto (100 ms of the rate, "
		    "at least 64 KiB)");
	log_info("limits: download-speed %s per GET (burst %llu bytes), "
	    "client-speed %s, global-speed %s, upload-speed %s per PUT/POST, "
	    "max-connections %s GETs per client address, bucket-depth %s, "
	    "max-token-wait %llu ms, trusted-proxies %s", d,
	    (unsigned long long)l->download_burst, c, g, u, conns,
	    depth,
	    (unsigned long long)(l->max_wait_ns / 1000000),
	    trusted[0] != '\0' ? trusted : "(none)");
}

bool
shaper_trusted(const char *addr)
{
	bool t;

	pthread_mutex_lock(&lock);
	t = trust.n > 0 && clientaddr_trusted(&trust, addr);
	pthread_mutex_unlock(&lock);
	return t;
}
