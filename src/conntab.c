/*
 * conntab: client connections by phase, with deadlines, and counts per
 * address (see conntab.h).
 */

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "conntab.h"

#define ADDR_BUCKETS	4096	/* power of two */

/* One peer address and how many connections it has; freed at zero. */
struct addr {
	struct addr	*next;		/* in its hash bucket */
	unsigned char	 key[16];	/* IPv6, or IPv4-mapped IPv6 */
	unsigned	 n;
};

struct conntab_entry {
	struct conntab_entry	*prev, *next;	/* in its phase's list */
	uint64_t		 deadline;	/* ns; UINT64_MAX: none */
	struct addr		*addr;		/* NULL: exempt */
	int			 fd;
	_Atomic int		 phase;		/* enum conntab_phase */
};

struct list {
	struct conntab_entry	*head, *tail;
};

/* [M]: under mu. */
static pthread_mutex_t		 mu = PTHREAD_MUTEX_INITIALIZER;
static struct conntab_limits	 lim;			/* set at init */
static struct list		 lists[CT_NPHASES];	/* [M] */
static struct addr		*buckets[ADDR_BUCKETS];	/* [M] */
static unsigned			 total;			/* [M] */
/* [M] When the reaper looks next (ns, its last conntab_expire()'s next):
 * a deadline before it kicks the reaper, one after it does not.  While
 * any connection is open the reaper looks at least every shortest
 * timeout, so that a new entry's deadline is never before this: a
 * request that starts and ends between two looks costs no wake-up. */
static uint64_t			 wake_at = UINT64_MAX;
static uint64_t			 timeout_min;		/* ns, 0: none */
/* Entry per descriptor: written and read by the descriptor's worker. */
static struct conntab_entry	**byfd;
static size_t			 nfd;

static void
key_of(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6)
		memcpy(key, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, 16);
}

static struct addr **
slot_of(const unsigned char key[16])
{
	uint32_t h = 2166136261u;
	struct addr **p;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	for (p = &buckets[h & (ADDR_BUCKETS - 1)]; *p != NULL;
	    p = &(*p)->next)
		if (memcmp((*p)->key, key, 16) == 0)
			break;
	return p;
}

int
conntab_init(const struct conntab_limits *l, size_t max_fd)
{
	int i;

	lim = *l;
	timeout_min = 0;
	for (i = 0; i < CT_NPHASES; i++)
		if (lim.timeout_ns[i] > 0 && (timeout_min == 0 ||
		    lim.timeout_ns[i] < timeout_min))
			timeout_min = lim.timeout_ns[i];
	wake_at = UINT64_MAX;
	if ((byfd = calloc(max_fd > 0 ? max_fd : 1, sizeof(*byfd))) == NULL)
		return -1;
	nfd = max_fd;
	return 0;
}

void
conntab_free(void)
{
	size_t i;

	for (i = 0; i < nfd; i++)
		free(byfd[i]);
	free(byfd);
	byfd = NULL;
	nfd = 0;
	for (i = 0; i < ADDR_BUCKETS; i++)
		while (buckets[i] != NULL) {
			struct addr *a = buckets[i];

			buckets[i] = a->next;
			free(a);
		}
	memset(lists, 0, sizeof(lists));
	total = 0;
}

bool
conntab_admit(const struct sockaddr *sa, bool exempt)
{
	unsigned char key[16];
	struct addr *a;
	bool ok;

	key_of(sa, key);
	pthread_mutex_lock(&mu);
	ok = lim.max_total == 0 || total < lim.max_total;
	if (ok && !exempt && lim.max_per_addr > 0) {
		a = *slot_of(key);
		ok = a == NULL || a->n < lim.max_per_addr;
	}
	pthread_mutex_unlock(&mu);
	return ok;
}

/* Appends e to its phase's list with that phase's deadline.  [M] */
static void
link_in(struct conntab_entry *e, enum conntab_phase phase, uint64_t now,
    bool *kick)
{
	struct list *l = &lists[phase];
	uint64_t t = lim.timeout_ns[phase];

	atomic_store_explicit(&e->phase, (int)phase, memory_order_relaxed);
	e->deadline = t > 0 && now <= UINT64_MAX - t ? now + t : UINT64_MAX;
	if (e->deadline < wake_at) {
		if (kick != NULL)
			*kick = true;
		wake_at = e->deadline;
	}
	e->next = NULL;
	e->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = e;
	else
		l->head = e;
	l->tail = e;
}

