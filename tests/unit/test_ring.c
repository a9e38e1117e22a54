#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ring.h"

Test(ring, empty_until_grown)
{
	struct ring r;
	char b[4];

	ring_init(&r);
	cr_assert_eq(ring_space(&r), 0);
	cr_assert_eq(ring_write(&r, "abc", 3), 0);
	cr_assert_eq(ring_read(&r, b, 4), 0);
	ring_free(&r);
}

Test(ring, fifo_order_across_wrap)
{
	struct ring r;
	char out[16];
	unsigned i;

	ring_init(&r);
	cr_assert_eq(ring_grow(&r, 8), 0);
	cr_assert_eq(ring_write(&r, "abcdef", 6), 6);
	cr_assert_eq(ring_read(&r, out, 4), 4);
	cr_assert_eq(memcmp(out, "abcd", 4), 0);
	/* Wraps: 2 stored, 6 free, tail at index 6. */
	cr_assert_eq(ring_write(&r, "ghijklmn", 8), 6, "only the free space");
	cr_assert_eq(ring_space(&r), 0);
	cr_assert_eq(ring_read(&r, out, sizeof(out)), 8);
	cr_assert_eq(memcmp(out, "efghijkl", 8), 0);
	for (i = 0; i < 100; i++) {
		char in[5], got[5];

		snprintf(in, sizeof(in), "%04u", i);
		cr_assert_eq(ring_write(&r, in, 5), 5);
		cr_assert_eq(ring_read(&r, got, 5), 5);
		cr_assert_str_eq(got, in);
	}
	ring_free(&r);
}

Test(ring, grow_keeps_wrapped_contents)
{
	struct ring r;
	char out[32];

	ring_init(&r);
	cr_assert_eq(ring_grow(&r, 8), 0);
	ring_write(&r, "xxxxxx", 6);
	ring_read(&r, out, 5);
	ring_write(&r, "abcdefg", 7);	/* "x" + "abcdefg", wrapped */
	cr_assert_eq(ring_grow(&r, 32), 0);
	cr_assert_eq(r.cap, 32);
	cr_assert_eq(ring_space(&r), 24);
	cr_assert_eq(ring_write(&r, "hij", 3), 3);
	cr_assert_eq(ring_read(&r, out, sizeof(out)), 11);
	cr_assert_eq(memcmp(out, "xabcdefghij", 11), 0);
	cr_assert_eq(ring_grow(&r, 16), 0, "never shrinks");
	cr_assert_eq(r.cap, 32);
	ring_free(&r);
}

Test(ring, shrink_keeps_wrapped_contents_only_if_they_fit)
{
	struct ring r;
	char out[32];

	ring_init(&r);
	cr_assert_eq(ring_grow(&r, 16), 0);
	ring_write(&r, "xxxxxxxxxxxx", 12);
	ring_read(&r, out, 10);
	ring_write(&r, "abcdef", 6);	/* "xx" + "abcdef", wrapped */
	cr_assert_eq(ring_shrink(&r, 4), 0);
	cr_assert_eq(r.cap, 16, "8 bytes do not fit in 4: unchanged");
	cr_assert_eq(ring_shrink(&r, 8), 0);
	cr_assert_eq(r.cap, 8);
	cr_assert_eq(ring_space(&r), 0);
	cr_assert_eq(ring_read(&r, out, sizeof(out)), 8);
	cr_assert_eq(memcmp(out, "xxabcdef", 8), 0);
	cr_assert_eq(ring_shrink(&r, 64), 0, "never grows");
	cr_assert_eq(r.cap, 8);
	ring_free(&r);
}
