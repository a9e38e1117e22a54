/*
 * cluster: replicas behind a load balancer share max-connections,
 * global-speed and client-speed through Redis (--cluster-redis).
 *
 * Rates: every CLUSTER_SHARE_MS each replica publishes its demand (GETs in
 * progress, in all and per client address) and takes its share of each
 * budget in proportion to it: a replica with 20 downloads gets twice the
 * share of one with 10, and one with none leaves its part to the others
 * (work-conserving).  A replica's demand counts for CLUSTER_SHARE_TTL_MS
 * after its last round.  While Redis is unreachable each replica keeps
 * its last shares (1/replicas of each rate if it never had one).
 * download-speed stays local: it is per GET.
 *
 * Connections:  Each GET counted against max-connections holds
 * a slot in Redis: a member of the sorted set of its client address, whose
 * score is the time its lease ends.  The replica renews the leases of the
 * slots it holds every CLUSTER_RENEW_MS; a replica that dies stops renewing
 * and its slots end within CLUSTER_LEASE_MS.  Admission is one script run
 * in Redis (drop ended leases, count, add): atomic, so two replicas never
 * both take the last slot.
 *
 * Redis is off the hot path: one thread of its own runs the connection
 * (hiredis, asynchronous, in its own epoll loop); a GET that asks waits
 * suspended (WAIT_ADMIT) for the answer, at most CLUSTER_ADMIT_MS.  When
 * Redis does not answer in time, or is unreachable, the answer is
 * CLUSTER_LOCAL: the replica's own max-connections (already checked)
 * decides, and the slot is re-registered when Redis is back (renewals add
 * what is missing).  State changes are logged once each.
 *
 * Threads: cluster_start() and cluster_stop() from main; cluster_admit()
 * and cluster_release() from a request's loop; the answer comes from the
 * cluster thread (request_wake()).
 */
#ifndef CLUSTER_H
#define CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

struct request;

#define CLUSTER_LEASE_MS	3000	/* a slot nobody renews ends after */
#define CLUSTER_RENEW_MS	1000	/* leases are renewed every */
#define CLUSTER_ADMIT_MS	500	/* longest wait for Redis's answer */
#define CLUSTER_RETRY_MS	1000	/* reconnection attempts every */
#define CLUSTER_SHARE_MS	100	/* shares of the rates taken every */
#define CLUSTER_SHARE_TTL_MS	1000	/* a replica's demand counts for */

/* What a GET was told (r->admit). */
enum cluster_admit {
	CLUSTER_PENDING,	/* asked, no answer yet */
	CLUSTER_YES,		/* a cluster slot is held (r->slot) */
	CLUSTER_NO,		/* the address is at max-connections */
	CLUSTER_LOCAL,		/* Redis did not answer: local limits
				 * decided; the slot is held all the same
				 * and registered when Redis is back */
};

/* Starts cluster mode towards url (redis://...; "" leaves it off); until
 * Redis has answered, this replica takes 1/replicas of global-speed and
 * client-speed.  An unreachable server is no error: the proxy starts on
 * local limits and keeps trying.  Returns 0, or -1 with a message in err
 * (a bad URL, no thread).  Main thread, after shaper_init(). */
int	cluster_start(const char *url, unsigned replicas, char *err,
	    size_t errlen);
/* For -t: connects to url's server at once (1 s at most) and says in msg
 * whether it answers.  Returns 1 if it does, else 0.  Blocking: main,
 * never with the loops running. */
int	cluster_probe(const char *url, char *msg, size_t len);
/* Stops the thread; slots still held end with their leases.  Main. */
void	cluster_stop(void);
/* Whether cluster mode is on. */
bool	cluster_on(void);
/* 1 connected to Redis, 0 not, -1 cluster mode off.  Any thread. */
int	cluster_state(void);

/* Asks for one of max slots of r->limit_addr.  Sets r->admit to
 * CLUSTER_PENDING (under r's lock) before it returns; the answer is set
 * under r's lock and followed by request_wake(r, WAKE(WAIT_ADMIT)).
 * Holds a reference to r until then.  r's loop. */
void	cluster_admit(struct request *r, unsigned max);
/* Gives r's slot back (if r->slot).  r's loop, at the request's end. */
void	cluster_release(struct request *r);

#endif
