#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limiter.h"

#define MS	1000000ULL
#define SEC	1000000000ULL
#define MiB	(1024 * 1024ULL)

static struct lim_limits
limits(void)
{
	struct lim_limits m;

	memset(&m, 0, sizeof(m));
	return m;
}

/* Event-driven simulation: n flows that always have data and ask for
 * `want` bytes whenever they may; returns bytes granted per flow over
 * `dur` ns.  Flows listed in `stop_at` leave at that time. */
struct sim {
	struct limiter	 l;
	struct lim_flow	 f[64];
	uint64_t	 next[64];	/* ns of next attempt; UINT64_MAX: woken only */
	size_t		 want[64];	/* per flow; 0: run()'s want */
	uint64_t	 got[64];
	uint64_t	 got_after[64];	/* bytes granted after `mark` */
	uint64_t	 max_wait[64];
	uint64_t	 since[64];
	bool		 gone[64];
	size_t		 n;
};

static void
wake(struct sim *s, struct lim_wake *w, uint64_t now)
{
	size_t i, j;

	for (i = 0; i < w->n; i++)
		for (j = 0; j < s->n; j++)
			if (&s->f[j] == w->flow[i] && !s->gone[j])
				s->next[j] = now;
}

static void
run(struct sim *s, size_t want, uint64_t start, uint64_t dur, uint64_t mark,
    size_t leave_n, uint64_t leave_at)
{
	uint64_t now = start;
	struct lim_wake w;
	size_t i;

	for (;;) {
		size_t best = SIZE_MAX;
		uint64_t retry, got;

		for (i = 0; i < s->n; i++)
			if (!s->gone[i] && (best == SIZE_MAX ||
			    s->next[i] < s->next[best]))
				best = i;
		if (best == SIZE_MAX || s->next[best] == UINT64_MAX) {
			for (i = 0; i < s->n; i++)
				fprintf(stderr, "flow %zu: cq %d gq %d ticket %lu "
				    "wait %lu chead %p ghead %p self %p\n", i,
				    s->f[i].in_cq, s->f[i].in_gq, s->f[i].ticket,
				    s->f[i].wait_since,
				    s->f[i].client ? (void *)s->f[i].client->q.head : NULL,
				    (void *)s->l.gq.head, (void *)&s->f[i]);
			cr_assert_fail("simulation stalled: no flow can proceed");
		}
		if (leave_n > 0 && s->next[best] >= leave_at) {
			for (i = 0; i < leave_n; i++) {
				limiter_leave(&s->l, &s->f[i], &w);
				s->gone[i] = true;
				wake(s, &w, leave_at);
			}
			leave_n = 0;
			continue;
		}
		now = s->next[best];
		if (now >= start + dur)
			break;
		got = limiter_take(&s->l, &s->f[best], s->want[best] ?
		    s->want[best] : want, now, &retry, &w);
		wake(s, &w, now);
		if (got > 0) {
			s->got[best] += got;
			if (now >= mark)
				s->got_after[best] += got;
			if (s->since[best] > 0 &&
			    now - s->since[best] > s->max_wait[best])
				s->max_wait[best] = now - s->since[best];
			s->since[best] = 0;
			s->next[best] = now;
		} else {
			if (s->since[best] == 0)
				s->since[best] = now;
			s->next[best] = retry > 0 ? retry : UINT64_MAX;
		}
	}
}

static void
sim_init(struct sim *s, const struct lim_limits *m, size_t n, const char **addr)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	limiter_init(&s->l, m, 1);
	s->n = n;
	for (i = 0; i < n; i++) {
		cr_assert_eq(limiter_enter(&s->l, &s->f[i], false,
		    addr ? addr[i] : "10.0.0.1", 1), 0);
		s->next[i] = 1;
	}
}

static void
sim_free(struct sim *s)
{
	struct lim_wake w;
	size_t i;

	for (i = 0; i < s->n; i++)
		limiter_leave(&s->l, &s->f[i], &w);
	cr_assert_eq(s->l.clients, 0, "every client entry freed");
}

Test(limiter, unlimited_grants_everything)
{
	struct lim_limits m = limits();
	struct limiter l;
	struct lim_flow f;
	struct lim_wake w;
	uint64_t retry;

	limiter_init(&l, &m, 1);
	cr_assert(!limiter_active(&l, false));
	cr_assert_eq(limiter_enter(&l, &f, false, "1.2.3.4", 1), 0);
	cr_assert_eq(limiter_take(&l, &f, 1 << 20, 1, &retry, &w), 1 << 20);
	limiter_leave(&l, &f, &w);
	cr_assert_eq(l.clients, 0, "client entry freed");
}

