/*
 * upstream: the event loops and the backend side.  One loop per core: a
 * thread that runs one libmicrohttpd daemon (through struct
 * upstream_server) and one libcurl multi handle, so that a request is run
 * from its first byte to its last by one thread, with no hand-off.  Only
 * a loop touches its easy handles.  Other threads (the shaper's timers,
 * the listener, shutdown) talk to a loop through upstream_post() and
 * upstream_adopt(), which queue and wake it.
 */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "config.h"
#include "request.h"

/* Backend receive chunk per transfer, in bytes: libcurl's receive buffer,
 * the first size of the download buffer, and how much room a paused
 * transfer needs before it is resumed.  Large chunks cost fewer system
 * calls per byte (about 30 % less CPU per GiB at 256 KiB than at 8 KiB);
 * small ones keep many slow clients cheap.  So a transfer started while
 * fewer than UPSTREAM_BIG_MAX others are in flight gets the large chunk,
 * the rest the small one.  Set before the transfer starts, under r->lock;
 * read-only after. */
#define UPSTREAM_CHUNK_SMALL	(8 * 1024)
#define UPSTREAM_CHUNK_BIG	(256 * 1024)
#define UPSTREAM_BIG_MAX	8
/* Least chunk of a limited download (request.h, enum req_pace).
 * PACE_SHAPED: a buffer of two, so that the reader rarely waits for data
 * between grants (a transfer waiting for data loses its turn in a shared
 * rate).  PACE_SLOW: exactly one chunk, whatever the number in flight,
 * refilled when empty and the next grant's tokens are due (shaper.c):
 * one pause per grant, and the bytes are still in the cache when sent. */
#define UPSTREAM_CHUNK_SHAPED	(16 * 1024)
#define UPSTREAM_CHUNK_SLOW	(32 * 1024)
/* libcurl's receive buffer for a PACE_SLOW download, in bytes: a refill is
 * UPSTREAM_CHUNK_SLOW / UPSTREAM_RECV_SLOW reads.  libcurl keeps this
 * buffer for the whole transfer, paused or not, so on 1,000 downloads at
 * 64 KiB/s each KiB here is a MiB of resident memory; 8 KiB cost no CPU
 * that the benchmark could see against 32 KiB (4 reads per refill). */
#define UPSTREAM_RECV_SLOW	(8 * 1024)

struct sockaddr;
struct uloop;

/* What a loop needs of its libmicrohttpd daemon (server.c), by loop index;
 * each called in that loop's thread only, except fd (main thread, at
 * upstream_start()). */
struct upstream_server {
	int	(*fd)(unsigned i);		/* epoll set to watch */
	void	(*run)(unsigned i);		/* process what is ready */
	int64_t	(*timeout_ms)(unsigned i);	/* next deadline; -1: none */
	void	(*adopt)(unsigned i, int fd, const struct sockaddr *sa,
		    socklen_t len);		/* a new connection */
	void	(*stop)(unsigned i);		/* stop the daemon */
	/* Loop 0 also fires the shaper's timers: when the next is due (ns,
	 * 0: none), and fire those due at now. */
	uint64_t (*timer_at)(void);
	void	(*timer_fire)(uint64_t now);
};

/* Start-up, main thread, after curl_global_init(): n event loops (0: 1),
 * each with a multi handle, and the backend CA; descriptor numbers stay
 * below nfd.  Returns 0, or -1 with a message in err. */
int	upstream_init(const struct config *cfg, size_t nfd, unsigned n,
	    char *err, size_t errlen);
/* The number of loops; main thread, after upstream_init(). */
unsigned upstream_loops(void);
/* Starts the loop threads, each running daemon i of s.  Main thread.
 * Returns 0 or -1. */
int	upstream_start(const struct upstream_server *s);
/* The calling thread's loop (a request's, set when it is made), or NULL
 * outside the loops. */
struct uloop *upstream_current(void);
/* A connection of loop u's daemon was resumed (any thread): u runs its
 * daemon again, at once if it is the caller, else woken. */
void	upstream_resumed(struct uloop *u);
/* Listener thread: gives connection fd (accepted, admitted) to a loop,
 * round robin; the loop hands it to its daemon (upstream_server.adopt). */
void	upstream_adopt(int fd, const struct sockaddr *sa, socklen_t len);
/* Any thread: queue commands (CMD_*) for r and, if the caller is not r's
 * loop, wake that loop (a loop runs its own queue before it sleeps).
 * Repeated commands for a request coalesce; the queue holds a
 * reference. */
void	upstream_post(struct request *r, unsigned cmds);
/* r's loop: watch a client socket for hang-up (edge-triggered
 * EPOLLRDHUP) for the whole life of its connection, tagged with conn_id;
 * requests carry the same id.  A hang-up ends whichever request of that
 * connection waits on the backend.  Unwatch before libmicrohttpd closes
 * the socket (the connection's CLOSED notification). */
void	upstream_watch(int fd, uint64_t conn_id);
void	upstream_unwatch(int fd);
/* Any thread, any locks held: wake loop 0, which runs the shaper's
 * timers, so that it recomputes its sleep (a timer moved closer). */
void	upstream_kick(void);
/* Shutdown, main thread: fail every transfer and every later one, and wake
 * every suspended connection so that it can end. */
void	upstream_abort_all(void);
/* Shutdown, main thread: stops the loops (each stops its daemon first)
 * and joins them, frees. */
void	upstream_stop(void);
/* Sets the backend's TLS options (verify, CA) on an easy handle of the
 * caller's thread (the readiness probe, admin.h).  Any thread. */
void	upstream_tls_setopt(CURL *e);
/* request_now() of the last response headers from the backend, any
 * status; 0 before the first.  Any thread. */
uint64_t upstream_last_answer(void);
#endif
