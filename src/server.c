/*
 * server: libmicrohttpd callbacks that take a request in, start its
 * backend transfer (upstream.h), and stream the backend's answer back;
 * and the daemons, one per event loop, run through the loops' hooks.
 *
 * Access handler call sequence (libmicrohttpd 0.9.75): a first call with no
 * body, body calls, then a final call with *upload_data_size == 0; a final
 * call that suspends is repeated after resume.  The phase is kept in
 * r->state, never inferred from the arguments.
 */

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "headers.h"
#include "httpcheck.h"
#include "accesslog.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "s3err.h"
#include "server.h"
#include "shaper.h"
#include "target.h"
#include "tlscred.h"
#include "tlspush.h"
#include "tlsticket.h"
#include "tlsread.h"
#include "tlswatch.h"
#include "cluster.h"
#include "conntab.h"
#include "reaper.h"
#include "listener.h"
#include "park.h"
#include "upstream.h"

/* Bytes the content reader may hand libmicrohttpd per call; libmicrohttpd
 * allocates this much per response.  16 KiB or more keeps TLS records
 * full; more costs memory per slow client. */
#define RESPONSE_BLOCK	(16 * 1024)
/* Most tokens a download takes at once, in bytes: two blocks.  What
 * libmicrohttpd does not take in this call is kept as credit for the next
 * one, in the same pass, so that a rate-limited download is suspended and
 * resumed once per two TLS records, not per record (1,000 downloads at
 * 64 KiB/s: about 9 % less CPU). */
#define GRANT_MAX	(2 * RESPONSE_BLOCK)
/* Download buffer growth (see should_grow()), in ns. */
#define GROW_SETTLE	(100 * 1000000ULL)
#define GROW_HORIZON	(10 * 1000000ULL)
#define DRAIN_STALL	(1000 * 1000000ULL)
/* Connection memory beyond header-max: the reply's header section. */
#define POOL_SLACK	(4 * 1024)
/* Upload buffer per request, in bytes. */
#define UPLOAD_BUFFER	(256 * 1024)
/* MHD_run()s in a row while libmicrohttpd has bytes ready (daemon_run()). */
#define DAEMON_RUNS	4
/* A backend transfer waiting for upload data is woken when this much is
 * buffered, or when it last was this long ago (ns), or at the end of the
 * body: one wake-up per TLS record cost a third of the upload speed, and
 * a slow sender still has each chunk forwarded at once. */
#define UPLOAD_WAKE_BYTES	(64 * 1024)
/* Most body bytes read and dropped after an early answer (discard()). */
#define DISCARD_MAX		(64 * 1024 * 1024ULL)
#define UPLOAD_WAKE_NS		(100 * 1000000ULL)
/* libmicrohttpd's connection limit over ours: admit() decides, and
 * connections still closing count against the library's limit. */
#define LIMIT_SLACK		16

static const struct config	*cfg;
/* One daemon per event loop (upstream.h), run by that loop's thread. */
#define DAEMONS_MAX		256
static struct MHD_Daemon	*daemons[DAEMONS_MAX];
static unsigned			 ndaemons;
static atomic_uint_fast64_t	 next_conn_id = 1;
static atomic_bool		 draining;	/* server_quiesce() was called */
/* Connections refused by admit(), and when that was last logged (ns):
 * one line a second at most, however many. */
static atomic_uint_fast64_t	 refused_accepts, refused_logged;
/* Set by the worker thread that ends a request because its client left,
 * just before libmicrohttpd logs why it closes the connection: that
 * line is the access log's 499, not an error (mhd_logger()). */
static _Thread_local bool	 client_left;

/* Per client connection (libmicrohttpd's socket context); touched only
 * by the worker thread that runs the connection. */
struct conn {
	uint64_t	 id;
	int		 fd;		/* -1 until known */
	bool		 watched;	/* in its loop's hang-up set */
	bool		 pushed;	/* tlspush_attach()ed */
	struct tlscred	*cred;		/* its pair's reference, or NULL */
	struct conntab_entry *ct;	/* NULL: not tracked (out of memory) */
};

/* Moves the connection's conntab entry to phase (see conntab.h).
 * Returns 0, or -1 if the reaper already ended the connection. */
static int
conn_enter(struct MHD_Connection *con, enum conntab_phase phase)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *c;
	bool kick = false;

	ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (c = ci->socket_context) == NULL || c->ct == NULL)
		return 0;
	if (conntab_phase(c->ct) == CT_EXPIRED)
		return -1;
	conntab_enter(c->ct, phase, request_now(), &kick);
	if (kick)
		reaper_kick();
	return 0;
}

/* Whether a connection from sa is exempt from the per-address cap: a
 * trusted proxy (a load balancer) stands for many clients. */
static bool
peer_exempt(const struct sockaddr *sa)
{
	char a[INET6_ADDRSTRLEN];

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, a, sizeof(a));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, a, sizeof(a));
	else
		return false;
	return shaper_trusted(a);
}

/* The listener's admission (listener.h), in its thread, before the
 * connection goes to libmicrohttpd and before any TLS work: it is
 * registered here, under the caps, so that a flood cannot pass the
 * per-address cap while workers have yet to see the connections.  At
 * the connection limit a client learns it at once instead of waiting in
 * the listen queue, and one address cannot take every connection.
 * Returns 0, or -1: refused (the listener closes the socket). */
static int
admit(int fd, const struct sockaddr *sa)
{
	bool exempt = peer_exempt(sa), kick = false;
	uint64_t now, last;

	if (conntab_admit(sa, exempt) && conntab_open(fd, sa, exempt,
	    cfg->tls ? CT_HANDSHAKE : CT_HEADERS, request_now(), &kick) !=
	    NULL) {
		if (kick)
			reaper_kick();
		metrics_add(MC_CONN_ACCEPTED, 1);
		return 0;
	}
	metrics_add(MC_CONN_REFUSED, 1);
	atomic_fetch_add(&refused_accepts, 1);
	now = request_now();
	last = atomic_load(&refused_logged);
	if (now - last >= 1000000000ULL &&
	    atomic_compare_exchange_strong(&refused_logged, &last, now))
		log_warn("refused %llu connections so far: at the connection "
		    "limit (%u open) or the per-address limit",
		    (unsigned long long)atomic_load(&refused_accepts),
		    conntab_count());
	return -1;
}

/* libmicrohttpd refused a connection admit() registered (and closed
 * it): no other thread accepts, so its number is not in use again yet. */
static void
dropped(int fd)
{
	conntab_close(conntab_byfd(fd));
}