/* [M] */
static void
unlink_out(struct conntab_entry *e)
{
	int phase = atomic_load_explicit(&e->phase, memory_order_relaxed);
	struct list *l;

	if (phase >= CT_NPHASES)
		return;
	l = &lists[phase];
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
}

struct conntab_entry *
conntab_open(int fd, const struct sockaddr *sa, bool exempt,
    enum conntab_phase phase, uint64_t now, bool *kick)
{
	unsigned char key[16];
	struct conntab_entry *e;
	struct addr **p, *a = NULL;

	if (fd < 0 || (size_t)fd >= nfd || phase >= CT_NPHASES)
		return NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->fd = fd;
	key_of(sa, key);
	pthread_mutex_lock(&mu);
	if (!exempt) {
		p = slot_of(key);
		if ((a = *p) == NULL && (a = calloc(1, sizeof(*a))) != NULL) {
			memcpy(a->key, key, 16);
			*p = a;
		}
		if (a != NULL)
			a->n++;
	}
	e->addr = a;
	total++;
	link_in(e, phase, now, kick);
	pthread_mutex_unlock(&mu);
	/* A leftover (a connection libmicrohttpd dropped before it started,
	 * out of memory) is gone for sure now that its number is reused. */
	if (byfd[fd] != NULL)
		conntab_close(byfd[fd]);
	byfd[fd] = e;
	return e;
}

struct conntab_entry *
conntab_byfd(int fd)
{
	return fd >= 0 && (size_t)fd < nfd ? byfd[fd] : NULL;
}

enum conntab_phase
conntab_phase(const struct conntab_entry *e)
{
	return (enum conntab_phase)atomic_load_explicit(&e->phase,
	    memory_order_relaxed);
}

void
conntab_enter(struct conntab_entry *e, enum conntab_phase phase,
    uint64_t now, bool *kick)
{
	if (phase >= CT_NPHASES)
		return;
	pthread_mutex_lock(&mu);
	if (atomic_load_explicit(&e->phase, memory_order_relaxed) <
	    CT_NPHASES) {
		unlink_out(e);
		link_in(e, phase, now, kick);
	}
	pthread_mutex_unlock(&mu);
}

void
conntab_close(struct conntab_entry *e)
{
	struct addr **p;

	if (e == NULL)
		return;
	pthread_mutex_lock(&mu);
	unlink_out(e);
	if (e->addr != NULL && --e->addr->n == 0) {
		p = slot_of(e->addr->key);
		*p = e->addr->next;
		free(e->addr);
	}
	total--;
	pthread_mutex_unlock(&mu);
	if ((size_t)e->fd < nfd && byfd[e->fd] == e)
		byfd[e->fd] = NULL;
	free(e);
}

size_t
conntab_expire(uint64_t now, void (*fn)(int, enum conntab_phase, void *),
    void *arg, uint64_t *next)
{
	struct conntab_entry *e;
	size_t n = 0;
	int i;

	*next = UINT64_MAX;
	pthread_mutex_lock(&mu);
	for (i = 0; i < CT_NPHASES; i++) {
		while ((e = lists[i].head) != NULL && e->deadline <= now) {
			unlink_out(e);
			atomic_store_explicit(&e->phase, CT_EXPIRED,
			    memory_order_relaxed);
			fn(e->fd, (enum conntab_phase)i, arg);
			n++;
		}
		if (e != NULL && e->deadline < *next)
			*next = e->deadline;
	}
	if (total > 0 && timeout_min > 0 && now + timeout_min < *next)
		*next = now + timeout_min;
	wake_at = *next;
	pthread_mutex_unlock(&mu);
	return n;
}

unsigned
conntab_count(void)
{
	unsigned n;

	pthread_mutex_lock(&mu);
	n = total;
	pthread_mutex_unlock(&mu);
	return n;
}

unsigned
conntab_count_addr(const struct sockaddr *sa)
{
	unsigned char key[16];
	struct addr *a;
	unsigned n;

	key_of(sa, key);
	pthread_mutex_lock(&mu);
	a = *slot_of(key);
	n = a != NULL ? a->n : 0;
	pthread_mutex_unlock(&mu);
	return n;
}
