/*
 * limiter: hierarchical token buckets with FIFO service of shared buckets.
 */

#include <stdlib.h>
#include <string.h>

#include "limiter.h"

#define NS	1000000000ULL

enum { LV_OWN, LV_CLIENT, LV_GLOBAL };

struct level {
	int			 kind;
	struct lim_bucket	*b;
	uint64_t		 rate;
	uint64_t		 depth;
	struct lim_queue	*q;	/* NULL for a flow's own bucket */
};

static uint64_t
depth_for(const struct lim_limits *l, uint64_t rate)
{
	uint64_t d = rate / 10;		/* 100 ms of the rate */

	if (l->depth > 0)
		return l->depth;
	return d < LIMITER_DEPTH_MIN ? LIMITER_DEPTH_MIN : d;
}

/* Adds the tokens earned since b->t, up to the depth. */
static void
refill(struct lim_bucket *b, uint64_t rate, uint64_t depth, uint64_t now)
{
	__int128 cap = (__int128)depth * NS;

	if (now <= b->t)
		return;
	if (b->tok < cap) {
		b->tok += (__int128)rate * (now - b->t);
		if (b->tok > cap)
			b->tok = cap;
	}
	b->t = now;
}

static void
bucket_reset(struct lim_bucket *b, uint64_t now)
{
	b->tok = 0;
	b->t = now;
}

/* --- FIFO queues of waiting flows ----------------------------------------- */

static struct lim_flow **
link_next(struct lim_flow *f, int kind)
{
	return kind == LV_CLIENT ? &f->cnext : &f->gnext;
}

static struct lim_flow **
link_prev(struct lim_flow *f, int kind)
{
	return kind == LV_CLIENT ? &f->cprev : &f->gprev;
}

static bool *
queued(struct lim_flow *f, int kind)
{
	return kind == LV_CLIENT ? &f->in_cq : &f->in_gq;
}

/* Whether a goes before b in line. */
static bool
before(const struct lim_flow *a, const struct lim_flow *b)
{
	return a->ticket < b->ticket ||
	    (a->ticket == b->ticket && a->seq < b->seq);
}

/* Queues are ordered by ticket, the same for a flow in every queue, not by
 * arrival in each queue: with one order across all queues, the first in
 * line heads every queue it is in, so two queues can never wait on each
 * other. */
static void
enqueue(struct lim_queue *q, struct lim_flow *f, int kind)
{
	struct lim_flow *after = q->tail;

	if (*queued(f, kind))
		return;
	while (after != NULL && before(f, after))
		after = *link_prev(after, kind);
	*queued(f, kind) = true;
	*link_prev(f, kind) = after;
	*link_next(f, kind) = after != NULL ? *link_next(after, kind) : q->head;
	if (*link_next(f, kind) != NULL)
		*link_prev(*link_next(f, kind), kind) = f;
	else
		q->tail = f;
	if (after != NULL)
		*link_next(after, kind) = f;
	else
		q->head = f;
}

/* Removes f from q; if f was the head, the new head (if any) goes to w. */
static void
dequeue(struct lim_queue *q, struct lim_flow *f, int kind, struct lim_wake *w)
{
	struct lim_flow *next, *prev;

	if (!*queued(f, kind))
		return;
	next = *link_next(f, kind);
	prev = *link_prev(f, kind);
	if (prev != NULL)
		*link_next(prev, kind) = next;
	else
		q->head = next;
	if (next != NULL)
		*link_prev(next, kind) = prev;
	else
		q->tail = prev;
	*queued(f, kind) = false;
	*link_next(f, kind) = *link_prev(f, kind) = NULL;
	if (prev == NULL && next != NULL && w != NULL && w->n < 2)
		w->flow[w->n++] = next;
}

/* --- client addresses ----------------------------------------------------- */

static unsigned
hash(const char *s)
{
	unsigned h = 2166136261u;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % LIMITER_TABLE;
}

static struct lim_client *
client_get(struct limiter *l, const char *addr, uint64_t now)
{
	unsigned h = hash(addr);
	struct lim_client *c;

	for (c = l->table[h]; c != NULL; c = c->next)
		if (strcmp(c->addr, addr) == 0)
			return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	strncpy(c->addr, addr, sizeof(c->addr) - 1);
	bucket_reset(&c->b, now);
	c->next = l->table[h];
	l->table[h] = c;
	l->clients++;
	return c;
}