static void
on_connection(void *cls, struct MHD_Connection *con, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct conn *c = *ctx;
	const union MHD_ConnectionInfo *ci, *ti;
	int one = 1;
	bool nodelay;

	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			*ctx = NULL;
			return;
		}
		c->id = atomic_fetch_add(&next_conn_id, 1);
		ci = MHD_get_connection_info(con,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci != NULL ? ci->connect_fd : -1;
		/* Nagle off: a handshake flight or an answer's last record
		 * waits for no acknowledgement (fresh handshakes waited up to
		 * ~40 ms).  Records with more behind them are still sent
		 * together: tlspush's MSG_MORE, libmicrohttpd's TCP_CORK. */
		nodelay = c->fd >= 0 && setsockopt(c->fd, IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one)) == 0;
		ti = MHD_get_connection_info(con,
		    MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (ti != NULL && ti->tls_session != NULL && c->fd >= 0) {
			tlspush_attach(ti->tls_session, c->fd, nodelay);
			park_attach(c->fd, con);
			tlswatch_attach(ti->tls_session);
			c->pushed = true;
		}
		/* Registered by admit() in the listener's thread; handed
		 * over with the connection, under libmicrohttpd's lock. */
		c->ct = conntab_byfd(c->fd);
		/* Before the handshake, which runs after this returns. */
		if (ti != NULL && ti->tls_session != NULL)
			c->cred = tlscred_attach(ti->tls_session);
		if (ti != NULL && ti->tls_session != NULL &&
		    cfg->tls_resumption &&
		    tlsticket_enable(ti->tls_session) == -1)
			log_warn("connection %llu: session tickets could not "
			    "be enabled", (unsigned long long)c->id);
		*ctx = c;
		return;
	}
	/* Called before libmicrohttpd closes the socket: unwatch now, or a
	 * new connection could get the number while still registered. */
	if (c != NULL && c->watched)
		upstream_unwatch(c->fd);
	if (c != NULL && c->pushed) {
		tlspush_forget(c->fd);
		tlsread_forget(c->fd);
		park_forget(c->fd);
	}
	if (c != NULL) {
		/* One closed at its handshake deadline was counted by the
		 * reaper (CT_EXPIRED now). */
		if (cfg->tls && c->ct != NULL &&
		    conntab_phase(c->ct) == CT_HANDSHAKE)
			metrics_add(MC_TLS_FAILURES, 1);
		conntab_close(c->ct);
	}
	/* The session was deinitialised before this notification (or never
	 * began a handshake): nothing reads the pair any more. */
	if (c != NULL)
		tlscred_release(c->cred);
	free(c);
	*ctx = NULL;
}

/* libmicrohttpd's messages about what a client did (left mid-request or
 * mid-answer, sent a request it refused itself): the access log has the
 * request with its status, 499 or the library's 4xx; not our errors. */
static const char *const by_client[] = {
	"Connection was closed by remote side",
	"Socket has been disconnected when reading request",
	"Connection socket is closed when reading request",
	"Failed to send the response",
	"Failed to send the chunked response body",
	"Failed to send the footers",
	"Error processing request (HTTP response code is 4",
};

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[1024];
	size_t len, i;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	if (client_left && (strstr(msg, "Application reported internal "
	    "error") != NULL || strstr(msg, "application reported error "
	    "generating data") != NULL)) {
		client_left = false;
		return;
	}
	/* libmicrohttpd's words for any failed handshake: a client that
	 * closed during it, a port scanner, plain HTTP on the TLS port.  The
	 * client's doing, counted in the metrics: not an error of ours. */
	if (strstr(msg, "received handshake message out of context") != NULL) {
		log_info("http: a client's TLS handshake failed (it closed "
		    "the connection or sent no valid TLS)");
		return;
	}
	for (i = 0; i < sizeof(by_client) / sizeof(by_client[0]); i++)
		if (strncmp(msg, by_client[i], strlen(by_client[i])) == 0) {
			log_info("http: client: %s", msg);
			return;
		}
	log_error("http: %s", msg);
}

/* Ends the request of a client that hung up (see client_left). */
static enum MHD_Result
hung_up(struct request *r)
{
	pthread_mutex_unlock(&r->lock);
	client_left = true;
	return MHD_NO;
}

/* Adds the deployment's security headers to an HTTPS response, each only
 * where the response has none of that name: a backend's own
 * X-Frame-Options (say SAMEORIGIN) is its answer, and two values would
 * leave the browser to pick. */
static void
add_security_headers(struct MHD_Response *resp)
{
	static const char *hdr[][2] = {
		{ "Strict-Transport-Security",
		    "max-age=31536000; includeSubDomains" },
		{ "X-Frame-Options", "DENY" },
		{ "X-Content-Type-Options", "nosniff" },
	};
	size_t i;

	if (!cfg->tls || !cfg->security_headers)
		return;
	for (i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++)
		if (MHD_get_response_header(resp, hdr[i][0]) == NULL)
			MHD_add_response_header(resp, hdr[i][0], hdr[i][1]);
}

/* The headers the proxy adds to every answer: the security headers, and
 * while draining (SIGTERM) Connection: close, so that a kept-alive client
 * goes elsewhere for its next request instead of meeting the stop. */
static void
add_proxy_headers(struct MHD_Response *resp)
{
	add_security_headers(resp);
	if (atomic_load(&draining))
		MHD_add_response_header(resp, "Connection", "close");
}

/* Queues the proxy's own S3-style error reply; with `close`, the
 * connection is closed after it (after a framing error nothing more on the
 * connection can be trusted).  Returns MHD_queue_response's result. */
