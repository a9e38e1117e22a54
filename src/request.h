/*
 * request: one proxied HTTP exchange.  The event loop (upstream.h) whose
 * daemon has the client connection runs both sides of it: the client side
 * in libmicrohttpd's callbacks, the backend transfer in libcurl's.  Other
 * threads touch it only through the lock and the loop's queue: the
 * shaper's timers (loop 0), the hang-up of a parked handshake, shutdown.
 *
 * Ownership: reference counted.  References are held by libmicrohttpd
 * (from the URI callback to notify_completed), by the response (until its
 * free callback), by the easy handle while it is in the multi handle, by
 * the hang-up watch, and by a queued command.  request_unref() frees, and
 * is the only place that does.
 *
 * Locking: fields marked [L] are under `lock` (the shaper's timers in
 * loop 0 read and write them for requests of every loop); [C] belong to
 * the loop's backend side and [M] to its client side, the same thread
 * (the marks say which side writes them); [I] are set before the transfer
 * starts and read-only after; [S] are under the shaper's lock
 * (shaper.c).
 * The lock is a leaf: no libmicrohttpd or libcurl call is made while it is
 * held, except MHD_suspend_connection() (see server.c for why).
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "cluster.h"
#include "limiter.h"
#include "ring.h"

struct uloop;

/* Largest header section accepted from the backend, in bytes. */
#define REQUEST_RESP_HEADERS_MAX	(64 * 1024)

/* Client side progress. */
enum req_state {
	REQ_NEW,		/* created by the URI callback */
	REQ_ADMITTING,		/* a GET waits for the cluster's slot
				 * (cluster.h, WAIT_ADMIT) */
	REQ_CONTINUE,		/* handed upstream; the client waits for 100
				 * Continue, which is sent when the backend
				 * wants the body (WAIT_CONTINUE) */
	REQ_FORWARDING,		/* handed upstream; body in, headers awaited */
	REQ_RESPONDING,		/* response queued; body streaming out */
};

/* Backend side progress. */
enum req_upstream {
	UP_PENDING,		/* not started, or waiting for headers */
	UP_HEADERS,		/* final status and headers are in */
	UP_DONE,		/* transfer complete */
	UP_FAILED,		/* transfer failed; see `result` */
};

/*
 * Why the client connection is suspended.  libmicrohttpd never times out a
 * suspended connection, so each wait is ended by someone else, and every
 * wait ends on: the transfer's end (upstream.c finish(): success, failure,
 * connect-timeout, stall-timeout, shutdown) and the client's hang-up
 * (upstream.c hangup(), within a second).  Besides those:
 *
 *  wait           entered in         also left by                  test
 *  WAIT_CONTINUE  on_continue()      libcurl wants the body        expect_quiet
 *                 (Expect: 100-      (on_read(): the backend's     early_answer_faults
 *                 continue)          100, or its 1 s timer);
 *                                    a final answer (on_header())
 *  WAIT_UPLOAD    on_body(): upload  half the buffer free          upload_stall
 *                 buffer full        (on_read()); an early answer  early_answer
 *  WAIT_TOKENS    on_body(), reader  the shaper's timer            limit_upload
 *                 (limits)           (shaper_expire()); for an     limit_rate
 *                                    upload, an early answer
 *  WAIT_HEADERS   on_final()         the final headers             backend_timeout
 *                                    (on_header())
 *  WAIT_DATA      reader(): buffer   body bytes (on_write())       stall_timeout
 *                 empty                                            hangup_waiting
 *  WAIT_ADMIT     on_admitting()     the cluster thread's answer,  cluster_conns
 *                 (cluster mode)     at most CLUSTER_ADMIT_MS      cluster_redis_down
 *                                    (no transfer yet: a hang-up
 *                                    is seen after it)
 *
 * An early answer is an error answer (300 and over) before the whole body
 * was sent: libcurl stops sending, the rest is dropped.
 *
 * stall-timeout counts a transfer paused for a slow client as moving (the
 * client's own deadline, client-timeout, applies to a connection that is
 * not suspended); one we paused after an early answer is not exempt.
 * Not suspended, a connection reads the request, drops a body after an
 * early answer (server.c discard(): 64 MiB, client-timeout) or sends the
 * response, each under libmicrohttpd's client-timeout.
 */
enum req_wait {
	WAIT_NONE,
	WAIT_HEADERS,		/* for the backend's status line and headers */
	WAIT_DATA,		/* for body bytes from the backend */
	WAIT_UPLOAD,		/* for room in the upload buffer */
	WAIT_TOKENS,		/* for the limiter (timer in shaper.c) */
	WAIT_CONTINUE,		/* for the backend's 100, final answer, or
				 * libcurl's wish to send the body */
	WAIT_ADMIT,		/* for the cluster's slot (cluster.h) */
};