static void
client_put(struct limiter *l, struct lim_client *c)
{
	struct lim_client **pp;

	if (c->conns > 0 || c->q.head != NULL)
		return;
	for (pp = &l->table[hash(c->addr)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			l->clients--;
			free(c);
			return;
		}
}

/* --- public ---------------------------------------------------------------- */

void
limiter_init(struct limiter *l, const struct lim_limits *lim, uint64_t now)
{
	memset(l, 0, sizeof(*l));
	l->lim = *lim;
	bucket_reset(&l->global, now);
}

void
limiter_set(struct limiter *l, const struct lim_limits *lim, uint64_t now)
{
	(void)now;
	l->lim = *lim;
}

bool
limiter_active(const struct limiter *l, bool upload)
{
	if (upload)
		return l->lim.upload_rate > 0;
	return l->lim.download_rate > 0 || l->lim.client_rate > 0 ||
	    l->lim.global_rate > 0 || l->lim.max_conns > 0;
}

int
limiter_enter(struct limiter *l, struct lim_flow *f, bool upload,
    const char *addr, uint64_t now)
{
	struct lim_client *c = NULL;

	memset(f, 0, sizeof(*f));
	f->upload = upload;
	if (!upload) {
		if ((c = client_get(l, addr, now)) == NULL)
			return -1;
		if (l->lim.max_conns > 0 && c->conns >= l->lim.max_conns) {
			client_put(l, c);
			return -1;
		}
		c->conns++;
	}
	f->client = c;
	bucket_reset(&f->own, now);
	f->entered = true;
	return 0;
}

void
limiter_restart(struct limiter *l, struct lim_flow *f, uint64_t now)
{
	(void)l;
	if (f->entered)
		bucket_reset(&f->own, now);
}

void
limiter_leave(struct limiter *l, struct lim_flow *f, struct lim_wake *w)
{
	if (!f->entered)
		return;
	if (f->client != NULL) {
		dequeue(&f->client->q, f, LV_CLIENT, w);
		f->client->conns--;
		client_put(l, f->client);
		f->client = NULL;
	}
	dequeue(&l->gq, f, LV_GLOBAL, w);
	f->entered = false;
}

static uint64_t	share_of(uint64_t, uint64_t);

/* The levels that limit f now, own bucket first. */
static size_t
levels(struct limiter *l, struct lim_flow *f, struct level *lv)
{
	const struct lim_limits *m = &l->lim;
	size_t n = 0;

	if (f->upload) {
		if (m->upload_rate > 0)
			lv[n++] = (struct level){ LV_OWN, &f->own, m->upload_rate,
			    depth_for(m, m->upload_rate), NULL };
		return n;
	}
	if (m->download_rate > 0 && f->sent >= m->download_burst)
		lv[n++] = (struct level){ LV_OWN, &f->own, m->download_rate,
		    depth_for(m, m->download_rate), NULL };
	if (m->client_rate > 0 && f->client != NULL) {
		uint64_t r = share_of(m->client_rate, f->client->share > 0 ?
		    f->client->share : l->client_share);

		lv[n++] = (struct level){ LV_CLIENT, &f->client->b, r,
		    depth_for(m, r), &f->client->q };
	}
	if (m->global_rate > 0) {
		uint64_t r = share_of(m->global_rate, l->global_share);

		lv[n++] = (struct level){ LV_GLOBAL, &l->global, r,
		    depth_for(m, r), &l->gq };
	}
	return n;
}

/* A cluster share of rate (B/s): never above the rate, never 0. */
static uint64_t
share_of(uint64_t rate, uint64_t share)
{
	if (share == 0 || share > rate)
		return rate;
	return share;
}

void
limiter_share(struct limiter *l, uint64_t global, uint64_t client)
{
	l->global_share = global;
	l->client_share = client;
}

void
limiter_share_client(struct limiter *l, const char *addr, uint64_t rate)
{
	struct lim_client *c;

	for (c = l->table[hash(addr)]; c != NULL; c = c->next)
		if (strcmp(c->addr, addr) == 0) {
			c->share = rate;
			return;
		}
}

uint64_t
limiter_demand(const struct limiter *l,
    void (*fn)(const char *, uint64_t, void *), void *arg)
{
	const struct lim_client *c;
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < LIMITER_TABLE; i++)
		for (c = l->table[i]; c != NULL; c = c->next) {
			if (c->conns == 0)
				continue;
			total += c->conns;
			if (fn != NULL)
				fn(c->addr, c->conns, arg);
		}
	return total;
}