static enum MHD_Result
reply_error(struct request *r, enum s3err err, const char *detail, bool close)
{
	char body[S3ERR_MAX], rid[32];
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int len;

	snprintf(rid, sizeof(rid), "%016llx", (unsigned long long)r->id);
	if ((len = s3err_format(body, sizeof(body), err, detail, r->target,
	    rid)) < 0)
		len = 0;
	r->state = REQ_RESPONDING;
	r->log_status = s3err_status(err);
	if (!r->head) {
		pthread_mutex_lock(&r->lock);
		r->bytes_out = (uint64_t)len;	/* sent with the reply */
		pthread_mutex_unlock(&r->lock);
		metrics_add(MC_BYTES_OUT, (uint64_t)len);
	}
	resp = MHD_create_response_from_buffer((size_t)len, body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/xml");
	MHD_add_response_header(resp, "x-amz-request-id", rid);
	if (err == S3ERR_SLOW_DOWN)
		MHD_add_response_header(resp, "Retry-After", "1");
	if (close)
		MHD_add_response_header(resp, "Connection", "close");
	add_proxy_headers(resp);
	ret = MHD_queue_response(r->con, s3err_status(err), resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
respond_error(struct request *r, enum s3err err, const char *detail)
{
	return reply_error(r, err, detail, false);
}

/* --- the strict reading of the request (the connection's loop) -------------------- */

/*
 * libmicrohttpd 0.9.75 parses the header section in place, in its read
 * buffer, and keeps pointers into it.  The request line "GET /t HTTP/1.1"
 * becomes "GET\0/t\0HTTP/1.1" and a field line "Name: value" becomes
 * "Name\0value"; each line end is a NUL for CR and one for LF (one NUL for a
 * bare LF).  The section spans header_size bytes from the method.  What the
 * library does not refuse, and its parsed values do not show, is seen by
 * walking that layout from the request line to the end of the section:
 *  - an obs-fold continuation line is appended to the *name*, in a new
 *    block of its pool ("X-A: first\r\n second" becomes "X-Asecond:
 *    first"): the name is not where the previous line ended;
 *  - a NUL byte in a value or in the target cuts it short: more NULs, or
 *    bytes, where only the line end may be.
 * Either makes the request "torn": 400, as nginx answers.  A later
 * libmicrohttpd refuses these itself; this walk then only passes.
 */
struct check_ctx {
	struct httpcheck_req	 hc;
	bool			 torn;
	const char		*pos;	/* end of the last line's content */
	const char		*end;	/* end of the header section */
};

/* Steps over the NULs of a line end (and of the blank line, when `last`)
 * from k->pos.  Returns where they stop, or NULL if there are too few or
 * too many. */
static const char *
skip_line_end(const struct check_ctx *k, bool last)
{
	const char *p = k->pos;

	while (p < k->end && *p == '\0')
		p++;
	if (p - k->pos < (last ? 2 : 1) || p - k->pos > (last ? 4 : 2))
		return NULL;
	return p;
}

static enum MHD_Result
check_field(void *cls, enum MHD_ValueKind kind, const char *name,
    size_t namelen, const char *value, size_t valuelen)
{
	struct check_ctx *k = cls;
	const char *p;

	(void)kind;
	if (k->torn || name == NULL || value == NULL ||
	    skip_line_end(k, false) != name || value < name + namelen + 1 ||
	    value > k->end || (size_t)(k->end - value) < valuelen) {
		k->torn = true;
		return MHD_NO;
	}
	/* Name, its ':' turned NUL, optional white space, the value. */
	for (p = name + namelen + 1; p < value && (*p == ' ' || *p == '\t');
	    p++)
		;
	if (name[namelen] != '\0' || p != value) {
		k->torn = true;
		return MHD_NO;
	}
	k->pos = value + valuelen;
	/* As received: libmicrohttpd keeps trailing white space, and reads
	 * "chunked " as not chunked. */
	httpcheck_req_field(&k->hc, name, namelen, value, valuelen);
	return MHD_YES;
}

/* Reads r's header section strictly into *hc; url, method and version are
 * the access handler's arguments (pointers into the section).  Returns
 * HTTPCHECK_OK, or the status to refuse the request with (hc->why says
 * why). */
static int
check_request(struct request *r, const char *url, const char *method,
    const char *version, struct httpcheck_req *hc)
{
	struct check_ctx k = { .torn = false };
	const union MHD_ConnectionInfo *ci;

	httpcheck_req_init(&k.hc, version);
	ci = MHD_get_connection_info(r->con,
	    MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci == NULL || url == NULL || method == NULL || version == NULL)
		k.torn = true;
	else {
		k.end = method + ci->header_size;
		/* The target ends where the version starts: a NUL in it
		 * would end r->target early. */
		if (url + strlen(r->target) + 1 != version ||
		    version >= k.end)
			k.torn = true;
		k.pos = version + strlen(version);
	}
	if (!k.torn) {
		MHD_get_connection_values_n(r->con, MHD_HEADER_KIND,
		    check_field, &k);
		if (!k.torn && skip_line_end(&k, true) != k.end)
			k.torn = true;
	}
	if (k.torn && k.hc.verdict == HTTPCHECK_OK) {
		k.hc.verdict = HTTPCHECK_BAD;
		k.hc.why = "A header field line is folded, or a line has a "
		    "NUL byte.";
	}
	httpcheck_req_end(&k.hc);
	*hc = k.hc;
	return k.hc.verdict;
}

/* --- building the backend request (the connection's loop) ------------------------- */

struct hdr_ctx {
	struct request	*r;
	size_t		 total;		/* bytes of the header section */
	const char	*connection;
	char		*xff;		/* client's X-Forwarded-For lines,
					 * joined with ", " (RFC 9110 5.3);
					 * malloc'd, NULL if none */
	bool		 has_accept;
	bool		 has_expect;
	bool		 failed;
};

static int
append_header(struct curl_slist **list, const char *name, const char *value)
{
	struct curl_slist *n;
	char *line;
	int len;

	/* libcurl reads "Name:" as "remove the header" and "Name;" as "send it
	 * empty". */
	if (value == NULL || value[0] == '\0')
		len = asprintf(&line, "%s;", name);
	else
		len = asprintf(&line, "%s: %s", name, value);
	if (len < 0)
		return -1;
	n = curl_slist_append(*list, line);
	free(line);
	if (n == NULL)
		return -1;
	*list = n;
	return 0;
}

/* Appends one X-Forwarded-For line to h->xff.  Returns 0 or -1. */
static int
join_xff(struct hdr_ctx *h, const char *value)
{
	char *joined;

	if (h->xff == NULL)
		joined = strdup(value);
	else if (asprintf(&joined, "%s, %s", h->xff, value) < 0)
		joined = NULL;
	if (joined == NULL)
		return -1;
	free(h->xff);
	h->xff = joined;
	return 0;
}

static enum MHD_Result
copy_header(void *cls, enum MHD_ValueKind kind, const char *name,
    const char *value)
{
	struct hdr_ctx *h = cls;

	(void)kind;
	h->total += strlen(name) + strlen(value != NULL ? value : "") + 4;
	if (strcasecmp(name, "X-Forwarded-For") == 0 && value != NULL &&
	    value[0] != '\0' && join_xff(h, value) == -1) {
		h->failed = true;
		return MHD_NO;
	}
	if (strcasecmp(name, "Accept") == 0)
		h->has_accept = true;
	if (strcasecmp(name, "Expect") == 0)
		h->has_expect = true;
	if (headers_skip_request(name, h->connection))
		return MHD_YES;
	if (append_header(&h->r->req_headers, name, value) == -1) {
		h->failed = true;
		return MHD_NO;
	}
	return MHD_YES;
}

/* Builds r's upstream header list.  *xff_out gets the client's
 * X-Forwarded-For lines joined into one list (malloc'd, the caller frees
 * it; NULL if none).  Returns 0, -1 if memory is short, or -2 if the
 * header section is larger than header-max. */
static int
build_headers(struct request *r, char **xff_out)
{
	struct hdr_ctx h = { .r = r };
	const char *host;
	char *xff;
	int rc;

	*xff_out = NULL;
	h.connection = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND,
	    "Connection");
	MHD_get_connection_values(r->con, MHD_HEADER_KIND, copy_header, &h);
	*xff_out = h.xff;
	if (h.failed)
		return -1;
	if (h.total > cfg->header_max)
		return -2;
	host = cfg->host[0] != '\0' ? cfg->host :
	    MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "Host");
	if (host != NULL && append_header(&r->req_headers, "Host", host) == -1)
		return -1;
	/* The whole list, every line of it, plus the peer: what the limits
	 * read and what the backend gets are the same list. */
	if (h.xff != NULL)
		rc = asprintf(&xff, "%s, %s", h.xff, r->client_addr);
	else
		rc = asprintf(&xff, "%s", r->client_addr);
	if (rc < 0)
		return -1;
	rc = append_header(&r->req_headers, "X-Forwarded-For", xff);
	free(xff);
	if (rc == -1 ||
	    append_header(&r->req_headers, "X-Forwarded-Proto",
	    cfg->tls ? "https" : "http") == -1)
		return -1;
	/* Suppress what libcurl would add on its own: the backend sees the
	 * client's request, not curl's.  The client's own Expect goes
	 * upstream: the backend answers it (on_continue()). */
	if (!h.has_expect && curl_slist_append(r->req_headers, "Expect:") ==
	    NULL)
		return -1;
	if (!h.has_accept && curl_slist_append(r->req_headers, "Accept:") ==
	    NULL)
		return -1;
	return 0;
}

/* Sets r->client_addr from the connection's peer, "-" if unknown. */
static void
client_address(struct request *r)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(r->con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)
			    (const void *)sa)->sin_addr, r->client_addr,
			    sizeof(r->client_addr));
		else if (sa->sa_family == AF_INET6) {
			const struct in6_addr *a = &((const struct sockaddr_in6 *)
			    (const void *)sa)->sin6_addr;

			if (IN6_IS_ADDR_V4MAPPED(a))
				inet_ntop(AF_INET, &a->s6_addr[12],
				    r->client_addr, sizeof(r->client_addr));
			else
				inet_ntop(AF_INET6, a, r->client_addr,
				    sizeof(r->client_addr));
		}
	}
	if (r->client_addr[0] == '\0')
		snprintf(r->client_addr, sizeof(r->client_addr), "-");
}