Test(limiter, rate_is_exact_over_ten_seconds)
{
	struct lim_limits m = limits();
	struct sim s;

	m.download_rate = MiB;
	sim_init(&s, &m, 1, NULL);
	run(&s, 16384, 1, 10 * SEC, 0, 0, 0);
	sim_free(&s);
	/* Starts from an empty bucket: at most the rate, less one chunk. */
	cr_assert_leq(s.got[0], 10 * MiB);
	cr_assert_geq(s.got[0], 10 * MiB - 16384, "got %lu", s.got[0]);
}

Test(limiter, refills_after_idle_up_to_depth_only)
{
	struct lim_limits m = limits();
	struct limiter l;
	struct lim_flow f;
	struct lim_wake w;
	uint64_t retry, now = 1, total = 0, got;

	m.download_rate = MiB;	/* depth: 100 ms = 104857 bytes */
	limiter_init(&l, &m, now);
	limiter_enter(&l, &f, false, "a", now);
	now += 3600 * SEC;	/* an hour idle */
	while ((got = limiter_take(&l, &f, 1 << 20, now, &retry, &w)) > 0)
		total += got;
	cr_assert_eq(total, MiB / 10, "an idle hour earns one bucket: %lu", total);
	cr_assert_eq(limiter_take(&l, &f, 16384, now, &retry, &w), 0);
	cr_assert_gt(retry, now);
	cr_assert_leq(retry - now, 16384 * SEC / MiB + 1, "next grant when a whole chunk is earned");
	cr_assert_geq(retry - now, 16384 * SEC / MiB - 1, "and not before: one wake-up per chunk");
	limiter_leave(&l, &f, &w);
}

Test(limiter, burst_goes_at_full_speed_then_rate)
{
	struct lim_limits m = limits();
	struct limiter l;
	struct lim_flow f;
	struct lim_wake w;
	uint64_t retry, total = 0, got;

	m.download_rate = 64 * 1024;
	m.download_burst = 1000000;
	limiter_init(&l, &m, 1);
	limiter_enter(&l, &f, false, "a", 1);
	while ((got = limiter_take(&l, &f, 16384, 1, &retry, &w)) > 0)
		total += got;
	cr_assert_eq(total, 1000000, "burst exactly: %lu", total);
	cr_assert_gt(retry, 1, "then the rate applies");
	limiter_leave(&l, &f, &w);
}

Test(limiter, fractional_carry_over_a_million_small_takes)
{
	struct lim_limits m = limits();
	struct limiter l;
	struct lim_flow f;
	struct lim_wake w;
	uint64_t retry, now = 1, total = 0;

	m.download_rate = 7;	/* 7 B/s: 1/7 s per byte, never whole ns */
	m.depth = 16;		/* the fraction is carried, not capped away */
	limiter_init(&l, &m, now);
	limiter_enter(&l, &f, false, "a", now);
	while (total < 1000000) {
		if (limiter_take(&l, &f, 1, now, &retry, &w) == 1)
			total++;
		else
			now = retry;
	}
	/* The millionth byte is earned at exactly 1e6 / 7 s. */
	cr_assert_eq(now - 1, (1000000ULL * SEC + 6) / 7, "now %lu", now - 1);
	limiter_leave(&l, &f, &w);
}

Test(limiter, huge_rates_do_not_overflow)
{
	struct lim_limits m = limits();
	struct limiter l;
	struct lim_flow f;
	struct lim_wake w;
	uint64_t retry, got;

	m.download_rate = 1ULL << 50;	/* 1 PiB/s */
	m.global_rate = 1ULL << 50;
	limiter_init(&l, &m, 1);
	limiter_enter(&l, &f, false, "a", 1);
	got = limiter_take(&l, &f, 1 << 20, 24 * 3600 * SEC, &retry, &w);
	cr_assert_eq(got, 1 << 20);
	got = limiter_take(&l, &f, 1 << 20, UINT64_MAX / 2, &retry, &w);
	cr_assert_eq(got, 1 << 20);
	limiter_leave(&l, &f, &w);
}

Test(limiter, global_rate_shared_fairly_and_work_conserving)
{
	struct lim_limits m = limits();
	struct sim s;
	size_t i;

	m.global_rate = 10 * MiB;
	sim_init(&s, &m, 10, NULL);
	/* 10 s shared by 10, then 5 leave: the other 5 share it for 10 s. */
	run(&s, 16384, 1, 20 * SEC, 10 * SEC, 5, 10 * SEC);
	sim_free(&s);
	for (i = 0; i < 5; i++) {
		double r = (double)s.got[i] / 10 / MiB;

		cr_assert(r > 0.95 && r < 1.05, "flow %zu: %.3f MiB/s of 1", i, r);
	}
	for (i = 5; i < 10; i++) {
		double r = (double)s.got_after[i] / 10 / MiB;

		cr_assert(r > 1.9 && r < 2.1, "flow %zu after: %.3f MiB/s of 2", i, r);
	}
}

