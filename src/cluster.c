/*
 * cluster: max-connections shared by replicas through Redis (cluster.h).
 *
 * Redis holds, per client address, a sorted set
 *   storage-proxy:conns:<address>  member <replica>:<request id>
 *                                  score  end of the lease (Redis's ms)
 * Leases are measured on Redis's clock (TIME inside the scripts), so the
 * replicas' clocks do not matter.
 *
 * Everything below runs in the cluster thread except cluster_start(),
 * cluster_stop(), cluster_state() and the two queueing calls, which only
 * touch the queue under its lock.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "cluster.h"
#include "log.h"
#include "redisurl.h"
#include "request.h"
#include "shaper.h"

#define KEY_PREFIX	"storage-proxy:conns:"
#define HELD_TABLE	4096	/* hash chains of held slots */
#define CONNECT_MS	1000	/* a connection not up by then is retried */
#define NS_PER_MS	1000000ULL
#define SHARE_KEY	"storage-proxy:share:"
#define ADDRS_MAX	4096	/* addresses whose client share is asked
				 * for per round; the rest keep theirs */

/* Drops ended leases, and adds one if fewer than ARGV[1] are left.
 * KEYS[1] the address's set; ARGV: max, lease ms, member.  1: added. */
static const char admit_lua[] =
    "redis.replicate_commands() "
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) "
    "if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end "
    "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3]) "
    "redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) "
    "return 1";
/* Extends (or, after Redis lost it, adds back) one lease.  KEYS[1] the
 * set; ARGV: lease ms, member. */
static const char renew_lua[] =
    "redis.replicate_commands() "
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[2]) "
    "if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then "
    "redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1])) end "
    "return 1";

/* Publishes this replica's demand for one budget and returns every live
 * replica's: {total, replicas}.  KEYS[1] the budget's hash (field: replica,
 * value: "demand end-ms"); ARGV: replica, demand, ttl ms. */
static const char share_lua[] =
    "redis.replicate_commands() "
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. "
    "(now + tonumber(ARGV[3]))) "
    "local all = redis.call('HGETALL', KEYS[1]) "
    "local total, n = 0, 0 "
    "for i = 1, #all, 2 do "
    "local d, e = string.match(all[i + 1], '(%d+) (%d+)') "
    "if d == nil or tonumber(e) < now then redis.call('HDEL', KEYS[1], all[i]) "
    "else total = total + tonumber(d) n = n + 1 end end "
    "redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2) "
    "return {total, n}";

enum job_kind {
	J_ADMIT,
	J_RELEASE,
	J_HOLD,		/* admitted on local limits: hold the slot */
};

struct job {
	enum job_kind	 kind;
	struct request	*r;		/* J_ADMIT: a reference, until answered */
	uint64_t	 rid;
	unsigned	 max;
	uint64_t	 deadline;	/* ns: answered CLUSTER_LOCAL then */
	char		 addr[INET6_ADDRSTRLEN];
	struct job	*next;		/* the queue */
	struct job	*wprev, *wnext;	/* waiting for Redis, deadline order */
	bool		 waiting;
};

/* One address's GETs here, in a share round. */
struct demand {
	char		 addr[INET6_ADDRSTRLEN];
	uint64_t	 n;
};

/* A slot this replica holds; renewed until released. */
struct held {
	uint64_t	 rid;
	char		 addr[INET6_ADDRSTRLEN];
	struct held	*next;
};

