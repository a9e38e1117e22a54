/*
 * metrics: the proxy's counters, gauges and histograms, and their
 * exposition in the Prometheus text format (version 0.0.4).
 *
 * Cost on the hot path: one relaxed atomic add on a cache line of the
 * calling thread's own (counters are sharded per thread and summed when
 * scraped), no lock, no allocation.  Any thread.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

/* Request methods counted apart; every other method is "other". */
enum metrics_method {
	MM_GET, MM_HEAD, MM_PUT, MM_POST, MM_DELETE, MM_OTHER, MM_N
};

/* Why a backend transfer failed (the client's own hang-up is none). */
enum metrics_backend_error {
	MB_CONNECT,	/* resolve, connect or TLS to the backend */
	MB_TIMEOUT,	/* connect-timeout or stall-timeout */
	MB_RESET,	/* connection reset or closed before the answer */
	MB_TRUNCATED,	/* the body ended before its length */
	MB_INVALID,	/* an answer the proxy refused (502) */
	MB_OTHER,
	MB_N
};

/* The histograms' upper bounds, in seconds (the last bucket is +Inf). */
#define METRICS_BUCKETS	14

enum metrics_histogram {
	MH_BACKEND_HEADERS,	/* request start to the backend's headers */
	MH_DURATION,		/* request start to its end */
	MH_N
};

/* Plain counters and up-down gauges kept by the hot path. */
enum metrics_counter {
	MC_BYTES_IN,		/* request body bytes from clients */
	MC_BYTES_OUT,		/* response body bytes to clients */
	MC_SLOWDOWN,		/* 503 SlowDown (max-connections) */
	MC_TOKEN_WAIT_NS,	/* ns waited for tokens, all transfers */
	MC_TLS_HANDSHAKES,	/* handshakes completed */
	MC_TLS_FAILURES,	/* connections closed during their handshake */
	MC_CONN_ACCEPTED,	/* connections admitted */
	MC_CONN_REFUSED,	/* closed at accept: over a connection cap */
	MC_DEADLINE_HANDSHAKE,	/* closed at the handshake deadline */
	MC_DEADLINE_HEADERS,	/* closed at the header deadline */
	MC_DEADLINE_IDLE,	/* closed idle (plain HTTP) */
	MC_DOWNLOADS_PLAIN,	/* gauge: GETs in flight by pace (request.h) */
	MC_DOWNLOADS_SHAPED,
	MC_DOWNLOADS_SLOW,
	MC_N
};

/* Values read when scraped, from the modules that own them. */
struct metrics_gauges {
	unsigned	 requests;		/* requests in flight */
	unsigned	 connections;		/* client connections open */
	int		 suspended;		/* connections suspended */
	double		 start_time;		/* s since the epoch */
	double		 cpu_seconds;		/* process, user + system */
	uint64_t	 rss_bytes;
	unsigned	 open_fds;
	int		 ready;			/* 1 ready, 0 not */
	int64_t		 cert_not_after;	/* s since the epoch; 0: none */
	int		 cluster;		/* 1 Redis answers, 0 not,
						 * -1 cluster mode off */
	const char	*version;
};

/* Sets up the shards.  Main thread, before any other thread starts.
 * Returns 0, or -1 (out of memory). */
int	metrics_init(void);
void	metrics_free(void);

/* Adds n (may wrap: an up-down gauge adds (uint64_t)-1 to go down). */
void	metrics_add(enum metrics_counter c, uint64_t n);
/* One request ended: method, status sent (499: the client left). */
void	metrics_request(enum metrics_method m, unsigned status);
void	metrics_backend_error(enum metrics_backend_error e);
/* One observation of h, in nanoseconds. */
void	metrics_observe(enum metrics_histogram h, uint64_t ns);
/* The method's index: GET, HEAD... or MM_OTHER. */
enum metrics_method metrics_method(const char *method);

/* Writes the exposition of every metric and of g into buf (cap bytes).
 * Returns its length, or -1 if it does not fit. */
int	metrics_format(char *buf, size_t cap, const struct metrics_gauges *g);
/* The exposition needs at most this many bytes. */
#define METRICS_TEXT_MAX	(32 * 1024)

#endif
