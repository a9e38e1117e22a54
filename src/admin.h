/*
 * admin: the operations listener (metrics-listen): plain HTTP on its own
 * address, apart from the S3 port, where every path is an object.
 *
 *   GET /metrics   the Prometheus text exposition (metrics.h)
 *   GET /healthz   200 "ok" while the process serves
 *   GET /readyz    200 "ready" when the backend answered within the last
 *                  READY_FRESH seconds, or answers a probe now (HEAD of
 *                  the upstream URL: any HTTP status counts); 503 with
 *                  the reason otherwise, and while draining (SIGTERM)
 *
 * One libmicrohttpd thread of its own, so a slow scrape or probe never
 * holds a client connection.  Started and stopped by main's thread.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Seconds a backend answer keeps the proxy ready without a probe. */
#define ADMIN_READY_FRESH	5

/* Starts the listener on cfg->metrics_listen (no-op when empty).
 * Returns 0, or -1 with a message in err. */
int	admin_start(const struct config *cfg, char *err, size_t errlen);
void	admin_stop(void);

#endif