static struct {
	atomic_bool	 on;		/* read by the loops */
	struct redisurl	 url;
	char		 replica[17];	/* hex, random per process */
	pthread_t	 thread;
	int		 ep, evfd;
	/* Queue, from the loops. */
	pthread_mutex_t	 qlock;
	struct job	*qhead, *qtail;
	bool		 stopping;	/* under qlock */
	/* The connection (cluster thread). */
	redisAsyncContext *ac;
	int		 fd;		/* ac's descriptor in ep, -1: none */
	bool		 want_r, want_w;
	bool		 up;		/* AUTH, SELECT and PING answered */
	uint64_t	 connect_by;	/* ns; 0: not connecting */
	uint64_t	 retry_at;	/* ns of the next attempt */
	uint64_t	 renew_at;	/* ns of the next renewal */
	bool		 told_down;	/* "unreachable" logged since last up */
	bool		 told_err;	/* an error answer logged since last up */
	bool		 setup_failed;	/* AUTH, SELECT or PING refused */
	unsigned	 share_pending;	/* share answers still due */
	uint64_t	 share_sent;	/* ns the oldest of them was asked */
	uint64_t	 applied_g, applied_c; /* rates the shares are of */
	struct job	*whead, *wtail;	/* admissions waiting for Redis */
	struct held	*held[HELD_TABLE];
	size_t		 nheld;
	/* Shared rates. */
	unsigned	 replicas;	/* expected, until Redis has answered */
	uint64_t	 share_at;	/* ns of the next share round */
	uint64_t	 g_rate, c_rate; /* rates of the round in flight */
	uint64_t	 g_share;	/* the global share taken last */
	struct demand	*dem;		/* addresses of the round: ADDRS_MAX */
	size_t		 ndem;
} C = { .ep = -1, .evfd = -1, .fd = -1, .qlock = PTHREAD_MUTEX_INITIALIZER };

static atomic_int state = -1;	/* cluster_state() */

static bool	share_error(const redisReply *);

static void
member(char *buf, size_t len, uint64_t rid)
{
	snprintf(buf, len, "%s:%" PRIu64, C.replica, rid);
}

static void
key(char *buf, size_t len, const char *addr)
{
	snprintf(buf, len, KEY_PREFIX "%s", addr);
}

/* --- held slots ---------------------------------------------------------- */

static struct held **
held_slot(uint64_t rid)
{
	struct held **h = &C.held[rid % HELD_TABLE];

	while (*h != NULL && (*h)->rid != rid)
		h = &(*h)->next;
	return h;
}

static void
held_add(uint64_t rid, const char *addr)
{
	struct held *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return;		/* not renewed: it ends with its lease */
	h->rid = rid;
	snprintf(h->addr, sizeof(h->addr), "%s", addr);
	h->next = C.held[rid % HELD_TABLE];
	C.held[rid % HELD_TABLE] = h;
	C.nheld++;
}

static bool
held_remove(uint64_t rid)
{
	struct held **p = held_slot(rid), *h = *p;

	if (h == NULL)
		return false;
	*p = h->next;
	free(h);
	C.nheld--;
	return true;
}

/* --- answers ------------------------------------------------------------- */

static void
wait_unlink(struct job *j)
{
	if (!j->waiting)
		return;
	if (j->wprev != NULL)
		j->wprev->wnext = j->wnext;
	else
		C.whead = j->wnext;
	if (j->wnext != NULL)
		j->wnext->wprev = j->wprev;
	else
		C.wtail = j->wprev;
	j->waiting = false;
}

/* Tells j's request a, and drops the reference. */
static void
answer(struct job *j, enum cluster_admit a)
{
	struct request *r = j->r;

	if (r == NULL)
		return;
	j->r = NULL;
	/* Admitted on local limits, it counts all the same: renewals
	 * register it when Redis answers again. */
	if (a != CLUSTER_NO)
		held_add(j->rid, j->addr);
	pthread_mutex_lock(&r->lock);
	r->admit = a;
	r->slot = a != CLUSTER_NO;
	pthread_mutex_unlock(&r->lock);
	request_wake(r, WAKE(WAIT_ADMIT));
	request_unref(r);
}

/* --- the connection ------------------------------------------------------ */

static void
watch(void)
{
	struct epoll_event ev;
	int fd = C.ac != NULL ? C.ac->c.fd : -1;

	memset(&ev, 0, sizeof(ev));
	ev.events = (C.want_r ? EPOLLIN : 0) | (C.want_w ? EPOLLOUT : 0);
	ev.data.fd = fd;
	if (C.fd >= 0 && C.fd != fd) {
		(void)epoll_ctl(C.ep, EPOLL_CTL_DEL, C.fd, NULL);
		C.fd = -1;
	}
	if (fd < 0)
		return;
	if (C.fd == fd)
		(void)epoll_ctl(C.ep, EPOLL_CTL_MOD, fd, &ev);
	else if (epoll_ctl(C.ep, EPOLL_CTL_ADD, fd, &ev) == 0)
		C.fd = fd;
}

