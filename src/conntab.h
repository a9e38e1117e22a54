/*
 * conntab: every client connection, the phase it is in and the deadline of
 * that phase; counts of connections in all and per peer address, for
 * admission.  The slow and hostile clients' side of the front end: a
 * client that never finishes its TLS handshake, or sends its request
 * headers a byte at a time (slowloris), is closed at a fixed deadline
 * whatever it trickles, and one address cannot take every connection.
 *
 * Phases and their deadlines (from the start of the phase; 0: none):
 *   HANDSHAKE  accepted, TLS handshake not done        handshake-timeout
 *   HEADERS    waiting for (the rest of) a request's   header-timeout
 *              header section
 *   BUSY       a request is being answered             none here (its own)
 *   IDLE       between requests on a kept-alive        none with TLS (the
 *              connection                              first byte read
 *                                                      starts HEADERS);
 *                                                      without TLS
 *                                                      client-timeout +
 *                                                      header-timeout
 * Every phase list is in start order, and every entry of a list has the
 * same time limit, so the earliest deadline is always a list's head:
 * expiry costs O(expired), entering a phase O(1).
 *
 * Time is passed in (ns, monotonic): nothing here sleeps or reads a clock.
 * Thread safety: one mutex inside guards the lists and counts.  An entry
 * is made by the accept thread and then belongs to the worker thread that
 * runs its connection (handed over with the connection); conntab_expire()
 * (the reaper thread) only unlinks expired entries and hands out their
 * descriptors while holding the mutex, so that a descriptor is never one a
 * connection closed meanwhile (conntab_close() comes before the close).
 */
#ifndef CONNTAB_H
#define CONNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum conntab_phase {
	CT_HANDSHAKE,
	CT_HEADERS,
	CT_BUSY,
	CT_IDLE,
	CT_NPHASES,
	CT_EXPIRED = CT_NPHASES	/* unlinked by conntab_expire() */
};

struct conntab_limits {
	uint64_t	 timeout_ns[CT_NPHASES];	/* 0: no deadline */
	unsigned	 max_total;	/* connections in all; 0: no cap */
	unsigned	 max_per_addr;	/* per peer address; 0: no cap */
};

struct conntab_entry;

/* Sets up the table for descriptors below max_fd.  Main thread, before
 * the HTTP threads start.  Returns 0, or -1 (out of memory). */
int	conntab_init(const struct conntab_limits *l, size_t max_fd);
void	conntab_free(void);

/* Whether a connection from sa may be admitted now: under max_total, and
 * under max_per_addr for sa's address unless exempt (a trusted proxy,
 * behind which many clients share one address).  Any thread. */
bool	conntab_admit(const struct sockaddr *sa, bool exempt);

/* Registers an admitted connection on descriptor fd, in phase, at now.
 * Returns the entry (owned by the table, valid until conntab_close()), or
 * NULL (out of memory, bad descriptor): the connection is then not
 * tracked.  *kick is set if the reaper must look again (a list that was
 * empty got an entry). */
struct conntab_entry *conntab_open(int fd, const struct sockaddr *sa,
	    bool exempt, enum conntab_phase phase, uint64_t now, bool *kick);
/* The entry of descriptor fd, or NULL.  The thread that owns it. */
struct conntab_entry *conntab_byfd(int fd);
/* The entry's phase (CT_EXPIRED once the reaper took it).  Owning worker
 * thread; no lock. */
enum conntab_phase conntab_phase(const struct conntab_entry *e);
/* Moves e to phase from now; nothing once expired.  *kick as above. */
void	conntab_enter(struct conntab_entry *e, enum conntab_phase phase,
	    uint64_t now, bool *kick);
/* Forgets e and frees it; before the descriptor is closed. */
void	conntab_close(struct conntab_entry *e);

/* Unlinks every entry whose deadline is at or before now and calls
 * fn(fd, phase, arg) for each, with the mutex held (fn must not call into
 * this module).  Returns how many, and sets *next to the earliest deadline
 * left (UINT64_MAX if none).  The reaper thread. */
size_t	conntab_expire(uint64_t now, void (*fn)(int, enum conntab_phase,
	    void *), void *arg, uint64_t *next);

/* Connections tracked in all, and from sa's address.  Any thread. */
unsigned conntab_count(void);
unsigned conntab_count_addr(const struct sockaddr *sa);

#endif
