#include <criterion/criterion.h>

#include "units.h"

Test(units, sizes_in_nginx_syntax)
{
	uint64_t v;

	cr_assert_eq(units_parse_size("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(units_parse_size("1048576", &v), 0);
	cr_assert_eq(v, 1048576);
	cr_assert_eq(units_parse_size("512k", &v), 0);
	cr_assert_eq(v, 512 * 1024);
	cr_assert_eq(units_parse_size("1m", &v), 0);
	cr_assert_eq(v, 1024 * 1024);
	cr_assert_eq(units_parse_size("1M", &v), 0);
	cr_assert_eq(v, 1024 * 1024);
	cr_assert_eq(units_parse_size("2g", &v), 0);
	cr_assert_eq(v, 2ULL * 1024 * 1024 * 1024);
}

Test(units, sizes_rejected)
{
	uint64_t v = 7;

	cr_assert_eq(units_parse_size("", &v), -1);
	cr_assert_eq(units_parse_size("k", &v), -1);
	cr_assert_eq(units_parse_size("-1", &v), -1);
	cr_assert_eq(units_parse_size("1.5m", &v), -1);
	cr_assert_eq(units_parse_size("1mb", &v), -1);
	cr_assert_eq(units_parse_size("1 m", &v), -1);
	cr_assert_eq(units_parse_size("18446744073709551616", &v), -1);
	cr_assert_eq(units_parse_size("17179869184g", &v), -1);
	cr_assert_eq(units_parse_size(NULL, &v), -1);
	cr_assert_eq(v, 7, "a failed parse must not store");
}

Test(units, durations)
{
	uint64_t v;

	cr_assert_eq(units_parse_duration("30", &v), 0);
	cr_assert_eq(v, 30000);
	cr_assert_eq(units_parse_duration("30s", &v), 0);
	cr_assert_eq(v, 30000);
	cr_assert_eq(units_parse_duration("250ms", &v), 0);
	cr_assert_eq(v, 250);
	cr_assert_eq(units_parse_duration("5m", &v), 0);
	cr_assert_eq(v, 300000);
	cr_assert_eq(units_parse_duration("1h", &v), 0);
	cr_assert_eq(v, 3600000);
	cr_assert_eq(units_parse_duration("1d", &v), -1);
	cr_assert_eq(units_parse_duration("s", &v), -1);
	cr_assert_eq(units_parse_duration("10 s", &v), -1);
}

Test(units, booleans)
{
	bool b = false;

	cr_assert_eq(units_parse_bool("on", &b), 0);
	cr_assert(b);
	cr_assert_eq(units_parse_bool("OFF", &b), 0);
	cr_assert(!b);
	cr_assert_eq(units_parse_bool("yes", &b), 0);
	cr_assert(b);
	cr_assert_eq(units_parse_bool("0", &b), 0);
	cr_assert(!b);
	cr_assert_eq(units_parse_bool("maybe", &b), -1);
}

Test(units, uints_with_bound)
{
	uint64_t v;

	cr_assert_eq(units_parse_uint("65535", 65535, &v), 0);
	cr_assert_eq(v, 65535);
	cr_assert_eq(units_parse_uint("65536", 65535, &v), -1);
	cr_assert_eq(units_parse_uint("12a", 65535, &v), -1);
	cr_assert_eq(units_parse_uint("", 65535, &v), -1);
}
