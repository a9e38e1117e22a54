/*
 * shaper: the limiter in the data path.  It owns the one struct limiter
 * (under one mutex, the shaper lock), the timer heap of requests that wait
 * for tokens, and the list of trusted proxies.
 *
 * Threads: workers call shaper_enter / shaper_take / shaper_leave for the
 * requests they run; event loop 0 fires timers (shaper_deadline,
 * shaper_expire, through server.c's hooks); main's thread calls shaper_init, shaper_set, shaper_stop.
 *
 * Lock order: a request's lock, then the shaper lock.  Nothing that takes
 * a request's lock is called under the shaper lock: wake-ups are collected
 * under it (with a reference each) and run after it is released.
 */
#ifndef SHAPER_H
#define SHAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clientaddr.h"
#include "limiter.h"

struct request;

/* A GET whose own rate is at most this (B/s) gets PACE_SLOW buffers
 * (request.h), where a grant's fixed cost matters most; faster ones get
 * buffers that a refill's latency cannot drain. */
#define SHAPER_SLOW_RATE	(512 * 1024)

/* Requests to resume once the caller holds no lock (shaper_wake()).  One
 * shaper_take() adds at most two (the new heads of the client and the
 * global queue); uploads never add any. */
struct shaper_wake {
	struct request	*r[2];
	size_t		 n;
};

/* Start-up: limits, trusted proxies, and how many requests may wait at
 * once (the connection limit: the heap never grows).  Returns 0 or -1. */
int	shaper_init(const struct lim_limits *, const struct clientaddr_trust *,
	    size_t max_waiters);
/* Reload (main's thread): new limits and trust apply from the next grant
 * of every transfer in flight; every waiter is woken to ask again. */
void	shaper_set(const struct lim_limits *, const struct clientaddr_trust *);
/* Whether the numeric address is a trusted proxy now (the list in force,
 * reloads included).  Any thread. */
bool	shaper_trusted(const char *addr);
/* Shutdown: from now on every take is granted, and every waiter is woken. */
void	shaper_stop(void);

/* Worker, at a request's first call: resolves the client address that
 * per-client limits apply to (X-Forwarded-For, xff may be NULL, is believed
 * from trusted proxies only) into r->limit_addr and registers r: a GET
 * (upload false) counts against max-connections, a PUT or POST body
 * (upload true) gets the upload rate.  Returns 0, or -1 if the address is
 * at max-connections (r is not registered).  With no limit configured at
 * all, r is not registered either (shaped false), and no lock is taken. */
int	shaper_enter(struct request *r, bool upload, const char *xff);
/* Worker, when the response starts: the rate counts from now. */
void	shaper_start(struct request *r);
/* Worker, when the request ends (idempotent): frees its slot and wakes the
 * waiters it was holding up. */
void	shaper_leave(struct request *r);
/* Worker, under r's lock: asks to move up to want bytes of r.  Returns the
 * bytes granted; 0 means wait: the caller suspends r with WAIT_TOKENS and
 * is resumed by timer or by a request ahead of it in line.  Requests to
 * resume are added to w; run them with shaper_wake() after unlocking. */
size_t	shaper_take(struct request *r, size_t want, struct shaper_wake *w);
/* Worker: whether shaper_take() may refuse r now (false: r's direction is
 * unlimited, or r is not counted).  A reload may change the answer. */
bool	shaper_limits(const struct request *r);
/* Any thread, no lock held: resumes what shaper_take() collected. */
void	shaper_wake(struct shaper_wake *w);

/* Cluster mode (cluster.c's thread), under the shaper lock: the rates in
 * force (B/s, 0: none); GETs in progress, and fn(addr, GETs, arg) per
 * address (fn must not call into this module); this process's share of
 * global-speed and, for addresses without their own, of client-speed
 * (0: all of it); of global-speed alone; one address's share. */
void	shaper_rates(uint64_t *global, uint64_t *client);
/* max-connections in force (reloads included); 0: none.  Any thread. */
uint64_t shaper_max_conns(void);
uint64_t shaper_demand(void (*fn)(const char *, uint64_t, void *), void *arg);
void	shaper_share(uint64_t global, uint64_t client);
void	shaper_share_global(uint64_t global);
void	shaper_share_client(const char *addr, uint64_t rate);

/* Curl thread: ns (monotonic) of the earliest timer, 0 if none.  Lock
 * free. */
uint64_t shaper_deadline(void);
/* Curl thread: resumes every request whose timer is due at now (ns); a
 * drained PACE_SLOW download gets a refill command instead, queued
 * without a wake-up: the caller runs the command queue next. */
void	shaper_expire(uint64_t now);
/* Logs the limits in force (start-up and reload). */
void	shaper_log(const struct lim_limits *, const char *trusted);

#endif
