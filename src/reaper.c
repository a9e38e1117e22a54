/*
 * reaper: shuts down connections past their phase deadline (see reaper.h).
 */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "conntab.h"
#include "log.h"
#include "metrics.h"
#include "reaper.h"

#define REAPER_BATCH_NS	(250 * 1000000ULL)

static pthread_t	 thread;
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv;
static bool		 kicked;	/* [mu] */
static bool		 stop;		/* [mu] */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct tally {
	unsigned	 n[CT_NPHASES];
};

/* Under conntab's mutex: the descriptor is still the connection's. */
static void
end(int fd, enum conntab_phase phase, void *arg)
{
	struct tally *t = arg;

	(void)shutdown(fd, SHUT_RDWR);
	t->n[phase]++;
	if (phase == CT_HANDSHAKE) {
		metrics_add(MC_DEADLINE_HANDSHAKE, 1);
		metrics_add(MC_TLS_FAILURES, 1);
	} else if (phase == CT_HEADERS)
		metrics_add(MC_DEADLINE_HEADERS, 1);
	else if (phase == CT_IDLE)
		metrics_add(MC_DEADLINE_IDLE, 1);
}

static void *
run(void *arg)
{
	struct tally t;
	struct timespec ts;
	uint64_t next;

	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stop) {
		kicked = false;
		pthread_mutex_unlock(&mu);
		t = (struct tally){ { 0 } };
		if (conntab_expire(now_ns(), end, &t, &next) > 0)
			/* One line per pass, not per connection: a
			 * slowloris run is thousands of them. */
			log_info("closed %u connections at the handshake "
			    "deadline, %u at the header deadline, %u idle",
			    t.n[CT_HANDSHAKE], t.n[CT_HEADERS], t.n[CT_IDLE]);
		pthread_mutex_lock(&mu);
		if (stop || kicked)
			continue;
		if (next == UINT64_MAX) {
			pthread_cond_wait(&cv, &mu);
			continue;
		}
		/* Deadlines closer than REAPER_BATCH_NS apart end in one
		 * pass: connections that came in a flood go in a few. */
		next += REAPER_BATCH_NS;
		ts.tv_sec = (time_t)(next / 1000000000ULL);
		ts.tv_nsec = (long)(next % 1000000000ULL);
		(void)pthread_cond_timedwait(&cv, &mu, &ts);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int
reaper_start(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&thread, NULL, run, NULL) != 0)
		return -1;
	return 0;
}

void
reaper_kick(void)
{
	pthread_mutex_lock(&mu);
	kicked = true;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

void
reaper_stop(void)
{
	pthread_mutex_lock(&mu);
	stop = true;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	pthread_cond_destroy(&cv);
}