static void ev_add_read(void *p) { (void)p; C.want_r = true; watch(); }
static void ev_del_read(void *p) { (void)p; C.want_r = false; watch(); }
static void ev_add_write(void *p) { (void)p; C.want_w = true; watch(); }
static void ev_del_write(void *p) { (void)p; C.want_w = false; watch(); }

/* hiredis frees the context: its descriptor leaves ep before it closes. */
static void
ev_cleanup(void *p)
{
	(void)p;
	C.want_r = C.want_w = false;
	if (C.fd >= 0)
		(void)epoll_ctl(C.ep, EPOLL_CTL_DEL, C.fd, NULL);
	C.fd = -1;
}

static void
went_down(const char *why)
{
	bool was = C.up;

	C.up = false;
	C.ac = NULL;		/* hiredis frees it; ev_cleanup() unwatches */
	C.connect_by = 0;
	C.retry_at = request_now() + CLUSTER_RETRY_MS * NS_PER_MS;
	atomic_store(&state, 0);
	if (was || !C.told_down)
		log_warn("cluster: redis at %s:%u %s: max-connections is local "
		    "to this replica until it answers", C.url.host,
		    C.url.port, why);
	C.told_down = true;
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	if (C.ac == NULL && C.told_down && !C.up)
		return;		/* freed by us (stop, timeout): said already */
	went_down(status == REDIS_OK ? "closed the connection" :
	    ac->errstr[0] != '\0' ? ac->errstr : "is gone");
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	/* On failure hiredis frees the context after this. */
	if (status != REDIS_OK)
		went_down(ac->errstr[0] != '\0' ? ac->errstr :
		    "refused the connection");
}

/* The answer to the last command of the handshake (PING); AUTH's and
 * SELECT's errors come through on_setup() first. */
static void
on_ready(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply *rep = reply;

	(void)arg;
	if (rep == NULL || C.ac == NULL || C.setup_failed)
		return;
	if (rep->type == REDIS_REPLY_ERROR) {
		/* NOAUTH: a password is needed and none was given. */
		if (!C.told_down)
			log_error("cluster: redis at %s:%u refused PING: %.200s: "
			    "max-connections is local to this replica",
			    C.url.host, C.url.port, rep->str);
		C.told_down = true;
		C.setup_failed = true;
		redisAsyncDisconnect(ac);
		return;
	}
	C.up = true;
	C.told_err = false;
	C.connect_by = 0;
	C.told_down = false;
	C.renew_at = 0;		/* re-register every held slot now */
	C.share_at = 0;		/* and take a share at once */
	atomic_store(&state, 1);
	log_info("cluster: redis at %s:%u answers; max-connections is shared "
	    "by the replicas (this one: %s)", C.url.host, C.url.port,
	    C.replica);
}

static void
on_setup(redisAsyncContext *ac, void *reply, void *arg)
{
	redisReply *rep = reply;

	if (rep == NULL || rep->type != REDIS_REPLY_ERROR)
		return;
	/* Once, not at every retry. */
	if (!C.told_down)
		log_error("cluster: redis at %s:%u refused %s: %.200s: "
		    "max-connections is local to this replica",
		    C.url.host, C.url.port, (const char *)arg, rep->str);
	C.told_down = true;
	/* The PING after it must not bring the connection up. */
	C.setup_failed = true;
	redisAsyncDisconnect(ac);
}

