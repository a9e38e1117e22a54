/*
 * metrics: sharded counters and the Prometheus text exposition.
 */

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* Threads share a shard only past this many (workers, curl thread,
 * listener, reaper...); sharing costs contention, not correctness. */
#define SHARDS		32
#define CLASSES		5	/* status classes 1xx..5xx */
#define HSLOTS		(METRICS_BUCKETS + 3)	/* buckets, +Inf, sum, count */

/* Offsets of each family in a shard. */
#define O_COUNTER	0
#define O_REQUEST	(O_COUNTER + MC_N)
#define O_BACKEND	(O_REQUEST + MM_N * CLASSES)
#define O_HIST		(O_BACKEND + MB_N)
#define NSLOTS		(O_HIST + MH_N * HSLOTS)

struct shard {
	_Atomic uint64_t v[NSLOTS];
} __attribute__((aligned(64)));

static struct shard *shards;
static atomic_uint next_shard;
static _Thread_local unsigned my_shard;	/* index + 1; 0: not yet */

/* Upper bounds in seconds: a backend answers in milliseconds, a throttled
 * download of an artifact lasts minutes. */
static const double bounds[METRICS_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300
};

static const char *const method_names[MM_N] = {
	"GET", "HEAD", "PUT", "POST", "DELETE", "other"
};

static const char *const error_names[MB_N] = {
	"connect", "timeout", "reset", "truncated", "invalid", "other"
};

int
metrics_init(void)
{
	if (shards != NULL)
		return 0;
	shards = aligned_alloc(64, SHARDS * sizeof(*shards));
	if (shards == NULL)
		return -1;
	memset(shards, 0, SHARDS * sizeof(*shards));
	return 0;
}

void
metrics_free(void)
{
	free(shards);
	shards = NULL;
}

static void
add(unsigned slot, uint64_t n)
{
	if (shards == NULL)
		return;
	if (my_shard == 0)
		my_shard = atomic_fetch_add(&next_shard, 1) % SHARDS + 1;
	atomic_fetch_add_explicit(&shards[my_shard - 1].v[slot], n,
	    memory_order_relaxed);
}

static uint64_t
sum(unsigned slot)
{
	uint64_t s = 0;
	unsigned i;

	for (i = 0; i < SHARDS; i++)
		s += atomic_load_explicit(&shards[i].v[slot],
		    memory_order_relaxed);
	return s;
}

void
metrics_add(enum metrics_counter c, uint64_t n)
{
	add(O_COUNTER + c, n);
}

void
metrics_request(enum metrics_method m, unsigned status)
{
	unsigned class = status / 100;

	if (class < 1 || class > CLASSES)
		class = CLASSES;	/* no status: counted as a failure */
	add(O_REQUEST + m * CLASSES + class - 1, 1);
}

void
metrics_backend_error(enum metrics_backend_error e)
{
	add(O_BACKEND + e, 1);
}

void
metrics_observe(enum metrics_histogram h, uint64_t ns)
{
	unsigned base = O_HIST + h * HSLOTS, i;
	double s = (double)ns / 1e9;

	for (i = 0; i < METRICS_BUCKETS && s > bounds[i]; i++)
		;
	add(base + i, 1);		/* i == METRICS_BUCKETS: +Inf only */
	add(base + METRICS_BUCKETS + 1, ns);
	add(base + METRICS_BUCKETS + 2, 1);
}

enum metrics_method
metrics_method(const char *method)
{
	unsigned i;

	for (i = 0; i < MM_OTHER; i++)
		if (strcmp(method, method_names[i]) == 0)
			return i;
	return MM_OTHER;
}

/* --- exposition ----------------------------------------------------------- */

struct out {
	char	*buf;
	size_t	 cap, len;
	int	 full;
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = 1;
	else
		o->len += (size_t)n;
}

static void
head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
counter(struct out *o, const char *name, const char *help, uint64_t v)
{
	head(o, name, "counter", help);
	put(o, "%s %llu\n", name, (unsigned long long)v);
}

static void
gauge(struct out *o, const char *name, const char *help, double v)
{
	head(o, name, "gauge", help);
	put(o, "%s %.17g\n", name, v);
}

/* A counter of seconds (fractional). */
static void
seconds(struct out *o, const char *name, const char *help, double v)
{
	head(o, name, "counter", help);
	put(o, "%s %.9f\n", name, v);
}

static void
histogram(struct out *o, enum metrics_histogram h, const char *name,
    const char *help)
{
	unsigned base = O_HIST + h * HSLOTS, i;
	uint64_t cum = 0;

	head(o, name, "histogram", help);
	for (i = 0; i < METRICS_BUCKETS; i++) {
		cum += sum(base + i);
		put(o, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i],
		    (unsigned long long)cum);
	}
	/* +Inf from the count, so that the two never disagree while
	 * another thread adds between the reads. */
	cum = sum(base + METRICS_BUCKETS + 2);
	put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	put(o, "%s_sum %.9f\n", name,
	    (double)sum(base + METRICS_BUCKETS + 1) / 1e9);
	put(o, "%s_count %llu\n", name, (unsigned long long)cum);
}

static void
requests(struct out *o)
{
	unsigned m, c;

	head(o, "storage_proxy_requests_total", "counter", "Requests ended, "
	    "by method and class of the status sent (499, a client that "
	    "left, is 4xx).");
	for (m = 0; m < MM_N; m++)
		for (c = 0; c < CLASSES; c++)
			put(o, "storage_proxy_requests_total{method=\"%s\","
			    "code=\"%uxx\"} %llu\n", method_names[m], c + 1,
			    (unsigned long long)sum(O_REQUEST + m * CLASSES + c));
}

