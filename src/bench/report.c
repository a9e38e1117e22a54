/*
 * report: the benchmark's figures on stdout, as text, JSON or CSV.
 * Main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "stats.h"

static const char *const err_names[ERR_KINDS] = {
	[ERR_CONNECT] = "connect",
	[ERR_TLS] = "tls",
	[ERR_TIMEOUT] = "timeout",
	[ERR_TRUNCATED] = "truncated",
	[ERR_HTTP_4XX] = "http_4xx",
	[ERR_HTTP_5XX] = "http_5xx",
	[ERR_SIZE] = "size",
	[ERR_SHA256] = "sha256",
	[ERR_OTHER] = "other",
};

/* The figures derived from a result. */
struct summary {
	double	 secs;
	double	 rate;		/* aggregate B/s */
	double	 rps;		/* transfers per second */
	uint64_t errors;
	size_t	 nrates;	/* connections with a measurable rate */
	double	 cmin, cmed, cmax;	/* per-connection B/s */
	double	 t50, t99;	/* time to first byte, s */
};

const char *
report_err_name(enum bench_err e)
{
	return e < ERR_KINDS ? err_names[e] : "?";
}

/* A connection's rate: its body bytes over the time from its first
 * response's start to its last body byte (so without connection set-up);
 * 0 when unmeasurable. */
static double
conn_rate(const struct bench_conn *c)
{
	if (c->t_first == 0 || c->t_last <= c->t_first)
		return 0;
	return stats_rate(c->bytes, c->t_last - c->t_first);
}

static int
summarize(const struct bench_cfg *cfg, const struct bench_result *res,
    struct summary *s)
{
	double *v, *t;
	unsigned i;
	int k;