static void
connect_now(uint64_t now)
{
	redisAsyncContext *ac;

	C.retry_at = now + CLUSTER_RETRY_MS * NS_PER_MS;
	C.setup_failed = false;
	C.share_pending = 0;
	ac = redisAsyncConnect(C.url.host, (int)C.url.port);
	if (ac == NULL || ac->err) {
		if (!C.told_down)
			log_warn("cluster: cannot connect to redis at %s:%u: "
			    "%s: max-connections is local to this replica "
			    "until it answers", C.url.host, C.url.port,
			    ac != NULL ? ac->errstr : "out of memory");
		C.told_down = true;
		if (ac != NULL)
			redisAsyncFree(ac);
		return;
	}
	C.ac = ac;
	ac->ev.data = NULL;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (C.url.password[0] != '\0') {
		if (C.url.user[0] != '\0')
			redisAsyncCommand(ac, on_setup, "AUTH", "AUTH %s %s",
			    C.url.user, C.url.password);
		else
			redisAsyncCommand(ac, on_setup, "AUTH", "AUTH %s",
			    C.url.password);
	}
	if (C.url.db != 0)
		redisAsyncCommand(ac, on_setup, "SELECT", "SELECT %u",
		    C.url.db);
	redisAsyncCommand(ac, on_ready, NULL, "PING");
	C.connect_by = now + CONNECT_MS * NS_PER_MS;
}

/* --- jobs ---------------------------------------------------------------- */

static void
on_admit(redisAsyncContext *ac, void *reply, void *arg)
{
	struct job *j = arg;
	redisReply *rep = reply;
	bool got = rep != NULL && rep->type == REDIS_REPLY_INTEGER &&
	    rep->integer == 1;

	wait_unlink(j);
	/* An error answer (out of memory, read-only, a script Redis cannot
	 * run): logged once, and the connection dropped, so that the next
	 * GETs do not each wait for one; it is tried again in a second. */
	if (share_error(rep) && ac == C.ac)
		redisAsyncDisconnect(ac);
	/* Answered CLUSTER_LOCAL at its deadline, the slot is held all the
	 * same (answer()): whatever Redis says now changes nothing. */
	if (j->r != NULL)
		answer(j, got ? CLUSTER_YES : rep != NULL &&
		    rep->type == REDIS_REPLY_INTEGER ? CLUSTER_NO :
		    CLUSTER_LOCAL);
	free(j);
}

static void
run_job(struct job *j, uint64_t now)
{
	char k[sizeof(KEY_PREFIX) + INET6_ADDRSTRLEN], m[64];

	key(k, sizeof(k), j->addr);
	member(m, sizeof(m), j->rid);
	if (j->kind == J_HOLD) {
		held_add(j->rid, j->addr);
		free(j);
		return;
	}
	if (j->kind == J_RELEASE) {
		if (held_remove(j->rid) && C.up)
			redisAsyncCommand(C.ac, NULL, NULL, "ZREM %s %s", k, m);
		free(j);
		return;
	}
	if (!C.up || redisAsyncCommand(C.ac, on_admit, j,
	    "EVAL %s 1 %s %u %u %s", admit_lua, k, j->max,
	    (unsigned)CLUSTER_LEASE_MS, m) != REDIS_OK) {
		answer(j, CLUSTER_LOCAL);
		free(j);
		return;
	}
	j->deadline = now + CLUSTER_ADMIT_MS * NS_PER_MS;
	j->waiting = true;
	j->wnext = NULL;
	j->wprev = C.wtail;
	if (C.wtail != NULL)
		C.wtail->wnext = j;
	else
		C.whead = j;
	C.wtail = j;
}

static void
renew_all(void)
{
	char k[sizeof(KEY_PREFIX) + INET6_ADDRSTRLEN], m[64];
	struct held *h;
	size_t i;

	for (i = 0; i < HELD_TABLE; i++)
		for (h = C.held[i]; h != NULL; h = h->next) {
			key(k, sizeof(k), h->addr);
			member(m, sizeof(m), h->rid);
			redisAsyncCommand(C.ac, NULL, NULL, "EVAL %s 1 %s %u %s",
			    renew_lua, k, (unsigned)CLUSTER_LEASE_MS, m);
		}
}

/* --- shared rates -------------------------------------------------------- */

