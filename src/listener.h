/*
 * listener: the listening socket and the thread that accepts on it and
 * hands each connection to an event loop (upstream_adopt()), whose daemon
 * takes it (MHD_add_connection()).
 *
 * Why not libmicrohttpd's own accept: with one daemon per loop every loop
 * would watch the listening socket and wake for each new connection, and
 * the admission check (conntab.h) must count a connection before any loop
 * starts it, or a flood passes the per-address cap.  Here one thread
 * accepts in a loop, admits and registers, and only the loop that gets
 * the connection wakes.
 */
#ifndef LISTENER_H
#define LISTENER_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* Binds and listens on bind:port (a numeric IPv4 or IPv6 address; an
 * IPv6 socket takes IPv6 only).  Main thread, before the daemon starts.
 * Returns 0, or -1 with a message in err. */
int	listener_open(const char *bind, uint16_t port, char *err,
	    size_t errlen);
/* Starts accepting.  For each connection, in the accept thread:
 * admit(fd, peer) returns 0 to hand it to an event loop
 * (upstream_adopt()), or -1 to close it.  Main thread.  Returns 0, or -1
 * if the thread could not be made. */
int	listener_start(int (*admit)(int, const struct sockaddr *));
/* Stops accepting and closes the socket: connections not yet accepted
 * are refused by the kernel.  Main thread; safe if never started. */
void	listener_close(void);

#endif
