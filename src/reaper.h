/*
 * reaper: the thread that ends connections whose phase deadline passed
 * (conntab.h): it shuts their socket down, and the worker that runs the
 * connection sees the end of the stream and closes it the ordinary way,
 * so libmicrohttpd frees everything from its own thread.  It sleeps until
 * the earliest deadline; nothing wakes it while no deadline is pending.
 */
#ifndef REAPER_H
#define REAPER_H

/* Starts the thread.  Main thread, after conntab_init().  Returns 0, or
 * -1 if the thread could not be made. */
int	reaper_start(void);
/* Tells the thread that a deadline earlier than the one it waits for may
 * exist (conntab_open()/conntab_enter() set kick).  Any thread. */
void	reaper_kick(void);
/* Stops the thread and waits for it.  Main thread. */
void	reaper_stop(void);

#endif