/* A budget's share for a demand of mine out of total over n live replicas
 * (both counting this one): in proportion to demand; with no demand of
 * its own, an equal part, so that GETs arriving before the next round
 * neither starve nor take the whole budget. */
static uint64_t
share_for(uint64_t rate, uint64_t mine, uint64_t total, uint64_t n)
{
	uint64_t r;

	if (mine == 0)
		r = rate / (n > 0 ? n : 1);
	else
		r = (uint64_t)((unsigned __int128)rate * mine /
		    (total < mine ? mine : total));
	return r > 0 ? r : 1;	/* 0 would read as no limit */
}

static bool
reply_pair(const redisReply *rep, uint64_t *total, uint64_t *n)
{
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY ||
	    rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER ||
	    rep->element[1]->type != REDIS_REPLY_INTEGER)
		return false;
	*total = (uint64_t)rep->element[0]->integer;
	*n = (uint64_t)rep->element[1]->integer;
	return true;
}

/* An error answer (a Redis too old for the scripts, out of memory, a
 * replica that is read-only): logged once per connection; the limits
 * stay local or as they were. */
static bool
share_error(const redisReply *rep)
{
	if (rep == NULL || rep->type != REDIS_REPLY_ERROR)
		return false;
	if (!C.told_err)
		log_error("cluster: redis at %s:%u answered with an error: "
		    "%.200s: limits are not shared while it does",
		    C.url.host, C.url.port, rep->str);
	C.told_err = true;
	return true;
}

static void
on_global_share(redisAsyncContext *ac, void *reply, void *arg)
{
	uint64_t total, n, share, mine = (uint64_t)(uintptr_t)arg;

	(void)ac;
	if (C.share_pending > 0)
		C.share_pending--;
	share_error(reply);
	if (!reply_pair(reply, &total, &n) || C.g_rate == 0)
		return;		/* the last share stays */
	share = share_for(C.g_rate, mine, total, n);
	/* At most twice the last share per round: the replicas publish a
	 * burst of arrivals a round apart, and the first to see its own
	 * would take the whole budget until the others' came in. */
	if (C.g_share > 0 && share > 2 * C.g_share &&
	    2 * C.g_share >= C.g_rate / (n > 0 ? n : 1))
		share = 2 * C.g_share;
	C.g_share = share;
	shaper_share_global(share);
}

static void
on_client_share(redisAsyncContext *ac, void *reply, void *arg)
{
	struct demand *d = arg;
	uint64_t total, n;

	(void)ac;
	if (C.share_pending > 0)
		C.share_pending--;
	share_error(reply);
	if (reply_pair(reply, &total, &n) && C.c_rate > 0)
		shaper_share_client(d->addr, share_for(C.c_rate, d->n, total,
		    n));
	free(d);
}

static void
note_demand(const char *addr, uint64_t n, void *arg)
{
	(void)arg;
	if (C.ndem >= ADDRS_MAX)
		return;
	snprintf(C.dem[C.ndem].addr, sizeof(C.dem[C.ndem].addr), "%s", addr);
	C.dem[C.ndem++].n = n;
}

/* Every CLUSTER_SHARE_MS: publishes this replica's demand (GETs in
 * progress, in all and per address) and takes its share of each budget
 * from the answers.  Redis unreachable: the last shares stay. */
