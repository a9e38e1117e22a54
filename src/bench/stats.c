/*
 * stats: order statistics for the benchmark's report.
 */
#include <stdlib.h>

#include "stats.h"

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void
stats_sort(double *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_double);
}

double
stats_quantile(const double *v, size_t n, double p)
{
	double pos, frac;
	size_t i;

	if (n == 0)
		return 0;
	if (p <= 0)
		return v[0];
	if (p >= 1)
		return v[n - 1];
	pos = p * (double)(n - 1);
	i = (size_t)pos;
	frac = pos - (double)i;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (v[i + 1] - v[i]) * frac;
}

double
stats_rate(uint64_t bytes, uint64_t ns)
{
	if (ns == 0)
		return 0;
	return (double)bytes * 1e9 / (double)ns;
}
