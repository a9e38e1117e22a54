/*
 * tlsread: read-ahead under GnuTLS's reads (see tlsread.h).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tlsread.h"

struct held {
	size_t	 off;		/* first byte not yet given out */
	size_t	 len;		/* bytes held from off */
	char	 data[TLSREAD_AHEAD];
};

/* One pointer per descriptor, NULL when nothing is held.  Only the owning
 * thread reads or writes an entry; a descriptor number changes hands only
 * through close() and accept(), which the kernel orders. */
static struct held	**tab;
static size_t		  ntab;
/* The thread's spare: reused so that a steady stream of reads allocates
 * nothing. */
static __thread struct held *spare;

int
tlsread_init(size_t max_fd)
{
	if ((tab = calloc(max_fd > 0 ? max_fd : 1, sizeof(*tab))) == NULL)
		return -1;
	ntab = max_fd;
	return 0;
}

static void
give_back(struct held *h)
{
	if (spare == NULL)
		spare = h;
	else
		free(h);
}

static size_t
take(struct held **slot, void *buf, size_t len)
{
	struct held *h = *slot;

	if (len > h->len)
		len = h->len;
	memcpy(buf, h->data + h->off, len);
	h->off += len;
	h->len -= len;
	if (h->len == 0) {
		*slot = NULL;
		give_back(h);
	}
	return len;
}

ssize_t
tlsread_recv(int fd, void *buf, size_t len)
{
	struct held *h;
	ssize_t n;

	if (fd < 0 || (size_t)fd >= ntab)
		return recv(fd, buf, len, 0);
	if (tab[fd] != NULL)
		return (ssize_t)take(&tab[fd], buf, len);
	if (len >= TLSREAD_AHEAD)
		return recv(fd, buf, len, 0);
	if ((h = spare) != NULL)
		spare = NULL;
	else if ((h = malloc(sizeof(*h))) == NULL)
		return recv(fd, buf, len, 0);
	if ((n = recv(fd, h->data, sizeof(h->data), 0)) <= 0) {
		int saved = errno;

		give_back(h);
		errno = saved;
		return n;
	}
	h->off = 0;
	h->len = (size_t)n;
	tab[fd] = h;
	return (ssize_t)take(&tab[fd], buf, len);
}

size_t
tlsread_held(int fd)
{
	if (fd < 0 || (size_t)fd >= ntab || tab[fd] == NULL)
		return 0;
	return tab[fd]->len;
}

void
tlsread_forget(int fd)
{
	if (fd < 0 || (size_t)fd >= ntab || tab[fd] == NULL)
		return;
	give_back(tab[fd]);
	tab[fd] = NULL;
}

void
tlsread_thread_done(void)
{
	free(spare);
	spare = NULL;
}

void
tlsread_free(void)
{
	size_t i;

	for (i = 0; i < ntab; i++)
		free(tab[i]);
	free(tab);
	tab = NULL;
	ntab = 0;
	tlsread_thread_done();
}