static void
share_round(void)
{
	char k[sizeof(SHARE_KEY) + 8 + INET6_ADDRSTRLEN];
	size_t i;

	uint64_t now = request_now(), total;

	shaper_rates(&C.g_rate, &C.c_rate);
	/* A reload changed the rates while Redis is away: the shares in
	 * force are of the old ones; rescale them. */
	if (!C.up && (C.g_rate != C.applied_g || C.c_rate != C.applied_c)) {
		if (C.applied_g > 0 && C.g_share > 0)
			C.g_share = (uint64_t)((unsigned __int128)C.g_share *
			    C.g_rate / C.applied_g);
		else
			C.g_share = C.g_rate / C.replicas;
		if (C.g_rate > 0 && C.g_share == 0)
			C.g_share = 1;
		shaper_share(C.g_share, C.c_rate / C.replicas > 0 ?
		    C.c_rate / C.replicas : (C.c_rate > 0 ? 1 : 0));
		C.applied_g = C.g_rate;
		C.applied_c = C.c_rate;
	}
	if ((C.g_rate == 0 && C.c_rate == 0) || !C.up)
		return;
	C.applied_g = C.g_rate;
	C.applied_c = C.c_rate;
	/* The last round not answered yet: no new one on top (a slow Redis
	 * would get ever more); unanswered for a second, it is gone. */
	if (C.share_pending > 0) {
		if (now - C.share_sent >= CLUSTER_SHARE_TTL_MS * NS_PER_MS) {
			redisAsyncContext *ac = C.ac;

			went_down("did not answer for a second");
			redisAsyncFree(ac);
		}
		return;
	}
	C.share_sent = now;
	C.ndem = 0;
	total = shaper_demand(C.c_rate > 0 && C.dem != NULL ? note_demand :
	    NULL, NULL);
	if (C.g_rate > 0 && redisAsyncCommand(C.ac, on_global_share,
	    (void *)(uintptr_t)total, "EVAL %s 1 %s %s %llu %u", share_lua,
	    SHARE_KEY "global", C.replica, (unsigned long long)total,
	    (unsigned)CLUSTER_SHARE_TTL_MS) == REDIS_OK)
		C.share_pending++;
	for (i = 0; C.c_rate > 0 && i < C.ndem; i++) {
		struct demand *d = malloc(sizeof(*d));

		if (d == NULL)
			break;
		*d = C.dem[i];
		snprintf(k, sizeof(k), SHARE_KEY "client:%s", d->addr);
		if (redisAsyncCommand(C.ac, on_client_share, d,
		    "EVAL %s 1 %s %s %llu %u", share_lua, k, C.replica,
		    (unsigned long long)d->n, (unsigned)CLUSTER_SHARE_TTL_MS) !=
		    REDIS_OK) {
			free(d);
			break;
		}
		C.share_pending++;
	}
}

/* --- the thread ---------------------------------------------------------- */

static int
timeout_ms(uint64_t now)
{
	uint64_t at = UINT64_MAX;

	if (C.ac == NULL)
		at = C.retry_at;
	else if (C.connect_by != 0)
		at = C.connect_by;
	else if (C.up && C.nheld > 0)
		at = C.renew_at;
	if (C.whead != NULL && C.whead->deadline < at)
		at = C.whead->deadline;
	if (C.up && C.share_at < at)
		at = C.share_at;
	if (at == UINT64_MAX)
		return -1;
	return at <= now ? 0 : (int)((at - now + NS_PER_MS - 1) / NS_PER_MS);
}

static void
tick(uint64_t now)
{
	struct job *q, *next;
	bool stop, slow;

	pthread_mutex_lock(&C.qlock);
	q = C.qhead;
	C.qhead = C.qtail = NULL;
	stop = C.stopping;
	pthread_mutex_unlock(&C.qlock);
	for (; q != NULL; q = next) {
		next = q->next;
		run_job(q, now);
	}
	/* Redis slow to answer: local limits decide, and a Redis that holds
	 * an answer for CLUSTER_ADMIT_MS is treated as gone (a stopped or
	 * wedged server keeps its connections open): the next GETs are not
	 * kept waiting for it, and it is asked again in a second. */
	slow = false;
	while (C.whead != NULL && (stop || C.whead->deadline <= now)) {
		struct job *j = C.whead;

		wait_unlink(j);
		answer(j, CLUSTER_LOCAL);	/* freed by on_admit() */
		slow = !stop;
	}
	if (slow && C.ac != NULL) {
		redisAsyncContext *ac = C.ac;

		went_down("did not answer a GET's admission in time");
		redisAsyncFree(ac);
	}
	if (C.ac != NULL && C.connect_by != 0 && now >= C.connect_by) {
		redisAsyncContext *ac = C.ac;

		went_down("did not answer within a second");
		redisAsyncFree(ac);
	}
	if (C.ac == NULL && !stop && now >= C.retry_at)
		connect_now(now);
	if (C.up && now >= C.renew_at) {
		renew_all();
		C.renew_at = now + CLUSTER_RENEW_MS * NS_PER_MS;
	}
	if (C.up && now >= C.share_at) {
		share_round();
		C.share_at = now + CLUSTER_SHARE_MS * NS_PER_MS;
	}
}

