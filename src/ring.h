/*
 * ring: a byte FIFO of bounded, growable capacity.  One per direction of a
 * request; the caller serialises access (the request's lock).
 */
#ifndef RING_H
#define RING_H

#include <stddef.h>

struct ring {
	char	*buf;	/* owned; NULL until the first ring_grow() */
	size_t	 cap;	/* bytes allocated */
	size_t	 head;	/* index of the oldest byte */
	size_t	 len;	/* bytes stored */
};

void	ring_init(struct ring *);
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
