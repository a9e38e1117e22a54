/*
 * limiter: token buckets for the traffic limits.  Pure logic: time is
 * passed in (ns, monotonic), nothing sleeps, nothing is locked inside; the
 * caller serialises every call (server.c holds one mutex around them).
 *
 * Levels: each download has its own bucket (DOWNLOAD_SPEED, after a burst
 * allowance), all downloads of one client address share a bucket, and all
 * downloads share the global bucket.  Shared buckets serve their waiters in
 * start-time fair queueing order (a flow's place in line is the virtual
 * time, in bytes, at which its last grant ended), so sharers get equal
 * byte rates even when they take different chunk sizes, and what idle ones
 * leave goes to the busy ones.  Uploads have their own bucket only.
 * Tokens are bytes scaled by 1e9 (bytes * ns / s), so refills carry every
 * fraction; shared buckets may go into debt when the starvation guard
 * lets a long waiter through, which later waiters pay back.
 */
#ifndef LIMITER_H
#define LIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest grant: a tenth of a second of the tightest rate, or two TLS
 * records (this many bytes) if that is larger.  Below 320 KiB/s a tenth
 * of a second is less than that, and smaller grants cost the proxy more
 * CPU per byte than nginx spends on the same downloads (1,000 transfers
 * at 64 KiB/s: 6.5 KiB grants cost 1.4 to 1.8 times the CPU of 16 KiB
 * ones, and 16 KiB ones about 1.1 times that of 32 KiB ones).  nginx's
 * limit_rate sends a second's worth at a time. */
#define LIMITER_CHUNK_MIN	32768
/* Least automatic bucket depth, so that a transfer resumed late (a
 * machine busy with TLS handshakes) catches up what it was owed instead
 * of losing it. */
#define LIMITER_DEPTH_MIN	65536
#define LIMITER_ADDR_MAX	64
#define LIMITER_TABLE		1024	/* hash buckets for client addresses */

struct lim_limits {
	uint64_t	 download_rate;	/* B/s per GET; 0: unlimited */
	uint64_t	 download_burst;/* bytes per GET before its rate applies */
	uint64_t	 depth;		/* bucket depth in bytes; 0: automatic */
	uint64_t	 client_rate;	/* B/s per client address; 0: unlimited */
	uint64_t	 global_rate;	/* B/s for all downloads; 0: unlimited */
	uint64_t	 upload_rate;	/* B/s per PUT/POST body; 0: unlimited */
	uint64_t	 max_wait_ns;	/* no grant waits longer; 0: no bound */
	uint64_t	 max_conns;	/* GETs per client address; 0: unlimited */
};

struct lim_bucket {
	__int128	 tok;		/* bytes * 1e9; negative: debt */
	uint64_t	 t;		/* ns of the last refill */
};

struct lim_flow;

struct lim_queue {
	struct lim_flow	*head, *tail;
};

struct lim_client {
	char		 addr[LIMITER_ADDR_MAX];
	uint64_t	 conns;		/* GETs in progress */
	uint64_t	 share;		/* B/s of client_rate this process may
					 * use (cluster mode); 0: all of it */
	struct lim_bucket b;
	struct lim_queue q;
	struct lim_client *next;	/* hash chain */
};

/* One transfer's place in the limiter, embedded in the request. */
struct lim_flow {
	bool		 upload;	/* PUT/POST body, else GET */
	bool		 entered;
	struct lim_client *client;	/* GETs only */
	struct lim_bucket own;
	uint64_t	 sent;		/* bytes granted */
	uint64_t	 wait_since;	/* ns; 0: not waiting */
	uint64_t	 ticket;	/* place in line: start tag, bytes of
					 * virtual time (valid if in_line) */
	uint64_t	 seq;		/* tie-break among equal tickets */
	uint64_t	 finish;	/* virtual time its last grant ended */
	bool		 in_line;	/* holds a ticket */
	struct lim_flow	*cprev, *cnext;	/* client queue */
	struct lim_flow	*gprev, *gnext;	/* global queue */
	bool		 in_cq, in_gq;
};

struct limiter {
	struct lim_limits lim;
	struct lim_bucket global;
	struct lim_queue gq;
	struct lim_client *table[LIMITER_TABLE];
	uint64_t	 clients;	/* addresses with GETs in progress */
	uint64_t	 vtime;		/* start tag of the last grant */
	uint64_t	 global_share;	/* B/s of global_rate this process may
					 * use (cluster mode); 0: all of it */
	uint64_t	 client_share;	/* B/s of client_rate for an address
					 * given no share of its own; 0: all */
	uint64_t	 seq;		/* last tie-break given */
};

/* Flows that became the head of a queue and should try again now; filled
 * by limiter_take() and limiter_leave(). */
struct lim_wake {
	struct lim_flow	*flow[2];
	size_t		 n;
};

void	limiter_init(struct limiter *, const struct lim_limits *, uint64_t now);
/* New limits; they apply to flows in progress from the next grant. */
void	limiter_set(struct limiter *, const struct lim_limits *, uint64_t now);
/* Registers a flow.  For a GET, counts it against addr's max_conns:
 * returns -1 (and registers nothing) if addr is at the limit, or if memory
 * for a new address is short.  Returns 0. */
int	limiter_enter(struct limiter *, struct lim_flow *, bool upload,
	    const char *addr, uint64_t now);
/* The flow's body starts now: its own bucket starts empty, so the time
 * spent waiting for the backend earns nothing. */
void	limiter_restart(struct limiter *, struct lim_flow *, uint64_t now);
/* Unregisters a flow (idempotent); wakes whoever it blocked. */
void	limiter_leave(struct limiter *, struct lim_flow *, struct lim_wake *);
/* Asks to send up to `want` bytes.  Returns the bytes granted (> 0), or 0
 * with *retry_at set to when to ask again (ns; the flow may also be woken
 * earlier through a lim_wake when it reaches the head of a queue). */
size_t	limiter_take(struct limiter *, struct lim_flow *, size_t want,
	    uint64_t now, uint64_t *retry_at, struct lim_wake *);
/* Cluster mode: the part of global_rate this process may use, and of
 * client_rate for addresses without a share of their own (B/s; 0: all).
 * Shares apply from the next grant; they never exceed the rates. */
void	limiter_share(struct limiter *, uint64_t global, uint64_t client);
/* The part of client_rate addr's GETs here may use (0: as
 * limiter_share() says); nothing if addr has no GET here. */
void	limiter_share_client(struct limiter *, const char *addr, uint64_t rate);
/* GETs in progress in all; fn(addr, GETs, arg) for each address that has
 * any, in no order. */
uint64_t limiter_demand(const struct limiter *,
	    void (*fn)(const char *, uint64_t, void *), void *arg);
/* Whether any limit applies to flows of this kind. */
bool	limiter_active(const struct limiter *, bool upload);

#endif