Test(limiter, client_rate_caps_all_downloads_of_an_address)
{
	struct lim_limits m = limits();
	const char *addr[6] = { "a", "a", "a", "a", "a", "b" };
	struct sim s;
	uint64_t a = 0;
	size_t i;

	m.download_rate = MiB;
	m.client_rate = MiB;
	sim_init(&s, &m, 6, addr);
	run(&s, 16384, 1, 10 * SEC, 0, 0, 0);
	sim_free(&s);
	for (i = 0; i < 5; i++) {
		double r = (double)s.got[i] / 10 / MiB;

		a += s.got[i];
		cr_assert(r > 0.19 && r < 0.21, "flow %zu of a: %.3f MiB/s of 0.2", i, r);
	}
	cr_assert((double)a / 10 / MiB > 0.98 && (double)a / 10 / MiB <= 1.0,
	    "address a: %.3f MiB/s", (double)a / 10 / MiB);
	cr_assert((double)s.got[5] / 10 / MiB > 0.98, "address b keeps its own rate");
}

Test(limiter, hierarchy_request_client_global)
{
	struct lim_limits m = limits();
	const char *addr[8] = { "a", "a", "b", "b", "c", "c", "d", "d" };
	struct sim s;
	size_t i;

	m.download_rate = 512 * 1024;	/* each flow alone: 0.5 MiB/s */
	m.client_rate = 768 * 1024;	/* two flows of a client: 0.75 */
	m.global_rate = 2 * MiB;	/* four clients: 2, so 0.25 each flow */
	sim_init(&s, &m, 8, addr);
	run(&s, 16384, 1, 10 * SEC, 0, 0, 0);
	sim_free(&s);
	for (i = 0; i < 8; i++) {
		double r = (double)s.got[i] / 10 / MiB;

		cr_assert(r > 0.237 && r < 0.263, "flow %zu: %.3f MiB/s of 0.25", i, r);
	}
}

Test(limiter, starvation_bound_holds)
{
	struct lim_limits m = limits();
	struct sim s;
	size_t i;

	m.global_rate = 4096;		/* 4 KiB/s for 40 flows: 10 s a turn */
	m.max_wait_ns = 3 * SEC;
	sim_init(&s, &m, 40, NULL);
	run(&s, 4096, 1, 60 * SEC, 0, 0, 0);
	sim_free(&s);
	for (i = 0; i < 40; i++) {
		cr_assert_gt(s.got[i], 0, "flow %zu never served", i);
		cr_assert_leq(s.max_wait[i], 3 * SEC + MS, "flow %zu waited %lu ms",
		    i, s.max_wait[i] / MS);
	}
}

Test(limiter, max_connections_per_address)
{
	struct lim_limits m = limits();
	struct limiter l;
	struct lim_flow f[4], up;
	struct lim_wake w;

	m.max_conns = 2;
	limiter_init(&l, &m, 1);
	cr_assert(limiter_active(&l, false));
	cr_assert_eq(limiter_enter(&l, &f[0], false, "a", 1), 0);
	cr_assert_eq(limiter_enter(&l, &f[1], false, "a", 1), 0);
	cr_assert_eq(limiter_enter(&l, &f[2], false, "a", 1), -1, "third GET refused");
	cr_assert_eq(limiter_enter(&l, &f[3], false, "b", 1), 0, "other address");
	cr_assert_eq(limiter_enter(&l, &up, true, "a", 1), 0, "uploads not counted");
	limiter_leave(&l, &f[0], &w);
	limiter_leave(&l, &f[0], &w);	/* idempotent */
	cr_assert_eq(limiter_enter(&l, &f[2], false, "a", 1), 0, "slot freed");
	limiter_leave(&l, &f[1], &w);
	limiter_leave(&l, &f[2], &w);
	limiter_leave(&l, &f[3], &w);
	limiter_leave(&l, &up, &w);
	cr_assert_eq(l.clients, 0);
}

Test(limiter, upload_rate_per_request)
{
	struct lim_limits m = limits();
	struct limiter l;
	struct lim_flow f;
	struct lim_wake w;
	uint64_t retry, now = 1, total = 0, got;

	m.upload_rate = 256 * 1024;
	m.download_rate = 1;	/* must not touch uploads */
	limiter_init(&l, &m, now);
	cr_assert(limiter_active(&l, true));
	limiter_enter(&l, &f, true, "a", now);
	while (now < 10 * SEC) {
		if ((got = limiter_take(&l, &f, 65536, now, &retry, &w)) > 0)
			total += got;
		else
			now = retry;
	}
	cr_assert(total <= 10 * 256 * 1024 && total > 10 * 256 * 1024 - 65536,
	    "uploaded %lu", total);
	limiter_leave(&l, &f, &w);
}

