/*
 * server: the client side.  libmicrohttpd's thread pool runs the
 * connections; each request is suspended while it waits on the curl thread
 * and resumed by it.  Start-up and shutdown are called from main's thread.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stdbool.h>

#include "config.h"
#include "tls.h"

/* Starts listening.  pem may be NULL for plain HTTP.  Returns 0, or -1
 * with a message in err. */
int	server_start(const struct config *cfg, const struct tls_pem *pem,
	    unsigned connection_limit, char *err, size_t errlen);
/* Stops accepting new connections (the listening socket is closed). */
void	server_quiesce(void);
/* Whether server_quiesce() was called (SIGTERM: draining).  Any thread. */
bool	server_draining(void);
/* Stops the daemon; every connection must have been resumed first. */
void	server_stop(void);

#endif
