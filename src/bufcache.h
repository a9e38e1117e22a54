/*
 * bufcache: fixed-size buffers for short holds, kept apart from malloc's
 * arenas.  A PACE_SLOW download's refill is held from its arrival until
 * libmicrohttpd has taken it, about a millisecond when the client's socket
 * has room; a burst of arrivals (1,000 downloads starting at once) holds
 * many at the same moment.  From malloc, a buffer freed between live
 * allocations stays resident, so the process kept the burst's high-water
 * mark (25 MiB for 1,000 downloads).  Here the free buffers beyond a small
 * reserve are given back to the kernel as they come back.
 *
 * Threads: any; one mutex per cache, no system call under it.
 */
#ifndef BUFCACHE_H
#define BUFCACHE_H

#include <pthread.h>
#include <stddef.h>

struct bufcache {
	pthread_mutex_t	 lock;
	size_t		 size;		/* bytes per buffer, whole pages */
	size_t		 reserve;	/* free buffers kept resident */
	void		**warm;		/* free and resident: reserve slots */
	size_t		 nwarm;
	void		**cold;		/* free, pages given back */
	size_t		 ncold, cold_cap;
};

/* Buffers of size bytes (rounded up to whole pages); up to reserve free
 * ones stay resident for reuse.  Returns 0 or -1. */
int	bufcache_init(struct bufcache *, size_t size, size_t reserve);
/* A buffer of bc->size bytes (its contents undefined), or NULL. */
void	*bufcache_get(struct bufcache *);
/* Gives back a buffer from bufcache_get(). */
void	bufcache_put(struct bufcache *, void *);
/* Unmaps every free buffer; those still out must not be put back. */
void	bufcache_free(struct bufcache *);

#endif
