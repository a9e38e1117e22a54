/*
 * upstream: the backend side.  One thread drives a libcurl multi handle;
 * it alone touches easy handles.  Other threads talk to it through
 * upstream_post(), which queues a command and wakes it.
 */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

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

/* Start-up, main thread, after curl_global_init(): creates the multi handle
 * and prepares the backend CA; descriptor numbers stay below nfd.
 * Returns 0, or -1 with a message in err. */
int	upstream_init(const struct config *cfg, size_t nfd, char *err,
	    size_t errlen);
/* Starts the curl thread.  Returns 0 or -1. */
int	upstream_start(void);
/* Any thread: queue commands (CMD_*) for r and, if now, wake the curl
 * thread.  now is false only on the curl thread itself, which runs its
 * queue before it sleeps.  Repeated commands for a request coalesce; the
 * queue holds a reference. */
void	upstream_post(struct request *r, unsigned cmds, bool now);
/* Worker thread: watch a client socket for hang-up (edge-triggered
 * EPOLLRDHUP) for the whole life of its connection, tagged with conn_id;
 * requests carry the same id.  A hang-up ends whichever request of that
 * connection waits on the backend.  Unwatch before libmicrohttpd closes
 * the socket (the connection's CLOSED notification). */
void	upstream_watch(int fd, uint64_t conn_id);
void	upstream_unwatch(int fd);
/* Any thread, any locks held: wake the curl thread so that it
 * recomputes its sleep (a shaper timer moved closer). */
void	upstream_kick(void);
/* Shutdown, main thread: fail every transfer and every later one, and wake
 * every suspended connection so that it can end. */
void	upstream_abort_all(void);
/* Shutdown, main thread: stops and joins the curl thread, frees. */
void	upstream_stop(void);
/* Sets the backend's TLS options (verify, CA) on an easy handle of the
 * caller's thread (the readiness probe, admin.h).  Any thread. */
void	upstream_tls_setopt(CURL *e);
/* request_now() of the last response headers from the backend, any
 * status; 0 before the first.  Any thread. */
uint64_t upstream_last_answer(void);
#endif