static void
client_info(struct request *r)
{
	const union MHD_ConnectionInfo *ci;

	client_address(r);
	ci = MHD_get_connection_info(r->con, MHD_CONNECTION_INFO_CONNECTION_FD);
	r->client_fd = ci != NULL ? ci->connect_fd : -1;
	ci = MHD_get_connection_info(r->con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci != NULL && ci->socket_context != NULL) {
		struct conn *c = ci->socket_context;

		r->conn_id = c->id;
		/* Watched once per connection, not per request: keep-alive
		 * requests cost no epoll_ctl(). */
		if (!c->watched && c->fd >= 0) {
			upstream_watch(c->fd, c->id);
			c->watched = true;
		}
	}
}

static enum MHD_Result	on_continue(struct request *);
static enum MHD_Result	on_admitting(struct request *);

/* First call: check the request, start the backend transfer.  Nothing goes
 * upstream before the whole header section has been read strictly.  A
 * request with "Expect: 100-continue" waits in on_continue(). */
static enum MHD_Result
on_first(struct request *r, const char *url, const char *method,
    const char *version)
{
	struct httpcheck_req hc;
	char *xff = NULL;
	enum MHD_Result ret;
	uint64_t max;
	int rc;

	client_info(r);
	snprintf(r->version, sizeof(r->version), "%s", version);
	snprintf(r->method, sizeof(r->method), "%s", method);
	r->head = strcmp(method, "HEAD") == 0;
	if ((rc = check_request(r, url, method, version, &hc)) !=
	    HTTPCHECK_OK) {
		r->refused = hc.why;
		return reply_error(r, rc == HTTPCHECK_NOT_IMPL ?
		    S3ERR_NOT_IMPLEMENTED : S3ERR_BAD_REQUEST, hc.why, true);
	}
	/* Any method the backend may know goes to it, as it would directly;
	 * only one too long to be real is the proxy's to refuse. */
	if (strlen(method) >= sizeof(r->method) ||
	    !httpcheck_token(method, strlen(method))) {
		r->refused = "method too long or not a token";
		return reply_error(r, S3ERR_NOT_IMPLEMENTED, "The method is not "
		    "implemented.", true);
	}
	if (target_validate(r->target) == -1)
		return respond_error(r, S3ERR_INVALID_URI, NULL);
	if (hc.chunked) {
		r->has_body = true;
		r->req_length = -1;	/* chunked: upstream chunked too */
	} else if (hc.length >= 0) {
		r->req_length = hc.length;
		r->has_body = r->req_length > 0;
	}
	rc = build_headers(r, &xff);
	/* A Content-Length of 0 on a request without a body (GET, HEAD,
	 * DELETE) goes out as sent: the client may have signed it.  PUT and
	 * POST get theirs from libcurl, 0 included. */
	if (rc == 0 && hc.length == 0 && strcmp(method, "PUT") != 0 &&
	    strcmp(method, "POST") != 0 &&
	    append_header(&r->req_headers, "Content-Length", "0") == -1)
		rc = -1;
	if (rc == -2) {
		ret = respond_error(r, S3ERR_HEADERS_TOO_LARGE, NULL);
		goto out;
	}
	if (rc == -1 || (r->url = target_upstream_path(cfg->upstream,
	    r->target)) == NULL) {
		ret = respond_error(r, S3ERR_INTERNAL, NULL);
		goto out;
	}
	/* Limits apply to GETs (rate, max-connections) and to PUT and POST
	 * bodies (upload rate); HEAD and DELETE are neither limited nor
	 * counted, as in the deployment.  They key on the same joined
	 * X-Forwarded-For list the backend gets. */
	if (strcmp(method, "GET") == 0) {
		if (shaper_enter(r, false, xff) == -1) {
			metrics_add(MC_SLOWDOWN, 1);
			ret = respond_error(r, S3ERR_SLOW_DOWN, NULL);
			goto out;
		}
		/* One gauge per pace, in the enum's order. */
		_Static_assert(MC_DOWNLOADS_SLOW - MC_DOWNLOADS_PLAIN ==
		    PACE_SLOW - PACE_PLAIN && PACE_PLAIN == 0,
		    "metrics' download gauges follow enum req_pace");
		metrics_add(MC_DOWNLOADS_PLAIN + r->pace, 1);
		/* Across replicas too: one round trip to Redis, while the
		 * connection waits suspended (cluster.h). */
		if (cluster_on() && r->shaped && !r->has_body &&
		    (max = shaper_max_conns()) > 0) {
			cluster_admit(r, max > UINT_MAX ? UINT_MAX :
			    (unsigned)max);
			r->state = REQ_ADMITTING;
			ret = on_admitting(r);
			goto out;
		}
	}
	if ((strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0) &&
	    r->has_body)
		(void)shaper_enter(r, true, xff);
	/* "Expect: 100-continue" is the backend's to answer: the client's 100
	 * waits until libcurl wants the body (the backend's 100, or its own
	 * timer), and a refusal reaches the client before it sends any. */
	r->expect = r->has_body && hc.expect_continue &&
	    strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
	r->state = r->expect ? REQ_CONTINUE : REQ_FORWARDING;
	upstream_post(r, CMD_START);
	ret = r->expect ? on_continue(r) : MHD_YES;
out:
	free(xff);
	return ret;
}

/* The backend answered before the whole body was sent (or failed): the
 * rest of the body is read and dropped, so that the answer can be queued
 * at the final call (libmicrohttpd 0.9.75 cannot send a response while a
 * body is still coming in).  Bounded, as nginx bounds its lingering
 * close: at most DISCARD_MAX bytes and client-timeout from the first
 * dropped byte; past either, or if the declared rest is larger, the
 * connection is closed without the answer. */
static enum MHD_Result
discard(struct request *r, size_t *size)
{
	uint64_t now = request_now(), left = 0;

	if (r->t_early == 0)
		r->t_early = now;
	r->discarded += *size;
	if (r->req_length >= 0)
		left = (uint64_t)r->req_length - r->bytes_in - r->discarded;
	*size = 0;
	if (r->discarded + left > DISCARD_MAX ||
	    now - r->t_early > cfg->client_timeout_ms * 1000000ULL) {
		r->refused = "the body left after the backend's answer is too "
		    "large or too slow to discard";
		return MHD_NO;
	}
	return MHD_YES;
}

