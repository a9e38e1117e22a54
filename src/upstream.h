/*
 * upstream: the backend side.  One thread drives a libcurl multi handle;
 * it alone touches easy handles.  Other threads talk to it through
 * upstream_post(), which queues a command and wakes it.
 */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stdbool.h>

#include "config.h"
#include "request.h"

/* Most bytes the curl thread puts into a download buffer at once; a
 * paused transfer is resumed only when this much is free.  Also the size
 * of libcurl's receive buffer per transfer: 8 KiB keeps a slow client's
 * memory small (see the 1,000-slow-clients figure in NEWS) at a cost of
 * more recv() calls per fast download. */
#define UPSTREAM_CHUNK	(8 * 1024)

/* Start-up, main thread, after curl_global_init(): creates the multi handle
 * and prepares the backend CA.  Returns 0, or -1 with a message in err. */
int	upstream_init(const struct config *cfg, char *err, size_t errlen);
/* Starts the curl thread.  Returns 0 or -1. */
int	upstream_start(void);
/* Any thread: queue commands (CMD_*) for r and wake the curl thread.
 * Repeated commands for a request coalesce; the queue holds a reference. */
void	upstream_post(struct request *r, unsigned cmds);
/* Worker thread: report when r's client hangs up while r waits on the
 * backend (edge-triggered EPOLLRDHUP on the client socket).  unwatch must
 * be called before libmicrohttpd closes the socket (notify_completed). */
void	upstream_watch(struct request *r);
void	upstream_unwatch(struct request *r);
/* Shutdown, main thread: fail every transfer and every later one, and wake
 * every suspended connection so that it can end. */
void	upstream_abort_all(void);
/* Shutdown, main thread: stops and joins the curl thread, frees. */
void	upstream_stop(void);
#endif