static void *
run(void *arg)
{
	struct epoll_event ev[8];
	uint64_t junk;
	int i, n;
	bool stop = false;

	(void)arg;
	while (!stop) {
		n = epoll_wait(C.ep, ev, 8, timeout_ms(request_now()));
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == C.evfd) {
				if (read(C.evfd, &junk, sizeof(junk)) < 0)
					junk = 0;
				continue;
			}
			if (C.ac != NULL && (ev[i].events & (EPOLLIN |
			    EPOLLERR | EPOLLHUP)))
				redisAsyncHandleRead(C.ac);
			if (C.ac != NULL && (ev[i].events & EPOLLOUT))
				redisAsyncHandleWrite(C.ac);
		}
		pthread_mutex_lock(&C.qlock);
		stop = C.stopping;
		pthread_mutex_unlock(&C.qlock);
		tick(request_now());
	}
	if (C.ac != NULL) {
		redisAsyncContext *ac = C.ac;

		/* Stopping is no outage: nothing to log. */
		C.ac = NULL;
		C.up = false;
		C.told_down = true;
		redisAsyncFree(ac);	/* answers what waits: on_admit() */
	}
	return NULL;
}

static void
enqueue(struct job *j)
{
	uint64_t one = 1;

	j->next = NULL;
	pthread_mutex_lock(&C.qlock);
	if (C.qtail != NULL)
		C.qtail->next = j;
	else
		C.qhead = j;
	C.qtail = j;
	pthread_mutex_unlock(&C.qlock);
	if (write(C.evfd, &one, sizeof(one)) < 0)
		one = 0;	/* the counter is full: a wake-up is due */
}