/* Body call: move what fits (and what the upload rate allows) into the
 * upload buffer; suspend when full or out of tokens. */
static enum MHD_Result
on_body(struct request *r, const char *data, size_t *size)
{
	struct shaper_wake w = { .n = 0 };
	bool wake = false, tokens = false;
	size_t n, want;

	pthread_mutex_lock(&r->lock);
	if (r->hup)
		return hung_up(r);
	if (r->early || r->up == UP_DONE || r->up == UP_FAILED) {
		pthread_mutex_unlock(&r->lock);
		return discard(r, size);
	}
	/* Never more than was declared: libcurl sends every byte it is
	 * handed, and a byte past the length would be the start of another
	 * request on the backend connection.  libmicrohttpd stops at the
	 * length; this holds if it ever did not. */
	if (r->req_length >= 0 && (uint64_t)r->req_length - r->bytes_in <
	    *size) {
		pthread_mutex_unlock(&r->lock);
		log_error("request %llu: body longer than its Content-Length",
		    (unsigned long long)r->id);
		return MHD_NO;
	}
	if (r->upload.cap == 0 && ring_grow(&r->upload, UPLOAD_BUFFER) == -1) {
		pthread_mutex_unlock(&r->lock);
		return MHD_NO;
	}
	/* A grant is capped (a tenth of a second of the rate): take until
	 * refused or full.  Upload flows have no shared level, so w never
	 * fills up however often this loops. */
	while ((want = *size < ring_space(&r->upload) ? *size :
	    ring_space(&r->upload)) > 0) {
		if ((want = shaper_take(r, want, &w)) == 0) {
			tokens = true;
			break;
		}
		n = ring_write(&r->upload, data, want);
		data += n;
		*size -= n;
		r->bytes_in += n;
		metrics_add(MC_BYTES_IN, n);
	}
	if (r->up_paused && r->upload.len > 0 &&
	    (r->upload.len >= UPLOAD_WAKE_BYTES || *size > 0 ||
	    request_now() - r->t_up_wake >= UPLOAD_WAKE_NS)) {
		r->up_paused = false;
		r->t_up_wake = request_now();
		wake = true;
	}
	if (*size > 0 &&
	    !request_suspend(r, tokens ? WAIT_TOKENS : WAIT_UPLOAD)) {
		pthread_mutex_unlock(&r->lock);
		shaper_wake(&w);
		return MHD_NO;		/* shutting down */
	}
	pthread_mutex_unlock(&r->lock);
	shaper_wake(&w);
	if (wake)
		upstream_post(r, CMD_RESUME_SEND);
	return MHD_YES;
}

/* --- the response (the connection's loop) ----------------------------------------- */

/* A client that took more than DRAIN_STALL to take one block has stopped
 * draining, or drains less than a block a second: its buffer, grown for a
 * fast reader (up to buffer-max), is not refilled and shrinks back to its
 * first size as it empties, so that stalled readers do not each hold
 * megabytes they will take minutes to send.  It grows again if the client
 * becomes fast (should_grow()).  Called under r's lock at the reader's
 * entry: the time since the reader last handed out bytes is the time
 * libmicrohttpd took to send them (0 after our own suspensions). */
static void
drain_check(struct request *r, uint64_t now)
{
	if (r->t_handed != 0 && now - r->t_handed > DRAIN_STALL &&
	    r->down.cap > r->down_init && r->down_init > 0)
		r->down_shrink = true;
	r->t_handed = 0;
}

/* Should r's download buffer double?  Only if the client drains it faster
 * than the backend side refills it (the backend was paused since the buffer
 * was last empty) and the client's rate would empty the doubled buffer
 * within GROW_HORIZON: the buffer then covers the wake-up latency at full
 * speed.  The rate is measured from GROW_SETTLE after the first byte, so
 * that the burst which fills the socket buffers of a slow client does not
 * count.  Called under r's lock. */
static bool
should_grow(struct request *r, uint64_t now)
{
	uint64_t elapsed;

	if (r->t_first_out == 0 || now - r->t_first_out < GROW_SETTLE)
		return false;
	if (r->t_rate == 0) {
		r->t_rate = now;
		r->bytes_rate = r->bytes_out;
		return false;
	}
	if (!r->down_grow || r->down.cap >= r->down_max)
		return false;
	elapsed = now - r->t_rate;
	if (elapsed < GROW_HORIZON)
		return false;
	/* rate * horizon > 2 * cap */
	return (double)(r->bytes_out - r->bytes_rate) * GROW_HORIZON >
	    2.0 * (double)r->down.cap * (double)elapsed;
}