static void
labelled(struct out *o, const char *name, const char *type,
    const char *help, const char *label, const char *const *values,
    const unsigned *slots, unsigned n)
{
	unsigned i;

	head(o, name, type, help);
	for (i = 0; i < n; i++)
		put(o, "%s{%s=\"%s\"} %lld\n", name, label, values[i],
		    (long long)sum(slots[i]));
}

int
metrics_format(char *buf, size_t cap, const struct metrics_gauges *g)
{
	static const char *const phases[] = { "handshake", "headers", "idle" };
	static const char *const paces[] = { "plain", "shaped", "slow" };
	static const unsigned phase_slots[] = { MC_DEADLINE_HANDSHAKE,
	    MC_DEADLINE_HEADERS, MC_DEADLINE_IDLE };
	static const unsigned pace_slots[] = { MC_DOWNLOADS_PLAIN,
	    MC_DOWNLOADS_SHAPED, MC_DOWNLOADS_SLOW };
	unsigned backend_slots[MB_N], i;
	struct out o = { buf, cap, 0, 0 };

	if (shards == NULL || cap == 0)
		return -1;
	for (i = 0; i < MB_N; i++)
		backend_slots[i] = O_BACKEND + i;
	head(&o, "storage_proxy_build_info", "gauge", "Always 1; the version "
	    "is a label.");
	put(&o, "storage_proxy_build_info{version=\"%s\"} 1\n", g->version);
	gauge(&o, "storage_proxy_ready", "1 while /readyz answers 200.",
	    g->ready);
	requests(&o);
	gauge(&o, "storage_proxy_requests_active", "Requests in flight.",
	    g->requests);
	gauge(&o, "storage_proxy_client_connections", "Client connections "
	    "open.", g->connections);
	gauge(&o, "storage_proxy_suspended_connections", "Client connections "
	    "suspended (waiting for the backend, tokens or the client).",
	    g->suspended);
	counter(&o, "storage_proxy_client_connections_total", "Client "
	    "connections admitted.", sum(MC_CONN_ACCEPTED));
	counter(&o, "storage_proxy_client_connections_refused_total", "Client "
	    "connections closed at accept: over max-clients or "
	    "max-clients-per-address.", sum(MC_CONN_REFUSED));
	labelled(&o, "storage_proxy_client_deadline_closes_total", "counter",
	    "Client connections closed at a deadline, by phase.", "phase",
	    phases, phase_slots, 3);
	counter(&o, "storage_proxy_received_bytes_total", "Request body bytes "
	    "received from clients.", sum(MC_BYTES_IN));
	counter(&o, "storage_proxy_sent_bytes_total", "Response body bytes "
	    "sent to clients.", sum(MC_BYTES_OUT));
	counter(&o, "storage_proxy_slowdown_refusals_total", "GETs refused "
	    "with 503 SlowDown (max-connections).", sum(MC_SLOWDOWN));
	seconds(&o, "storage_proxy_token_wait_seconds_total", "Time transfers "
	    "waited for tokens (the limits), summed.",
	    (double)sum(MC_TOKEN_WAIT_NS) / 1e9);
	labelled(&o, "storage_proxy_downloads_active", "gauge", "GETs in "
	    "flight by pace: plain (no download limit), shaped, slow (own "
	    "rate 64 KiB/s or less).", "pace", paces, pace_slots, 3);
	histogram(&o, MH_BACKEND_HEADERS, "storage_proxy_backend_headers_seconds",
	    "Time from a request's start to the backend's response headers.");
	histogram(&o, MH_DURATION, "storage_proxy_request_duration_seconds",
	    "Time from a request's start to its end.");
	labelled(&o, "storage_proxy_backend_errors_total", "counter", "Backend "
	    "transfers failed, by kind.", "kind", error_names, backend_slots,
	    MB_N);
	if (g->cluster >= 0)
		gauge(&o, "storage_proxy_cluster_redis_up", "1 while the "
		    "cluster's Redis answers (limits shared), 0 while this "
		    "replica is on its own limits.", g->cluster);
	if (g->cert_not_after > 0)
		gauge(&o, "storage_proxy_tls_certificate_expiry_seconds",
		    "When the certificate in force expires (SIGHUP reloads "
		    "it), in seconds since the epoch.",
		    (double)g->cert_not_after);
	counter(&o, "storage_proxy_tls_handshakes_total", "TLS handshakes "
	    "completed.", sum(MC_TLS_HANDSHAKES));
	counter(&o, "storage_proxy_tls_handshake_failures_total", "Client "
	    "connections closed before their TLS handshake completed.",
	    sum(MC_TLS_FAILURES));
	gauge(&o, "process_start_time_seconds", "Start time of the process "
	    "since the epoch, in seconds.", g->start_time);
	seconds(&o, "process_cpu_seconds_total", "User and system CPU time, "
	    "in seconds.", g->cpu_seconds);
	gauge(&o, "process_resident_memory_bytes", "Resident memory size in "
	    "bytes.", (double)g->rss_bytes);
	gauge(&o, "process_open_fds", "Open file descriptors.", g->open_fds);
	return o.full ? -1 : (int)o.len;
}
