/*
 * ring: a byte FIFO of bounded, growable capacity.  One per direction of a
 * request; the caller serialises access (the request's lock).
 */
#ifndef RING_H
#define RING_H

#include <stddef.h>

struct bufcache;

struct ring {
	char	*buf;	/* owned; NULL until the first ring_grow() */
	size_t	 cap;	/* bytes allocated */
	size_t	 head;	/* index of the oldest byte */
	size_t	 len;	/* bytes stored */
	struct bufcache *cache;	/* NULL: malloc'd buffers; else buffers of
				 * the cache's one size */
};

void	ring_init(struct ring *);
/* From now on the ring's buffer comes from bc: its capacity is 0 or
 * bc->size, and it cannot grow or shrink.  Only while it has no buffer. */
void	ring_use_cache(struct ring *, struct bufcache *bc);
/* Gives the buffer back (contents lost); the ring stays usable, with its
 * cache if it has one. */
void	ring_free(struct ring *);
/* Grows the capacity to cap bytes (never shrinks), keeping the contents.
 * Returns 0, or -1 if memory is short (the ring is unchanged). */
int	ring_grow(struct ring *, size_t cap);
/* Shrinks the capacity to cap bytes if it is larger and the contents fit
 * (else nothing), keeping them; the memory goes back at once.  Returns 0,
 * or -1 if memory is short (the ring is unchanged). */
int	ring_shrink(struct ring *, size_t cap);
/* Copies up to n bytes in / out; returns how many were copied. */
size_t	ring_write(struct ring *, const void *, size_t n);
size_t	ring_read(struct ring *, void *, size_t n);

static inline size_t
ring_space(const struct ring *r)
{
	return r->cap - r->len;
}

#endif