int
cluster_start(const char *url, unsigned replicas, char *err, size_t errlen)
{
	uint64_t g, c;
	struct epoll_event ev;
	unsigned char rnd[8];
	char msg[256];
	size_t i;

	if (url == NULL || url[0] == '\0')
		return 0;
	if (redisurl_parse(url, &C.url, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "cluster-redis: %s", msg);
		return -1;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(err, errlen, "cluster-redis: no random replica id");
		return -1;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(C.replica + 2 * i, 3, "%02x", rnd[i]);
	if ((C.ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (C.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cluster-redis: %s", strerror(errno));
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = C.evfd;
	(void)epoll_ctl(C.ep, EPOLL_CTL_ADD, C.evfd, &ev);
	if ((C.dem = calloc(ADDRS_MAX, sizeof(*C.dem))) == NULL) {
		snprintf(err, errlen, "cluster-redis: out of memory");
		return -1;
	}
	/* Until Redis has answered once: an equal part of each budget. */
	C.replicas = replicas > 0 ? replicas : 1;
	shaper_rates(&g, &c);
	C.g_share = g / C.replicas;
	shaper_share(C.g_share, c / C.replicas);
	atomic_store(&state, 0);
	atomic_store(&C.on, true);
	if (pthread_create(&C.thread, NULL, run, NULL) != 0) {
		atomic_store(&C.on, false);
		atomic_store(&state, -1);
		snprintf(err, errlen, "cluster-redis: cannot start its thread");
		return -1;
	}
	return 0;
}

void
cluster_stop(void)
{
	uint64_t one = 1;
	size_t i;

	if (!cluster_on())
		return;
	pthread_mutex_lock(&C.qlock);
	C.stopping = true;
	pthread_mutex_unlock(&C.qlock);
	if (write(C.evfd, &one, sizeof(one)) < 0)
		one = 0;
	pthread_join(C.thread, NULL);
	for (i = 0; i < HELD_TABLE; i++)
		while (C.held[i] != NULL)
			(void)held_remove(C.held[i]->rid);
	close(C.ep);
	close(C.evfd);
	free(C.dem);
	C.dem = NULL;
	atomic_store(&C.on, false);
	atomic_store(&state, -1);
}

int
cluster_probe(const char *url, char *msg, size_t len)
{
	struct timeval tv = { 1, 0 };
	struct redisurl u;
	redisContext *c;
	redisReply *rep = NULL;
	char e[256];
	int ok = 0;

	if (redisurl_parse(url, &u, e, sizeof(e)) == -1) {
		snprintf(msg, len, "cluster-redis: %s", e);
		return 0;
	}
	c = redisConnectWithTimeout(u.host, (int)u.port, tv);
	if (c == NULL || c->err) {
		snprintf(msg, len, "cluster: redis at %s:%u unreachable (%s): "
		    "the proxy would start on local limits", u.host, u.port,
		    c != NULL ? c->errstr : "out of memory");
		goto out;
	}
	(void)redisSetTimeout(c, tv);
	if (u.password[0] != '\0') {
		rep = u.user[0] != '\0' ?
		    redisCommand(c, "AUTH %s %s", u.user, u.password) :
		    redisCommand(c, "AUTH %s", u.password);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			snprintf(msg, len, "cluster: redis at %s:%u refused "
			    "AUTH (%s): the proxy would start on local limits",
			    u.host, u.port, rep != NULL ? rep->str : c->errstr);
			goto out;
		}
		freeReplyObject(rep);
	}
	rep = redisCommand(c, "SELECT %u", u.db);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		snprintf(msg, len, "cluster: redis at %s:%u refused SELECT %u "
		    "(%s): the proxy would start on local limits", u.host,
		    u.port, u.db, rep != NULL ? rep->str : c->errstr);
		goto out;
	}
	snprintf(msg, len, "cluster: redis at %s:%u answers", u.host, u.port);
	ok = 1;
out:
	if (rep != NULL)
		freeReplyObject(rep);
	if (c != NULL)
		redisFree(c);
	return ok;
}

bool
cluster_on(void)
{
	return atomic_load_explicit(&C.on, memory_order_relaxed);
}

int
cluster_state(void)
{
	return atomic_load(&state);
}

void
cluster_admit(struct request *r, unsigned max)
{
	struct job *j;

	pthread_mutex_lock(&r->lock);
	r->admit = CLUSTER_PENDING;
	pthread_mutex_unlock(&r->lock);
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		pthread_mutex_lock(&r->lock);
		r->admit = CLUSTER_LOCAL;
		pthread_mutex_unlock(&r->lock);
		return;
	}
	/* Redis away (or being reached): local limits, at once, without
	 * waiting on this thread, which may be inside a name lookup.  The
	 * slot is held all the same (J_HOLD), as answer() holds one. */
	if (cluster_state() != 1) {
		pthread_mutex_lock(&r->lock);
		r->admit = CLUSTER_LOCAL;
		r->slot = true;
		pthread_mutex_unlock(&r->lock);
		j->kind = J_HOLD;
		j->rid = r->id;
		snprintf(j->addr, sizeof(j->addr), "%s", r->limit_addr);
		enqueue(j);
		return;
	}
	j->kind = J_ADMIT;
	request_ref(r);
	j->r = r;
	j->rid = r->id;
	j->max = max;
	snprintf(j->addr, sizeof(j->addr), "%s", r->limit_addr);
	enqueue(j);
}

void
cluster_release(struct request *r)
{
	struct job *j;
	bool slot;

	if (!cluster_on())
		return;		/* no lock per request without the cluster */
	pthread_mutex_lock(&r->lock);
	slot = r->slot;
	r->slot = false;
	pthread_mutex_unlock(&r->lock);
	if (!slot || (j = calloc(1, sizeof(*j))) == NULL)
		return;		/* (no memory: the lease ends it) */
	j->kind = J_RELEASE;
	j->rid = r->id;
	snprintf(j->addr, sizeof(j->addr), "%s", r->limit_addr);
	enqueue(j);
}