size_t
limiter_take(struct limiter *l, struct lim_flow *f, size_t want, uint64_t now,
    uint64_t *retry_at, struct lim_wake *w)
{
	const struct lim_limits *m = &l->lim;
	struct level lv[3];
	size_t i, n, chunk = want;
	uint64_t wait_ns = 0, at;
	bool starving, blocked = false, in_burst;

	w->n = 0;
	*retry_at = 0;
	if (want == 0 || !f->entered)
		return 0;
	in_burst = !f->upload && m->download_rate > 0 &&
	    f->sent < m->download_burst;
	if (in_burst && m->download_burst - f->sent < chunk)
		chunk = (size_t)(m->download_burst - f->sent);
	n = levels(l, f, lv);
	for (i = 0; i < n; i++) {
		uint64_t cap = lv[i].rate / 10;

		if (cap < LIMITER_CHUNK_MIN)
			cap = LIMITER_CHUNK_MIN;
		if (cap > lv[i].depth)
			cap = lv[i].depth;
		if (chunk > cap)
			chunk = (size_t)cap;
		refill(lv[i].b, lv[i].rate, lv[i].depth, now);
	}
	starving = m->max_wait_ns > 0 && f->wait_since > 0 &&
	    now - f->wait_since >= m->max_wait_ns;
	if (!f->in_line) {
		/* Start-time fair queueing: a flow's turn comes after the
		 * bytes it was last granted, counted in virtual time; one
		 * back from idle starts at the present virtual time. */
		f->ticket = f->finish > l->vtime ? f->finish : l->vtime;
		f->seq = ++l->seq;
		f->in_line = true;
	}

	if (!starving) {
		/* Behind an earlier ticket in a shared queue: wait to be
		 * woken when we reach the head. */
		for (i = 0; i < n; i++)
			if (lv[i].q != NULL && lv[i].q->head != NULL) {
				/* An earlier ticket goes ahead of the head. */
				enqueue(lv[i].q, f, lv[i].kind);
				if (lv[i].q->head != f)
					blocked = true;
			}
		/* A waiter sleeps until the whole chunk is earned at every
		 * level: one wake-up per chunk, never a trickle of tiny
		 * grants. */
		for (i = 0; i < n && !blocked; i++) {
			__int128 need = (__int128)chunk * NS;

			if (lv[i].b->tok < need) {
				uint64_t d = (uint64_t)((need - lv[i].b->tok +
				    lv[i].rate - 1) / lv[i].rate);

				if (d > wait_ns)
					wait_ns = d;
				if (lv[i].q != NULL)
					enqueue(lv[i].q, f, lv[i].kind);
			}
		}
	}
	if (blocked || wait_ns > 0) {
		/* Hold a place only where it is the short level: a flow
		 * held back by its own rate must not block a shared queue. */
		for (i = 0; i < n && !blocked; i++)
			if (lv[i].q != NULL && lv[i].b->tok >=
			    (__int128)chunk * NS)
				dequeue(lv[i].q, f, lv[i].kind, w);
		if (f->wait_since == 0)
			f->wait_since = now;
		at = blocked ? UINT64_MAX : now + wait_ns;
		if (m->max_wait_ns > 0 && f->wait_since + m->max_wait_ns < at)
			at = f->wait_since + m->max_wait_ns;
		*retry_at = at == UINT64_MAX ? 0 : at;
		return 0;
	}
	for (i = 0; i < n; i++) {
		lv[i].b->tok -= (__int128)chunk * NS;
		if (lv[i].q != NULL)
			dequeue(lv[i].q, f, lv[i].kind, w);
	}
	f->wait_since = 0;
	if (f->ticket > l->vtime)
		l->vtime = f->ticket;
	f->finish = f->ticket + chunk;
	f->in_line = false;
	f->sent += chunk;
	/* Leaving the burst: the rate starts now, from an empty bucket. */
	if (in_burst && f->sent >= m->download_burst)
		bucket_reset(&f->own, now);
	return chunk;
}