static ssize_t
reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct request *r = cls;
	struct shaper_wake w = { .n = 0 };
	bool wake = false, stop;
	uint64_t now;
	size_t n;

	(void)pos;
	client_left = false;	/* a flag left by a request without a log */
	pthread_mutex_lock(&r->lock);
	r->refill = false;
	now = request_now();
	drain_check(r, now);
	if (r->hup || r->gone) {
		(void)hung_up(r);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if ((n = r->down.len < max ? r->down.len : max) > 0 && r->credit > 0) {
		/* Tokens taken ahead: by the last call (GRANT_MAX), or
		 * while the buffer was empty. */
		if (n > r->credit)
			n = r->credit;
		r->credit -= n;
	} else if (n > 0 && (n = shaper_take(r, r->down.len < GRANT_MAX ?
	    r->down.len : GRANT_MAX, &w)) == 0) {
		/* Out of tokens: sleep until the shaper's timer, or until the
		 * request ahead in line has gone (shaper_wake). */
		if (r->up == UP_FAILED) {
			pthread_mutex_unlock(&r->lock);
			shaper_wake(&w);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		stop = !request_suspend(r, WAIT_TOKENS);
		pthread_mutex_unlock(&r->lock);
		shaper_wake(&w);
		return stop ? MHD_CONTENT_READER_END_WITH_ERROR : 0;
	}
	if (n > max) {
		r->credit += n - max;
		n = max;
	}
	n = ring_read(&r->down, buf, n);
	/* A PACE_SLOW buffer holds a refill until libmicrohttpd has it: it
	 * goes back to its cache empty and comes again with the next refill,
	 * so that between refills (half a second at 64 KiB/s) the download
	 * holds no buffer of ours. */
	if (r->pace == PACE_SLOW && r->down.len == 0)
		ring_free(&r->down);
	if (r->down_shrink && r->down.len <= r->down_init) {
		(void)ring_shrink(&r->down, r->down_init);
		r->down_shrink = false;
	}
	/* The next call returns data at once when more is buffered and its
	 * tokens are in hand (or none are needed): then this record and the
	 * next leave as one TCP segment. */
	tlspush_more(r->client_fd, n > 0 && r->down.len > 0 &&
	    (r->credit > 0 || !shaper_limits(r)));
	if (n > 0) {
		metrics_add(MC_BYTES_OUT, n);
		r->t_handed = now;
		if (r->t_first_out == 0)
			r->t_first_out = now;
		r->bytes_out += n;
		/* Restart the backend once half the buffer is free (fewer
		 * round trips than at every chunk), and never before a whole
		 * chunk fits: a chunk refused is copied and held by libcurl.
		 * A PACE_SLOW buffer is refilled only when empty (below). */
		if (r->down_paused && r->pace != PACE_SLOW &&
		    !r->down_shrink && ring_space(&r->down) >= r->chunk &&
		    ring_space(&r->down) >= r->down.cap / 2) {
			r->down_paused = false;
			wake = true;
		}
		pthread_mutex_unlock(&r->lock);
		shaper_wake(&w);
		if (wake)
			upstream_post(r, CMD_RESUME_RECV);
		return (ssize_t)n;
	}
	if (r->up == UP_DONE) {
		pthread_mutex_unlock(&r->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (r->up == UP_FAILED) {
		pthread_mutex_unlock(&r->lock);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	/* Empty while the backend has more. */
	if (r->pace == PACE_SLOW) {
		if (r->down_paused && !r->body_in) {
			/* The refill is for the next grant: fetched when that
			 * grant's tokens are due (shaper.c turns the timer's
			 * wake-up into a refill), so its bytes are still in
			 * the cache when sent.  Tokens in hand: at once. */
			if (r->credit == 0)
				r->credit = shaper_take(r, r->chunk < GRANT_MAX ?
				    r->chunk : GRANT_MAX, &w);
			if (r->credit == 0) {
				r->refill = true;
				stop = !request_suspend(r, WAIT_TOKENS);
				pthread_mutex_unlock(&r->lock);
				shaper_wake(&w);
				return stop ?
				    MHD_CONTENT_READER_END_WITH_ERROR : 0;
			}
		}
		/* Tokens in hand, or the backend has sent the whole body and
		 * only needs to be let finish. */
		wake = r->down_paused;
		r->down_paused = false;
	} else if (r->down_shrink) {
		(void)ring_shrink(&r->down, r->down_init);
		r->down_shrink = false;
		wake = r->down_paused;
		r->down_paused = false;
	} else if (should_grow(r, now)) {
		size_t cap = r->down.cap * 2;

		(void)ring_grow(&r->down, cap < r->down_max ? cap : r->down_max);
	}
	r->down_grow = false;
	stop = !request_suspend(r, WAIT_DATA);
	pthread_mutex_unlock(&r->lock);
	shaper_wake(&w);
	if (stop)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (wake)
		upstream_post(r, CMD_RESUME_RECV);
	return 0;
}

static void
response_free(void *cls)
{
	request_unref(cls);
}

/* Copies the backend's end-to-end headers.  The header block is ours alone
 * once `up` left UP_PENDING, so it is split in place; upstream.c refused
 * it if any line was folded or malformed. */
static void
copy_response_headers(struct request *r, struct MHD_Response *resp)
{
	char *line = r->resp_headers, *end, *colon, *v, *e;

	if (line == NULL)
		return;
	for (; *line != '\0'; line = end) {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		else
			*end++ = '\0';
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		if (headers_skip_response(line, (size_t)(colon - line),
		    r->conn_tokens))
			continue;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == '\r' ||
		    e[-1] == ' ' || e[-1] == '\t'); e--)
			*(e - 1) = '\0';
		/* libmicrohttpd refuses an empty value: white space alone
		 * is read as one (RFC 9110 5.5), so the field still arrives. */
		if (MHD_add_response_header(resp, line, *v != '\0' ? v :
		    " ") == MHD_NO)
			log_warn("request %llu: backend header '%s' not "
			    "forwarded", (unsigned long long)r->id, line);
	}
}

/* Reader of responses that have no body (libmicrohttpd never calls it). */
static ssize_t
no_body(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	(void)buf;
	(void)max;
	return MHD_CONTENT_READER_END_OF_STREAM;
}

static enum MHD_Result
respond_upstream(struct request *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	uint64_t size;
	long status = r->status;

	if (status < 200) {
		/* The transfer ended after an interim 100 or 103 alone: no
		 * answer to forward. */
		r->upstream_error = "no final status";
		return respond_error(r, S3ERR_BAD_GATEWAY, NULL);
	}
	r->state = REQ_RESPONDING;
	r->log_status = (unsigned)status;
	if (status == 204) {
		resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);
	} else if (status == 304 || (r->head && r->resp_length < 0)) {
		/* No body.  A Content-Length, if any, is the backend's.
		 * libmicrohttpd 0.9.75 sends a response with neither a length
		 * nor chunked only by closing the connection.  A 304 is
		 * always without body whatever its headers say, so one without
		 * a length gets "Content-Length: 0" and keeps the connection
		 * (a new TLS handshake per conditional GET costs more than a
		 * field every client ignores on a 304; chunked would make some,
		 * Python's http.client among them, wait for a chunk).  A HEAD
		 * answer without length gets neither and closes: a length of
		 * 0 would be a false size of the object. */
		resp = MHD_create_response_from_callback(r->resp_length >= 0 ?
		    (uint64_t)r->resp_length : status == 304 ? 0 :
		    MHD_SIZE_UNKNOWN, 1024, no_body, NULL, NULL);
		if (resp != NULL && r->resp_length < 0 && status != 304)
			MHD_set_response_options(resp,
			    MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
	} else {
		size = r->resp_length >= 0 ? (uint64_t)r->resp_length :
		    MHD_SIZE_UNKNOWN;
		shaper_start(r);	/* no credit for the backend's delay */
		request_ref(r);		/* the response's reference */
		resp = MHD_create_response_from_callback(size, RESPONSE_BLOCK,
		    reader, r, response_free);
		if (resp == NULL)
			request_unref(r);
	}
	if (resp == NULL)
		return respond_error(r, S3ERR_INTERNAL, NULL);
	copy_response_headers(r, resp);
	add_proxy_headers(resp);
	ret = MHD_queue_response(r->con, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result	answer(struct request *);

/* Final call: the client's body is complete; answer once the backend's
 * headers are in. */
static enum MHD_Result
on_final(struct request *r)
{
	bool wake = false;

	pthread_mutex_lock(&r->lock);
	if (r->hup)
		return hung_up(r);
	if (!r->upload_eof) {
		r->upload_eof = true;
		if (r->up_paused) {
			r->up_paused = false;
			wake = true;
		}
	}
	if (r->up == UP_PENDING) {
		if (!request_suspend(r, WAIT_HEADERS)) {
			pthread_mutex_unlock(&r->lock);
			return MHD_NO;		/* shutting down */
		}
		pthread_mutex_unlock(&r->lock);
		if (wake)
			upstream_post(r, CMD_RESUME_SEND);
		return MHD_YES;
	}
	pthread_mutex_unlock(&r->lock);
	if (wake)
		upstream_post(r, CMD_RESUME_SEND);
	return answer(r);
}

/* A GET waiting for the cluster's answer (REQ_ADMITTING): suspended until
 * the cluster thread answers, at most CLUSTER_ADMIT_MS.  Refused: 503
 * SlowDown, as for the local limit.  Admitted, or Redis silent (local
 * limits, already passed): the transfer starts, as on_first() starts
 * it. */
static enum MHD_Result
on_admitting(struct request *r)
{
	enum cluster_admit a;
	bool ok;

	pthread_mutex_lock(&r->lock);
	if (r->hup)
		return hung_up(r);
	a = r->admit;
	if (a == CLUSTER_PENDING) {
		ok = request_suspend(r, WAIT_ADMIT);
		pthread_mutex_unlock(&r->lock);
		return ok ? MHD_YES : MHD_NO;	/* MHD_NO: shutting down */
	}
	pthread_mutex_unlock(&r->lock);
	if (a == CLUSTER_NO) {
		metrics_add(MC_SLOWDOWN, 1);
		r->refused = "max-connections reached across the cluster";
		return respond_error(r, S3ERR_SLOW_DOWN, NULL);
	}
	/* Still libmicrohttpd's first call (it repeats the call a
	 * suspension interrupted): the final call comes next and waits for
	 * the headers.  A response queued in a first call would close the
	 * connection after it. */
	r->state = REQ_FORWARDING;
	upstream_post(r, CMD_START);
	return MHD_YES;
}

/* Repeated first call of a request with "Expect: 100-continue": returning
 * without a response makes libmicrohttpd send 100 Continue, which waits
 * until libcurl wants the body (the backend sent 100, or was silent for
 * CURLOPT_EXPECT_100_TIMEOUT_MS); a final answer or a failure before that
 * is queued at once, and libmicrohttpd then closes the connection without
 * reading the body. */
static enum MHD_Result
on_continue(struct request *r)
{
	struct pollfd p = { .fd = r->client_fd, .events = POLLIN };
	bool now;

	pthread_mutex_lock(&r->lock);
	if (r->hup)
		return hung_up(r);
	if (r->up == UP_PENDING && !r->want_body) {
		now = request_suspend(r, WAIT_CONTINUE);
		pthread_mutex_unlock(&r->lock);
		return now ? MHD_YES : MHD_NO;	/* MHD_NO: shutting down */
	}
	/* Answered at once: an error before the backend wanted the body (an
	 * early answer, upstream.c on_header()), or a failure.  A 2xx
	 * leaves libcurl waiting for the body: it goes upstream as usual. */
	now = r->up == UP_FAILED || r->early;
	pthread_mutex_unlock(&r->lock);
	/* libmicrohttpd closes the connection after an answer queued here,
	 * with the body unread; a client that sent its body without waiting
	 * for 100 would have that close turn into a reset that can cut a
	 * large answer short.  Such a client gets 100 (an interim answer
	 * changes nothing for it) and its body is dropped before the answer,
	 * if discard() would take all of it; else the answer goes at once. */
	if (now && r->req_length >= 0 &&
	    (uint64_t)r->req_length <= DISCARD_MAX && r->client_fd >= 0 &&
	    poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
		now = false;
	if (!now) {
		r->state = REQ_FORWARDING;
		return MHD_YES;
	}
	return answer(r);
}

/* Queues the answer to r once the backend's headers are in or its
 * transfer failed. */
static enum MHD_Result
answer(struct request *r)
{
	enum req_upstream up;
	CURLcode result;
	bool headers;

	pthread_mutex_lock(&r->lock);
	up = r->up;
	result = r->result;
	headers = r->t_headers != 0;
	pthread_mutex_unlock(&r->lock);
	if (up == UP_FAILED && !headers) {
		/* bad_response is written by the backend side before `up`
		 * became UP_FAILED, which we saw under the lock. */
		r->upstream_error = r->bad_response != NULL ?
		    r->bad_response : curl_easy_strerror(result);
		if (result == CURLE_OPERATION_TIMEDOUT)
			return respond_error(r, S3ERR_GATEWAY_TIMEOUT, NULL);
		if (result == CURLE_ABORTED_BY_CALLBACK)
			return respond_error(r, S3ERR_UNAVAILABLE,
			    "The proxy is shutting down.");
		return respond_error(r, S3ERR_BAD_GATEWAY, NULL);
	}
	return respond_upstream(r);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *con, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct request *r = *con_cls;

	(void)cls;
	client_left = false;	/* a flag left by a request without a log */
	/* url is decoded and without query: r->target is forwarded. */
	if (r == NULL)
		return MHD_NO;
	r->con = con;
	switch (r->state) {
	case REQ_NEW:
		/* Past the header deadline as the headers completed: the
		 * reaper shut the socket; nothing goes upstream.  The
		 * client's slowness, not an error (mhd_logger()). */
		if (conn_enter(con, CT_BUSY) == -1) {
			client_left = true;
			return MHD_NO;
		}
		return on_first(r, url, method, version);
	case REQ_ADMITTING:
		return on_admitting(r);
	case REQ_CONTINUE:
		return on_continue(r);
	case REQ_FORWARDING:
		if (*upload_data_size > 0)
			return on_body(r, upload_data, upload_data_size);
		return on_final(r);
	case REQ_RESPONDING:
		/* Early error reply queued at the first call: drop the body. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	return MHD_NO;
}

/* Called before the access handler with the raw request-target: path and
 * query byte for byte, as SigV4 signed them.  The return value becomes the
 * connection's request context. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct request *r;

	(void)cls;
	if ((r = request_new(uri, cfg->buffer_max)) != NULL) {
		r->con = con;
		r->loop = upstream_current();
	}
	return r;
}

/* Writes r's access-log line.  bytes and up_s (seconds to the backend's
 * headers, -1 if none) are read under r's lock by the caller. */
static void
log_request(struct request *r, bool aborted, uint64_t bytes, double up_s)
{
	char line[ACCESSLOG_LINE_MAX + 1], redacted[2048];
	struct accesslog_entry e;

	memset(&e, 0, sizeof(e));
	clock_gettime(CLOCK_REALTIME, &e.when);
	e.id = r->id;
	e.client = r->client_addr;
	e.method = r->method;
	/* Signatures masked; what the client wrote is escaped there, so it
	 * can forge no field and no line. */
	target_redact(r->target, redacted, sizeof(redacted));
	e.target = redacted;
	e.version = r->version;
	e.status = r->log_status;
	e.bytes = bytes;
	e.duration = (double)(request_now() - r->t_start) / 1e9;
	e.up_status = r->status;
	e.up_headers = up_s;
	e.aborted = aborted;
	e.upstream_error = r->upstream_error;
	e.refused = r->refused;
	accesslog_format(line, &e, cfg->access_log_json);
	log_access("%s", line);
}

static void
on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct request *r = *con_cls;
	uint64_t bytes;
	double up_s = -1;
	bool left, cancel;

	(void)cls;
	/* Until the next request's first bytes (or the end). */
	(void)conn_enter(con, CT_IDLE);
	if (r == NULL)
		return;
	*con_cls = NULL;
	if (r->log_status == 0) {
		const union MHD_ConnectionInfo *ci;

		/* libmicrohttpd answered the request itself: before the access
		 * handler (a Content-Length it cannot parse: 400 or 413; a
		 * header section over header-max: 431), or in the body (a
		 * chunk size over 2^64: 413).  Or the client left before an
		 * answer was queued (no status). */
		if (r->state == REQ_NEW)
			client_address(r);
		ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_HTTP_STATUS);
		if (ci != NULL && ci->http_status != 0) {
			r->log_status = ci->http_status;
			r->refused = "refused by the HTTP parser";
		}
	}
	if (r->shaped && strcmp(r->method, "GET") == 0)
		metrics_add(MC_DOWNLOADS_PLAIN + r->pace, (uint64_t)-1);
	shaper_leave(r);	/* the max-connections slot is free now */
	cluster_release(r);	/* and the cluster's */
	pthread_mutex_lock(&r->lock);
	r->gone = true;
	bytes = r->head ? 0 : r->bytes_out;
	cancel = r->state != REQ_NEW && !r->curl_done;
	left = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && (r->hup ||
	    toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ||
	    toe == MHD_REQUEST_TERMINATED_READ_ERROR);
	/* A transfer we cancelled because the client left did not fail. */
	if (r->up == UP_FAILED && r->upstream_error == NULL &&
	    !(left && r->result == CURLE_ABORTED_BY_CALLBACK))
		r->upstream_error = curl_easy_strerror(r->result);
	if (r->t_headers != 0) {
		up_s = (double)(r->t_headers - r->t_start) / 1e9;
		metrics_observe(MH_BACKEND_HEADERS, r->t_headers - r->t_start);
	}
	pthread_mutex_unlock(&r->lock);
	if (cancel)
		upstream_post(r, CMD_CANCEL);
	/* A client that left before the whole answer is 499, as nginx logs
	 * it, unless the backend's failure cut the answer first (then the
	 * status sent and upstream-error say what happened). */
	if (left && r->upstream_error == NULL)
		r->log_status = 499;
	metrics_request(metrics_method(r->method), r->log_status);
	metrics_observe(MH_DURATION, request_now() - r->t_start);
	/* The escaping is not done for a log nobody reads. */
	if (log_access_enabled())
		log_request(r, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK, bytes,
		    up_s);
	request_unref(r);	/* libmicrohttpd's reference */
}

/* --- the hooks of the event loops (upstream.h), each in loop i ---------- */

static int
daemon_fd(unsigned i)
{
	const union MHD_DaemonInfo *di;

	di = MHD_get_daemon_info(daemons[i], MHD_DAEMON_INFO_EPOLL_FD);
	return di != NULL ? di->epoll_fd : -1;
}

static void
daemon_run(unsigned i)
{
	MHD_UNSIGNED_LONG_LONG ms;
	int k;

	/* libmicrohttpd reads at most one TLS record per connection in an
	 * MHD_run(): an upload arrives a record (16 KiB) per run.  While it
	 * has bytes ready (a timeout of 0), run it again at once rather than
	 * after one more epoll_wait() of the loop, which would return at once:
	 * a system call less per record.  At most DAEMON_RUNS times, so that
	 * the backend's sockets wait for one client for that long only. */
	for (k = 0; k < DAEMON_RUNS; k++) {
		(void)MHD_run(daemons[i]);
		if (MHD_get_timeout(daemons[i], &ms) != MHD_YES || ms != 0)
			break;
	}
}

static int64_t
daemon_timeout(unsigned i)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(daemons[i], &ms) != MHD_YES)
		return -1;
	return ms > INT64_MAX ? INT64_MAX : (int64_t)ms;
}

static void
daemon_adopt(unsigned i, int fd, const struct sockaddr *sa, socklen_t len)
{
	/* Refused or failed: the library has closed the socket. */
	if (MHD_add_connection(daemons[i], fd, sa, len) != MHD_YES)
		dropped(fd);
}

static void
daemon_stop(unsigned i)
{
	MHD_stop_daemon(daemons[i]);
	daemons[i] = NULL;
}

static const struct upstream_server hooks = {
	.fd = daemon_fd,
	.run = daemon_run,
	.timeout_ms = daemon_timeout,
	.adopt = daemon_adopt,
	.stop = daemon_stop,
	.timer_at = shaper_deadline,
	.timer_fire = shaper_expire,
};

int
server_start(const struct config *c, const struct tls_pem *pem,
    unsigned connection_limit, char *err, size_t errlen)
{
	struct MHD_OptionItem o[16];
	unsigned flags, i, n = 0;

	cfg = c;
	/* The logger must be the first option, or libmicrohttpd complains. */
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
	    (intptr_t)mhd_logger, NULL };
	/* epoll, run by the event loops (upstream.h), with handshakes that
	 * wait for their client parked (park.h): libmicrohttpd's epoll mode
	 * alone spins on them, and its poll mode visits every connection at
	 * every wake-up (2,000 slowloris connections made a GET 4 times
	 * slower). */
	flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	/* listener.c accepts, so that one thread, not every loop, wakes for
	 * a new connection, and admission counts it first. */
	flags |= MHD_USE_NO_LISTEN_SOCKET;
	if (listener_open(cfg->bind, (uint16_t)cfg->port, err, errlen) == -1)
		return -1;
	if (pem != NULL) {
		flags |= MHD_USE_TLS;
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
		    pem->cert };
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
		    pem->key };
		o[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
		    cfg->tls_priorities };
	}
	/* admit() enforces connection_limit, over all loops: each daemon's
	 * own limit is the whole of it, lest the library drop a connection
	 * admit() counted. */
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
	    connection_limit + LIMIT_SLACK, NULL };
	/* The header section must fit in the connection's pool with room left
	 * for the reply's header section (or libmicrohttpd closes the
	 * connection without a reply).  The pool is per connection: no more. */
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (intptr_t)(cfg->header_max + POOL_SLACK), NULL };
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
	    (intptr_t)((cfg->client_timeout_ms + 999) / 1000), NULL };
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_URI_LOG_CALLBACK,
	    (intptr_t)on_uri, NULL };
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED,
	    (intptr_t)on_completed, NULL };
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION,
	    (intptr_t)on_connection, NULL };
	o[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

	ndaemons = upstream_loops();
	if (ndaemons > DAEMONS_MAX)
		ndaemons = DAEMONS_MAX;
	for (i = 0; i < ndaemons; i++) {
		daemons[i] = MHD_start_daemon(flags, 0, NULL, NULL,
		    on_request, NULL, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
		if (daemons[i] == NULL) {
			snprintf(err, errlen, "cannot start the HTTP server on "
			    "%s port %llu (a TLS setting refused?)", cfg->bind,
			    (unsigned long long)cfg->port);
			listener_close();
			return -1;
		}
	}
	if (upstream_start(&hooks) == -1) {
		snprintf(err, errlen, "cannot start the event loops");
		return -1;
	}
	if (listener_start(admit) == -1) {
		snprintf(err, errlen, "cannot start the accept thread");
		return -1;
	}
	return 0;
}

void
server_quiesce(void)
{
	atomic_store(&draining, true);
	listener_close();
}

bool
server_draining(void)
{
	return atomic_load(&draining);
}

void
server_stop(void)
{
	listener_close();
	/* Each loop stops its daemon, then ends. */
	upstream_stop();
	ndaemons = 0;
}
