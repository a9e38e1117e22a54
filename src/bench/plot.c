/*
 * plot: per-connection throughput over time as a PNG, drawn by gnuplot
 * (the data goes inline, as a datablock: no temporary file).  Up to
 * PLOT_LINES connections get a line each; more get a band (min to max)
 * with the median.  Main thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "stats.h"

#define PLOT_LINES	20

/* Is connection i streaming during bin b (first to last body byte)? */
static int
active(const struct bench_conn *c, uint64_t b0, uint64_t b1)
{
	return c->t_first != 0 && c->t_first < b1 && c->t_last >= b0;
}

int
plot_png(const struct bench_cfg *cfg, const struct bench_result *res)
{
	uint64_t iv = cfg->interval_ms * 1000000ULL, b0, b1;
	size_t nb, b, n;
	unsigned i;
	double *v = NULL, w, kib = 1024.0;
	FILE *gp;
	int ret = -1;

	nb = (size_t)((res->elapsed_ns + iv - 1) / iv);
	if (nb > res->nbins)
		nb = res->nbins;
	if (nb == 0) {
		fprintf(stderr, "storage-proxy-bench: nothing to plot\n");
		return -1;
	}
	if ((v = malloc(cfg->conns * sizeof(*v))) == NULL)
		return -1;
	/* The caller has quoted nothing: the path goes in single quotes,
	 * which gnuplot does not interpret, so refuse a quote in it. */
	if (strchr(cfg->plot, '\'') != NULL) {
		fprintf(stderr, "storage-proxy-bench: --plot: no ' in the "
		    "path, please\n");
		goto out;
	}
	if ((gp = popen("gnuplot", "w")) == NULL) {
		perror("storage-proxy-bench: gnuplot");
		goto out;
	}
	fprintf(gp, "set terminal pngcairo size 1200,700 noenhanced\n");
	fprintf(gp, "set output '%s'\n", cfg->plot);
	fprintf(gp, "set title 'storage-proxy-bench: %u connection%s, "
	    "throughput per connection (%llu ms intervals)'\n", cfg->conns,
	    cfg->conns == 1 ? "" : "s", (unsigned long long)cfg->interval_ms);
	fprintf(gp, "set xlabel 'time (s)'\nset ylabel 'KiB/s'\n"
	    "set key outside right\nset grid\nset yrange [0:*]\n");
	fprintf(gp, "$d << EOD\n");
	for (b = 0; b < nb; b++) {
		b0 = b * iv;
		b1 = b0 + iv;
		/* The last interval may be partial. */
		w = (double)((b1 < res->elapsed_ns ? b1 : res->elapsed_ns) -
		    b0) / 1e9;
		if (w <= 0)
			break;
		fprintf(gp, "%.3f", ((double)b0 / 1e9 + w / 2));
		n = 0;
		for (i = 0; i < cfg->conns; i++) {
			double r = (double)res->bins[b * cfg->conns + i] / w /
			    kib;

			if (cfg->conns <= PLOT_LINES)
				fprintf(gp, " %.3f", r);
			else if (active(&res->conn[i], b0, b1))
				v[n++] = r;
		}
		if (cfg->conns > PLOT_LINES) {
			stats_sort(v, n);
			fprintf(gp, " %.3f %.3f %.3f", stats_quantile(v, n, 0),
			    stats_quantile(v, n, 0.5), stats_quantile(v, n, 1));
		}
		fprintf(gp, "\n");
	}
	fprintf(gp, "EOD\n");
	if (cfg->conns <= PLOT_LINES)
		fprintf(gp, "plot for [i=2:%u] $d using 1:i with lines "
		    "title sprintf('connection %%d', i - 2)", cfg->conns + 1);
	else
		fprintf(gp, "plot $d using 1:2:4 with filledcurves "
		    "fillcolor rgb '#c0d0f0' title 'min to max', "
		    "$d using 1:3 with lines lw 2 title 'median'");
	if (cfg->target > 0)
		fprintf(gp, ", %.3f with lines dt 2 lw 2 lc rgb 'red' "
		    "title 'target %.1f KiB/s'", (double)cfg->target / kib,
		    (double)cfg->target / kib);
	fprintf(gp, "\n");
	if (pclose(gp) != 0) {
		fprintf(stderr, "storage-proxy-bench: gnuplot failed\n");
		goto out;
	}
	ret = 0;
out:
	free(v);
	return ret;
}