Test(limiter, fair_in_bytes_when_chunks_differ)
{
	struct lim_limits m = limits();
	struct sim s;
	size_t i;

	/* Transfers that have less data at hand per turn (a smaller
	 * backend buffer) must not get less of a shared rate. */
	m.global_rate = 10 * MiB;
	sim_init(&s, &m, 10, NULL);
	s.want[8] = 8192;
	s.want[9] = 4096;
	run(&s, 16384, 1, 10 * SEC, 0, 0, 0);
	sim_free(&s);
	for (i = 0; i < 10; i++) {
		double r = (double)s.got[i] / 10 / MiB;

		cr_assert(r > 0.98 && r < 1.02, "flow %zu: %.3f MiB/s of 1", i, r);
	}
}

Test(limiter, restart_gives_no_credit_for_the_wait)
{
	struct lim_limits m = limits();
	struct limiter l;
	struct lim_flow f;
	struct lim_wake w;
	uint64_t retry, now = 1;

	m.download_rate = 64 * 1024;
	limiter_init(&l, &m, now);
	limiter_enter(&l, &f, false, "a", now);
	now += 2 * SEC;		/* the backend took 2 s to answer */
	limiter_restart(&l, &f, now);
	cr_assert_eq(limiter_take(&l, &f, 16384, now, &retry, &w), 0,
	    "the body's rate counts from its start");
	cr_assert_eq(retry, now + 16384 * SEC / (64 * 1024), "a chunk later");
	cr_assert_eq(limiter_take(&l, &f, 16384, retry, &retry, &w), 16384);
	limiter_leave(&l, &f, &w);
}

static void
count_demand(const char *addr, uint64_t n, void *arg)
{
	uint64_t *d = arg;

	d[addr[0] == 'a' ? 0 : 1] += n;
}

/* Cluster mode: this process's share of global-speed is what it may
 * send, split fairly among its flows; back to the whole rate at 0. */
Test(limiter, global_share_is_what_this_replica_sends)
{
	struct lim_limits m = limits();
	struct sim s;
	uint64_t total = 0;
	size_t i;

	m.global_rate = 30 * MiB;
	sim_init(&s, &m, 4, NULL);
	limiter_share(&s.l, 20 * MiB, 0);
	run(&s, 16384, 1, 10 * SEC, 0, 0, 0);
	for (i = 0; i < 4; i++) {
		double r = (double)s.got[i] / 10 / MiB;

		total += s.got[i];
		cr_assert(r > 4.75 && r < 5.25, "flow %zu: %.3f MiB/s of 5", i, r);
	}
	cr_assert(total > 199 * MiB && total < 201 * MiB, "%.1f MiB of 200",
	    (double)total / MiB);
	/* A share above the rate is the rate. */
	limiter_share(&s.l, 99 * MiB, 0);
	memset(s.got, 0, sizeof(s.got));
	run(&s, 16384, 10 * SEC + 1, 10 * SEC, 0, 0, 0);
	sim_free(&s);
	for (i = 0, total = 0; i < 4; i++)
		total += s.got[i];
	cr_assert(total > 297 * MiB && total < 303 * MiB, "%.1f MiB of 300",
	    (double)total / MiB);
}

/* An address's own share overrides the default client share; demand
 * counts GETs per address. */
Test(limiter, client_share_per_address_and_demand)
{
	struct lim_limits m = limits();
	const char *addr[3] = { "a", "a", "b" };
	uint64_t d[2] = { 0, 0 };
	struct sim s;
	double ra, rb;

	m.client_rate = 4 * MiB;
	sim_init(&s, &m, 3, addr);
	cr_assert_eq(limiter_demand(&s.l, count_demand, d), 3);
	cr_assert_eq(d[0], 2);
	cr_assert_eq(d[1], 1);
	limiter_share(&s.l, 0, 2 * MiB);
	limiter_share_client(&s.l, "a", MiB);
	limiter_share_client(&s.l, "nobody", MiB);	/* no entry: nothing */
	run(&s, 16384, 1, 10 * SEC, 0, 0, 0);
	sim_free(&s);
	ra = (double)(s.got[0] + s.got[1]) / 10 / MiB;
	rb = (double)s.got[2] / 10 / MiB;
	cr_assert(ra > 0.95 && ra < 1.05, "address a: %.3f MiB/s of 1", ra);
	cr_assert(rb > 1.9 && rb < 2.1, "address b: %.3f MiB/s of 2", rb);
}