/* How a download is buffered, chosen when it starts (shaper_enter()). */
enum req_pace {
	PACE_PLAIN,		/* no download limit */
	PACE_SHAPED,		/* limited: a buffer of two chunks of 16 KiB
				 * or more, so the reader rarely waits for
				 * data between grants (fair shares) */
	PACE_SLOW,		/* own rate <= SHAPER_SLOW_RATE: a 32 KiB
				 * buffer, refilled (8 KiB reads) when empty
				 * and the next grant's tokens are due
				 * (server.c reader()), and given back as
				 * soon as it is empty (upstream.c
				 * slow_bufs) */
};

/* Commands to a request's backend side (bit set, see upstream_post()). */
#define CMD_START	0x01
#define CMD_RESUME_RECV	0x02	/* room in the download buffer */
#define CMD_RESUME_SEND	0x04	/* bytes or EOF in the upload buffer */
#define CMD_CANCEL	0x08	/* the client side is finished */

struct request {
	pthread_mutex_t		 lock;
	atomic_uint		 refs;
	uint64_t		 id;			/* [I] for logs */

	struct uloop		*loop;			/* [I] the event loop
							   that runs r
							   (upstream.h) */
	struct MHD_Connection	*con;			/* [I] */
	int			 client_fd;		/* [I] */
	uint64_t		 conn_id;		/* [I] client connection */
	char			 client_addr[INET6_ADDRSTRLEN]; /* [I] */
	char			 limit_addr[INET6_ADDRSTRLEN]; /* [I] client
							 * address for limits */
	char			*target;		/* [I] raw, owned */
	char			 method[16];		/* [I] */
	char			 version[16];		/* [I] */
	char			*url;			/* [I] upstream, owned */
	struct curl_slist	*req_headers;		/* [I] owned */
	bool			 has_body;		/* [I] */
	int64_t			 req_length;		/* [I] -1: chunked */
	bool			 head;			/* [I] */
	bool			 expect;		/* [I] Expect: 100-continue
							 * held until the backend
							 * wants the body */
	uint64_t		 t_start;		/* [I] ns, monotonic */

	enum req_state		 state;			/* [M] */
	bool			 shaped;		/* [M] in the shaper */
	enum cluster_admit	 admit;			/* [L] cluster's answer */
	bool			 slot;			/* [L] holds a cluster
							   slot: released at
							   the end */
	enum req_pace		 pace;			/* [I] buffer policy */
	struct lim_flow		 flow;			/* [S] limiter state */
	size_t			 heap_idx;		/* [S] timer slot, 0: none */
	uint64_t		 tok_at;		/* [S] ns the timer fires */
	unsigned		 log_status;		/* [M] status sent */
	const char		*upstream_error;	/* [M] static text */
	const char		*refused;		/* [M] static text: why
							 * the proxy refused the
							 * request (access log) */
	bool			 listed;		/* [C] on the active list */
	CURL			*easy;			/* [C] */
	size_t			 easy_chunk;		/* [C] easy's receive buffer
							   size (upstream.c pool) */
	uint64_t		 progress_bytes;	/* [C] moved at t_progress */
	uint64_t		 t_progress;		/* [C] ns, last progress */
	bool			 stalled;		/* [C] stall timeout hit */
	bool			 cancelled;		/* [C] client done, await curl */
	uint64_t		 recv_bytes;		/* [C] body bytes from backend */
	struct request		*next, *prev;		/* [C] active list */
	struct request		*wake_next;		/* [C] upstream.c woken */
	bool			 wake_queued;		/* [C] on that list */
	struct request		*cmd_next;		/* queue lock */
	unsigned		 cmds;			/* queue lock */

