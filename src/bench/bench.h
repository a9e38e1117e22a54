/*
 * storage-proxy-bench: what the modules of the benchmark program share.
 * The program is single-threaded: everything here belongs to the main
 * thread.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_URLS_MAX		100000	/* lines of a URL list */
#define BENCH_CONNS_MAX		10000	/* concurrent connections */
#define BENCH_RESOLVE_MAX	16	/* --resolve entries */
#define BENCH_BINS_MAX		100000	/* intervals recorded per run */
#define BENCH_CELLS_MAX		(32u << 20) /* intervals x connections (8 B each) */
#define BENCH_TTFB_MAX		(16u << 20) /* transfers whose TTFB is kept */

/* One object to fetch and what it must be. */
struct bench_url {
	char		*url;
	bool		 has_sha;
	unsigned char	 sha256[32];
	int64_t		 size;		/* body bytes; -1: not checked */
};

/* Errors by kind: a transfer counts once, in the first that applies. */
enum bench_err {
	ERR_CONNECT,		/* resolve or connect failed */
	ERR_TLS,		/* handshake or certificate */
	ERR_TIMEOUT,
	ERR_TRUNCATED,		/* body cut short, reset, empty reply */
	ERR_HTTP_4XX,
	ERR_HTTP_5XX,
	ERR_SIZE,		/* body size differs from the expected */
	ERR_SHA256,		/* body digest differs from the expected */
	ERR_OTHER,
	ERR_KINDS
};

struct bench_cfg {
	struct bench_url *urls;		/* owned */
	size_t		 nurls;
	unsigned	 conns;		/* concurrent connections */
	uint64_t	 duration_ms;	/* 0: run until `count` transfers */
	uint64_t	 count;		/* transfers in all; 0: duration */
	uint64_t	 target;	/* B/s per connection; 0: none */
	uint64_t	 interval_ms;	/* width of a time bin */
	uint64_t	 timeout_ms;	/* per transfer; 0: none */
	uint64_t	 ramp_ms;	/* connection starts spread over this */
	const char	*cafile;
	bool		 insecure;
	const char	*resolve[BENCH_RESOLVE_MAX];
	size_t		 nresolve;
	const char	*interface;
	const char	*format;	/* "text", "json", "csv" */
	const char	*plot;		/* PNG path, or NULL */
	bool		 progress;	/* live line on stderr */
};

/* Per connection (slot): it runs one transfer at a time. */
struct bench_conn {
	uint64_t	 bytes;		/* body bytes received */
	uint64_t	 t_first;	/* ns since start of its first response
					   (header); 0: none yet */
	uint64_t	 t_last;	/* ns since start of the last one */
	uint64_t	 done;		/* transfers completed without error */
	uint64_t	 errors;
};

struct bench_result {
	uint64_t	 elapsed_ns;	/* first request to last byte */
	uint64_t	 bytes;		/* body bytes, all connections */
	uint64_t	 done;		/* transfers without error */
	uint64_t	 cut;		/* stopped by the end of the duration */
	uint64_t	 errors[ERR_KINDS];
	unsigned	 status[6];	/* responses by class: 1xx..5xx */
	struct bench_conn *conn;	/* [cfg.conns] */
	double		*ttfb;		/* s, per completed transfer */
	size_t		 nttfb, cttfb;	/* used, allocated */
	uint64_t	*bins;		/* [nbins][cfg.conns] body bytes */
	size_t		 nbins;
	bool		 bins_full;	/* BENCH_BINS_MAX reached */
	bool		 ttfb_full;	/* BENCH_TTFB_MAX reached */
};

/* run.c: runs the benchmark; fills `res`.  Returns 0, or -1 on a set-up
 * failure (message printed). */
int run_bench(const struct bench_cfg *cfg, struct bench_result *res);
void run_free(struct bench_result *res);

/* report.c: the summary on stdout, in cfg->format.  Returns 0 or -1. */
int report_print(const struct bench_cfg *cfg, const struct bench_result *res);
const char *report_err_name(enum bench_err e);

/* plot.c: per-connection throughput over time as a PNG, drawn by
 * gnuplot.  Returns 0, or -1 with a message. */
int plot_png(const struct bench_cfg *cfg, const struct bench_result *res);

#endif
