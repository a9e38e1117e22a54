/* Unit tests for src/bench/stats.c: the benchmark's order statistics. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "bench/stats.h"

Test(stats, sorts_ascending)
{
	double v[] = { 3, -1, 2.5, 0, 2.5 };

	stats_sort(v, 5);
	cr_assert_eq(v[0], -1);
	cr_assert_eq(v[1], 0);
	cr_assert_eq(v[2], 2.5);
	cr_assert_eq(v[3], 2.5);
	cr_assert_eq(v[4], 3);
}

Test(stats, quantile_ends_and_median)
{
	double v[] = { 1, 2, 3, 4, 5 };

	cr_assert_eq(stats_quantile(v, 5, 0), 1);
	cr_assert_eq(stats_quantile(v, 5, 1), 5);
	cr_assert_eq(stats_quantile(v, 5, 0.5), 3);
	cr_assert_eq(stats_quantile(v, 5, -1), 1, "clamped below");
	cr_assert_eq(stats_quantile(v, 5, 2), 5, "clamped above");
}

Test(stats, quantile_interpolates_between_ranks)
{
	double v[] = { 10, 20, 30, 40 };

	/* Median of an even count: halfway between the middle two. */
	cr_assert_float_eq(stats_quantile(v, 4, 0.5), 25, 1e-9);
	/* p99 of 1..100 lies between the 99th and the 100th. */
	double w[100];
	for (int i = 0; i < 100; i++)
		w[i] = i + 1;
	cr_assert_float_eq(stats_quantile(w, 100, 0.99), 99.01, 1e-9);
}

Test(stats, quantile_of_nothing_or_one)
{
	double v[] = { 7 };

	cr_assert_eq(stats_quantile(NULL, 0, 0.5), 0);
	cr_assert_eq(stats_quantile(v, 1, 0.99), 7);
}

Test(stats, rate_in_bytes_per_second)
{
	cr_assert_float_eq(stats_rate(1048576, 1000000000ULL), 1048576, 1e-6);
	cr_assert_float_eq(stats_rate(65536, 500000000ULL), 131072, 1e-6);
	cr_assert_eq(stats_rate(100, 0), 0, "no time: no rate");
	/* 1 TiB over 1 ns does not overflow. */
	cr_assert_float_eq(stats_rate(1ULL << 40, 1), 1.099511627776e21, 1e9);
}
