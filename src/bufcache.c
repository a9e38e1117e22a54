/*
 * bufcache: fixed-size buffers, each its own anonymous mapping, so that
 * its pages can be given back (MADV_DONTNEED) without touching anything
 * else.  A given-back buffer keeps its address range for reuse: no unmap,
 * so no split of the kernel's mappings, and its next use costs only the
 * page faults.
 */

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bufcache.h"

int
bufcache_init(struct bufcache *bc, size_t size, size_t reserve)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	bc->size = (size + page - 1) / page * page;
	bc->reserve = reserve;
	bc->nwarm = bc->ncold = bc->cold_cap = 0;
	bc->cold = NULL;
	if ((bc->warm = calloc(reserve > 0 ? reserve : 1,
	    sizeof(*bc->warm))) == NULL)
		return -1;
	if (pthread_mutex_init(&bc->lock, NULL) != 0) {
		free(bc->warm);
		bc->warm = NULL;
		return -1;
	}
	return 0;
}

void *
bufcache_get(struct bufcache *bc)
{
	void *p = NULL;

	pthread_mutex_lock(&bc->lock);
	if (bc->nwarm > 0)
		p = bc->warm[--bc->nwarm];
	else if (bc->ncold > 0)
		p = bc->cold[--bc->ncold];
	pthread_mutex_unlock(&bc->lock);
	if (p != NULL)
		return p;
	p = mmap(NULL, bc->size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void
bufcache_put(struct bufcache *bc, void *p)
{
	void **c;

	if (p == NULL)
		return;
	pthread_mutex_lock(&bc->lock);
	if (bc->nwarm < bc->reserve) {
		bc->warm[bc->nwarm++] = p;
		pthread_mutex_unlock(&bc->lock);
		return;
	}
	pthread_mutex_unlock(&bc->lock);
	/* Over the reserve: the pages go back now, the range stays ours. */
	(void)madvise(p, bc->size, MADV_DONTNEED);
	pthread_mutex_lock(&bc->lock);
	if (bc->ncold == bc->cold_cap) {
		size_t cap = bc->cold_cap > 0 ? 2 * bc->cold_cap : 64;

		if ((c = realloc(bc->cold, cap * sizeof(*c))) == NULL) {
			pthread_mutex_unlock(&bc->lock);
			(void)munmap(p, bc->size);
			return;
		}
		bc->cold = c;
		bc->cold_cap = cap;
	}
	bc->cold[bc->ncold++] = p;
	pthread_mutex_unlock(&bc->lock);
}

void
bufcache_free(struct bufcache *bc)
{
	while (bc->nwarm > 0)
		(void)munmap(bc->warm[--bc->nwarm], bc->size);
	while (bc->ncold > 0)
		(void)munmap(bc->cold[--bc->ncold], bc->size);
	free(bc->warm);
	free(bc->cold);
	bc->warm = bc->cold = NULL;
	bc->cold_cap = 0;
	pthread_mutex_destroy(&bc->lock);
}
