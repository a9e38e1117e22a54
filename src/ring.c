/*
 * ring: byte FIFO used as the per-request buffer in each direction.
 */

#include <stdlib.h>
#include <string.h>

#include "bufcache.h"
#include "ring.h"

void
ring_init(struct ring *r)
{
	memset(r, 0, sizeof(*r));
}

void
ring_use_cache(struct ring *r, struct bufcache *bc)
{
	if (r->buf == NULL)
		r->cache = bc;
}

void
ring_free(struct ring *r)
{
	struct bufcache *bc = r->cache;

	if (bc != NULL)
		bufcache_put(bc, r->buf);
	else
		free(r->buf);
	ring_init(r);
	r->cache = bc;
}

/* Moves the contents into a new buffer of cap bytes (cap >= len). */
static int
resize(struct ring *r, size_t cap)
{
	char *nb;
	size_t first;

	if (r->cache != NULL) {
		/* One size: only the first buffer. */
		if (r->buf != NULL || cap != r->cache->size ||
		    (nb = bufcache_get(r->cache)) == NULL)
			return -1;
		r->buf = nb;
		r->cap = cap;
		r->head = 0;
		return 0;
	}
	if ((nb = malloc(cap)) == NULL)
		return -1;
	/* Unwrap the contents to the start of the new buffer. */
	first = r->len;
	if (r->head + first > r->cap)
		first = r->cap - r->head;
	if (r->len > 0) {
		memcpy(nb, r->buf + r->head, first);
		memcpy(nb + first, r->buf, r->len - first);
	}
	free(r->buf);
	r->buf = nb;
	r->cap = cap;
	r->head = 0;
	return 0;
}

size_t
ring_write(struct ring *r, const void *p, size_t n)
{
	size_t tail, first;

	if (n > ring_space(r))
		n = ring_space(r);
	if (n == 0)
		return 0;
	tail = (r->head + r->len) % r->cap;
	first = r->cap - tail;
	if (first > n)
		first = n;
	memcpy(r->buf + tail, p, first);
	memcpy(r->buf, (const char *)p + first, n - first);
	r->len += n;
	return n;
}

size_t
ring_read(struct ring *r, void *p, size_t n)
{
	size_t first;

	if (n > r->len)
		n = r->len;
	if (n == 0)
		return 0;
	first = r->cap - r->head;
	if (first > n)
		first = n;
	memcpy(p, r->buf + r->head, first);
	memcpy((char *)p + first, r->buf, n - first);
	r->len -= n;
	r->head = r->len == 0 ? 0 : (r->head + n) % r->cap;
	return n;
}

int
ring_grow(struct ring *r, size_t cap)
{
	return cap <= r->cap ? 0 : resize(r, cap);
}

int
ring_shrink(struct ring *r, size_t cap)
{
	if (cap >= r->cap || cap < r->len || cap == 0 || r->cache != NULL)
		return 0;
	return resize(r, cap);
}
