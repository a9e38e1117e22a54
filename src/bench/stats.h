/*
 * stats: order statistics for the benchmark's report.  Pure functions,
 * any thread.
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <stdint.h>

/* Sorts v[0..n) ascending, in place. */
void stats_sort(double *v, size_t n);

/* The p-quantile (0 <= p <= 1) of the sorted v[0..n), interpolated
 * linearly between the closest ranks; 0 when n is 0. */
double stats_quantile(const double *v, size_t n, double p);

/* Bytes per second of `bytes` over `ns` nanoseconds; 0 when ns is 0. */
double stats_rate(uint64_t bytes, uint64_t ns);

#endif