	memset(s, 0, sizeof(*s));
	s->secs = (double)res->elapsed_ns / 1e9;
	s->rate = stats_rate(res->bytes, res->elapsed_ns);
	s->rps = s->secs > 0 ? (double)res->done / s->secs : 0;
	for (k = 0; k < ERR_KINDS; k++)
		s->errors += res->errors[k];
	if ((v = malloc((cfg->conns + 1) * sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < cfg->conns; i++)
		if (conn_rate(&res->conn[i]) > 0)
			v[s->nrates++] = conn_rate(&res->conn[i]);
	stats_sort(v, s->nrates);
	s->cmin = stats_quantile(v, s->nrates, 0);
	s->cmed = stats_quantile(v, s->nrates, 0.5);
	s->cmax = stats_quantile(v, s->nrates, 1);
	free(v);
	if ((t = malloc((res->nttfb + 1) * sizeof(*t))) == NULL)
		return -1;
	if (res->nttfb > 0)	/* ttfb is NULL until the first one */
		memcpy(t, res->ttfb, res->nttfb * sizeof(*t));
	stats_sort(t, res->nttfb);
	s->t50 = stats_quantile(t, res->nttfb, 0.5);
	s->t99 = stats_quantile(t, res->nttfb, 0.99);
	free(t);
	return 0;
}

static void
print_text(const struct bench_cfg *cfg, const struct bench_result *res,
    const struct summary *s)
{
	double tg = (double)cfg->target;
	int k;

	printf("connections     %u, %zu URL%s, %.3f s\n", cfg->conns,
	    cfg->nurls, cfg->nurls == 1 ? "" : "s", s->secs);
	printf("transfers       %llu complete, %llu cut at the end, %llu "
	    "failed\n", (unsigned long long)res->done,
	    (unsigned long long)res->cut, (unsigned long long)s->errors);
	printf("throughput      %.2f MB/s (%.2f MiB/s), %llu bytes\n",
	    s->rate / 1e6, s->rate / 1048576.0, (unsigned long long)res->bytes);
	printf("requests/s      %.1f\n", s->rps);
	if (s->nrates > 0)
		printf("per connection  min %.2f  median %.2f  max %.2f MiB/s "
		    "(%zu connections)\n", s->cmin / 1048576.0,
		    s->cmed / 1048576.0, s->cmax / 1048576.0, s->nrates);
	if (s->nrates > 0 && tg > 0)
		printf("ratio of target min %.3f  median %.3f  max %.3f "
		    "(target %.2f KiB/s)\n", s->cmin / tg, s->cmed / tg,
		    s->cmax / tg, tg / 1024.0);
	if (res->nttfb > 0)
		printf("first byte      p50 %.2f ms  p99 %.2f ms\n",
		    s->t50 * 1e3, s->t99 * 1e3);
	printf("errors         ");
	for (k = 0; k < ERR_KINDS; k++)
		printf(" %s %llu", err_names[k],
		    (unsigned long long)res->errors[k]);
	printf("\nstatus         ");
	for (k = 1; k < 6; k++)
		printf(" %dxx %u", k, res->status[k]);
	printf("\n");
	if (res->bins_full)
		printf("note: only the first %zu intervals were recorded\n",
		    res->nbins);
	if (res->ttfb_full)
		printf("note: first-byte times of the first %u transfers only\n",
		    BENCH_TTFB_MAX);
}

static void
print_json(const struct bench_cfg *cfg, const struct bench_result *res,
    const struct summary *s)
{
	double tg = (double)cfg->target;
	unsigned i;
	int k;

	printf("{\"connections\": %u, \"urls\": %zu, \"elapsed_s\": %.6f,\n",
	    cfg->conns, cfg->nurls, s->secs);
	printf(" \"bytes\": %llu, \"throughput_Bps\": %.1f, "
	    "\"requests_per_s\": %.2f,\n", (unsigned long long)res->bytes,
	    s->rate, s->rps);
	printf(" \"complete\": %llu, \"cut\": %llu, \"failed\": %llu,\n",
	    (unsigned long long)res->done, (unsigned long long)res->cut,
	    (unsigned long long)s->errors);
	printf(" \"per_connection_Bps\": {\"min\": %.1f, \"median\": %.1f, "
	    "\"max\": %.1f, \"n\": %zu},\n", s->cmin, s->cmed, s->cmax,
	    s->nrates);
	if (tg > 0)
		printf(" \"target_Bps\": %.0f, \"ratio\": {\"min\": %.4f, "
		    "\"median\": %.4f, \"max\": %.4f},\n", tg, s->cmin / tg,
		    s->cmed / tg, s->cmax / tg);
	printf(" \"ttfb_s\": {\"p50\": %.6f, \"p99\": %.6f, \"n\": %zu},\n",
	    s->t50, s->t99, res->nttfb);
	printf(" \"errors\": {");
	for (k = 0; k < ERR_KINDS; k++)
		printf("%s\"%s\": %llu", k ? ", " : "", err_names[k],
		    (unsigned long long)res->errors[k]);
	printf("},\n \"status\": {");
	for (k = 1; k < 6; k++)
		printf("%s\"%dxx\": %u", k > 1 ? ", " : "", k, res->status[k]);
	printf("},\n \"per_connection\": [");
	for (i = 0; i < cfg->conns; i++) {
		const struct bench_conn *c = &res->conn[i];

		printf("%s\n  {\"id\": %u, \"bytes\": %llu, \"rate_Bps\": %.1f, "
		    "\"complete\": %llu, \"failed\": %llu}", i ? "," : "", i,
		    (unsigned long long)c->bytes, conn_rate(c),
		    (unsigned long long)c->done,
		    (unsigned long long)c->errors);
	}
	printf("\n ]}\n");
}

static void
print_csv(const struct bench_cfg *cfg, const struct bench_result *res)
{
	double tg = (double)cfg->target;
	unsigned i;

	printf("connection,bytes,seconds,rate_Bps,ratio,complete,failed\n");
	for (i = 0; i < cfg->conns; i++) {
		const struct bench_conn *c = &res->conn[i];
		double r = conn_rate(c);

		printf("%u,%llu,%.6f,%.1f,", i, (unsigned long long)c->bytes,
		    c->t_last > c->t_first ? (double)(c->t_last - c->t_first) /
		    1e9 : 0.0, r);
		if (tg > 0)
			printf("%.4f", r / tg);
		printf(",%llu,%llu\n", (unsigned long long)c->done,
		    (unsigned long long)c->errors);
	}
}

int
report_print(const struct bench_cfg *cfg, const struct bench_result *res)
{
	struct summary s;

	if (summarize(cfg, res, &s) == -1) {
		fprintf(stderr, "storage-proxy-bench: out of memory\n");
		return -1;
	}
	if (strcmp(cfg->format, "json") == 0)
		print_json(cfg, res, &s);
	else if (strcmp(cfg->format, "csv") == 0)
		print_csv(cfg, res);
	else
		print_text(cfg, res, &s);
	return fflush(stdout) == 0 ? 0 : -1;
}