	enum req_upstream	 up;			/* [L] */
	enum req_wait		 wait;			/* [L] */
	uint64_t		 t_wait;		/* [L] ns, WAIT_TOKENS began */
	CURLcode		 result;		/* [L] */
	bool			 gone;			/* [L] client side ended */
	bool			 hup;			/* [L] client hung up */
	bool			 curl_done;		/* [L] the backend side is
							   done with r: no
							   CMD_CANCEL needed */
	bool			 down_paused;		/* [L] curl write paused */
	bool			 down_grow;		/* [L] paused since last empty */
	bool			 down_shrink;		/* [L] client stopped draining:
							   no refill until `down`
							   fits down_init, then
							   shrink it to that */
	uint64_t		 t_handed;		/* [L] ns, the reader last
							   returned bytes; 0 after
							   a suspension */
	bool			 refill;		/* [L] PACE_SLOW, empty, waits
							   for tokens: refill when
							   they are due (shaper.c) */
	bool			 body_in;		/* [L] curl has the whole
							   response body */
	size_t			 credit;		/* [L] bytes granted, not sent */
	bool			 up_paused;		/* [L] curl read paused */
	bool			 upload_eof;		/* [L] client body complete */
	bool			 want_body;		/* [L] libcurl asked for
							   body bytes */
	uint64_t		 t_up_wake;		/* [L] ns of the last wake-up
							   of the upload (on_body) */
	bool			 sent_all;		/* [C] curl has the whole
							   request body, or none */
	uint64_t		 sent_bytes;		/* [C] body bytes handed
							   to libcurl */
	int			 up_fd;			/* [C] backend socket as
							   libcurl last named it,
							   -1: not yet */
	unsigned		 read_first;		/* [C] sends held in a row
							   for bytes waiting to be
							   read (on_read()) */
	unsigned		 wake_mask;		/* [C] wakes due after the
							   libcurl call (woken) */
	bool			 early;			/* [L] the final answer
							   came before the whole
							   body was sent: the rest
							   is discarded */
	bool			 early_end;		/* [C] early, and the
							   answer's body is all in:
							   the transfer is ended */
	uint64_t		 discarded;		/* [M] body bytes dropped */
	uint64_t		 t_early;		/* [M] ns, first drop */
	struct ring		 down;			/* [L] backend -> client */
	struct ring		 upload;		/* [L] client -> backend */
	size_t			 down_max;		/* [I] cap of `down` */
	size_t			 chunk;			/* [L] backend recv size;
							   PACE_SLOW: refill size */
	size_t			 down_init;		/* [C] first cap of `down` */
	uint64_t		 bytes_out;		/* [L] body bytes to client */
	uint64_t		 bytes_in;		/* [L] body bytes from client */
	uint64_t		 t_headers;		/* [L] ns, backend headers in */
	uint64_t		 t_first_out;		/* [L] ns, first body byte out */
	uint64_t		 t_rate;		/* [L] ns, start of rate window */
	uint64_t		 bytes_rate;		/* [L] bytes_out at t_rate */

	/* Written by the curl thread before `up` leaves UP_PENDING, read by
	 * the worker after it saw that under the lock. */
	long			 status;
	int64_t			 resp_length;		/* -1: unknown */
	char			*resp_headers;		/* "Name: value\r\n"... */
	size_t			 resp_headers_len;
	size_t			 resp_headers_cap;
	char			 conn_tokens[256];	/* upstream Connection value */
	unsigned		 resp_lengths;		/* Content-Length lines */
	bool			 resp_coded;		/* Transfer-Encoding seen */
	bool			 resp_close;		/* the backend closes the
							 * connection after it */
	const char		*bad_response;		/* static text: why the
							 * response was refused
							 * (502), or NULL */
};

/* Returns a new request with one reference (libmicrohttpd's), or NULL. */
struct request	*request_new(const char *raw_target, size_t down_max);
void		 request_ref(struct request *);
void		 request_unref(struct request *);
/* Suspends r's connection, waiting for `why`.  Called by the worker that
 * runs the connection, from the access handler or the content reader,
 * with r's lock held (so that no waker can see `wait` set before the
 * connection is really suspended).  Returns false, without suspending,
 * once request_shut_gate() was called. */
bool		 request_suspend(struct request *r, enum req_wait why);
/* After this no connection suspends any more: request_suspend() returns
 * false, and its caller ends the request instead (shutdown, once every
 * transfer was failed).  Main thread. */
void		 request_shut_gate(void);
/* The count behind request_suspend(), for other suspensions (park.h):
 * enter before suspending (false once the gate is shut: do not), leave
 * after resuming.  Any thread. */
bool		 request_gate_enter(void);
void		 request_gate_leave(void);
/* Resumes r's connection if it waits for one of the reasons in mask
 * (WAKE(WAIT_x) | ...).  Any thread, without r's lock.  Returns true if it
 * resumed. */
bool		 request_wake(struct request *r, unsigned mask);
#define WAKE(w)	(1u << (w))
#define WAKE_ANY (WAKE(WAIT_HEADERS) | WAKE(WAIT_DATA) | WAKE(WAIT_UPLOAD) | \
	    WAKE(WAIT_TOKENS) | WAKE(WAIT_CONTINUE) | WAKE(WAIT_ADMIT))
/* fn(loop) is called after each resume by request_wake(), in the
 * resuming thread.  Main thread, at start-up. */
void		 request_on_resume(void (*fn)(struct uloop *));
/* Connections suspended now. */
int		 request_suspended(void);
/* Requests alive now (for graceful shutdown). */
unsigned	 request_count(void);
/* Monotonic clock in nanoseconds. */
uint64_t	 request_now(void);

#endif
