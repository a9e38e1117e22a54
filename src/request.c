/*
 * request: allocation, reference counting and the single free path.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "request.h"

static atomic_uint live;
/* Suspended connections, plus GATE_SHUT once none may be any more. */
#define GATE_SHUT	0x40000000
static atomic_int suspended;
static atomic_uint_fast64_t next_id = 1;

uint64_t
request_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct request *
request_new(const char *raw_target, size_t down_max)
{
	struct request *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->target = strdup(raw_target)) == NULL) {
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	atomic_init(&r->refs, 1);
	r->id = atomic_fetch_add(&next_id, 1);
	r->client_fd = -1;
	r->up_fd = -1;
	r->resp_length = -1;
	r->down_max = down_max;
	r->t_start = request_now();
	ring_init(&r->down);
	ring_init(&r->upload);
	atomic_fetch_add(&live, 1);
	return r;
}

void
request_ref(struct request *r)
{
	atomic_fetch_add(&r->refs, 1);
}

void
request_unref(struct request *r)
{
	if (atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	/* Last reference: no thread can reach r any more. */
	ring_free(&r->down);
	ring_free(&r->upload);
	curl_slist_free_all(r->req_headers);
	free(r->resp_headers);
	free(r->url);
	free(r->target);
	pthread_mutex_destroy(&r->lock);
	free(r);
	atomic_fetch_sub(&live, 1);
}

unsigned
request_count(void)
{
	return atomic_load(&live);
}

bool
request_gate_enter(void)
{
	int v = atomic_load(&suspended);

	/* Counted before the suspension, and never once the gate is shut:
	 * whoever saw the count at zero after shutting it can stop the
	 * daemon (libmicrohttpd aborts on a suspended connection). */
	do {
		if (v & GATE_SHUT)
			return false;
	} while (!atomic_compare_exchange_weak(&suspended, &v, v + 1));
	return true;
}

void
request_gate_leave(void)
{
	atomic_fetch_sub(&suspended, 1);
}

bool
request_suspend(struct request *r, enum req_wait why)
{
	if (!request_gate_enter())
		return false;
	r->wait = why;
	if (why == WAIT_TOKENS)
		r->t_wait = request_now();
	MHD_suspend_connection(r->con);
	return true;
}

void
request_shut_gate(void)
{
	atomic_fetch_or(&suspended, GATE_SHUT);
}

/* Told of every resume (upstream.c: the loop of a connection must run
 * its daemon again; libmicrohttpd has no wake-up of its own for a daemon
 * run from outside). */
static void		(*resumed_fn)(struct uloop *);

void
request_on_resume(void (*fn)(struct uloop *))
{
	resumed_fn = fn;
}

bool
request_wake(struct request *r, unsigned mask)
{
	bool wake;

	pthread_mutex_lock(&r->lock);
	wake = r->wait != WAIT_NONE && (mask & WAKE(r->wait)) != 0;
	if (wake && r->wait == WAIT_TOKENS)
		metrics_add(MC_TOKEN_WAIT_NS, request_now() - r->t_wait);
	if (wake)
		r->wait = WAIT_NONE;
	pthread_mutex_unlock(&r->lock);
	if (wake) {
		/* Not under the lock: MHD takes its own locks here. */
		MHD_resume_connection(r->con);
		if (resumed_fn != NULL)
			resumed_fn(r->loop);
		request_gate_leave();
	}
	return wake;
}

int
request_suspended(void)
{
	return atomic_load(&suspended) & ~GATE_SHUT;
}
