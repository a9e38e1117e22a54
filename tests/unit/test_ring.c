#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "bufcache.h"
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

Test(ring, cached_buffer_has_one_size_and_goes_back)
{
	struct bufcache bc;
	struct ring r;
	char out[8];
	char *first;

	cr_assert_eq(bufcache_init(&bc, 4096, 1), 0);
	ring_init(&r);
	ring_use_cache(&r, &bc);
	cr_assert_eq(ring_grow(&r, 1024), -1, "not the cache's size");
	cr_assert_eq(ring_grow(&r, 4096), 0);
	cr_assert_eq(r.cap, 4096);
	first = r.buf;
	cr_assert_eq(ring_write(&r, "abcdef", 6), 6);
	cr_assert_eq(ring_grow(&r, 8192), -1, "a cached ring cannot grow");
	cr_assert_eq(ring_shrink(&r, 8), 0);
	cr_assert_eq(r.cap, 4096, "nor shrink");
	cr_assert_eq(ring_read(&r, out, 6), 6);
	cr_assert_eq(memcmp(out, "abcdef", 6), 0);
	ring_free(&r);
	cr_assert_eq(r.cap, 0);
	cr_assert_eq(r.cache, &bc, "keeps its cache");
	cr_assert_eq(bc.nwarm, 1, "the buffer is back in the reserve");
	cr_assert_eq(ring_grow(&r, 4096), 0);
	cr_assert_eq(r.buf, first, "and is reused");
	ring_free(&r);
	bufcache_free(&bc);
}
