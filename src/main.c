/*
 * storage-proxy: an HTTPS front for S3 object storage.
 *
 * main: start-up, signals and graceful shutdown.  Threads: this one (signals
 * only), libmicrohttpd's worker pool (client connections), and the curl
 * thread (backend transfers).
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "admin.h"
#include "cluster.h"
#include "config.h"
#include "conntab.h"
#include "reaper.h"
#include "park.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "server.h"
#include "shaper.h"
#include "tls.h"
#include "tlscred.h"
#include "tlspush.h"
#include "tlsread.h"
#include "tlsticket.h"
#include "upstream.h"

/* Descriptors kept back from the client budget: listen socket, epoll
 * sets, logs, backend connections being opened, the CA file. */
#define FD_RESERVE	64

/* Raises the open-file limit to its hard limit and returns how many client
 * connections fit: each proxied request holds two descriptors.  *nfd:
 * descriptor numbers stay below it. */
static unsigned
connection_budget(const struct config *cfg, size_t *nfd)
{
	struct rlimit rl;
	rlim_t fds;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
				getrlimit(RLIMIT_NOFILE, &rl);
		}
		fds = rl.rlim_cur;
	} else
		fds = 1024;
	if (fds == RLIM_INFINITY || fds > 4 * 1000000)
		fds = 4 * 1000000;
	*nfd = (size_t)fds;
	fds = fds > 2 * FD_RESERVE ? (fds - FD_RESERVE) / 2 : 16;
	if (cfg->max_clients > 0 && cfg->max_clients < fds)
		return (unsigned)cfg->max_clients;
	if (cfg->max_clients > fds)
		log_warn("max-clients %llu exceeds what the open-file limit "
		    "allows; using %llu", (unsigned long long)cfg->max_clients,
		    (unsigned long long)fds);
	return (unsigned)fds;
}

/* The connection table's deadlines and caps from the configuration, for
 * limit connections on descriptors below nfd. */
static void
conntab_setup(const struct config *cfg, unsigned limit, size_t nfd)
{
	struct conntab_limits l;

	memset(&l, 0, sizeof(l));
	l.timeout_ns[CT_HANDSHAKE] = cfg->handshake_timeout_ms * 1000000ULL;
	l.timeout_ns[CT_HEADERS] = cfg->header_timeout_ms * 1000000ULL;
	/* With TLS the first bytes of a request start its header deadline
	 * (tlswatch.h); without, an idle connection gets the idle time and
	 * then the header time, however it trickles. */
	if (!cfg->tls)
		l.timeout_ns[CT_IDLE] = (cfg->client_timeout_ms +
		    cfg->header_timeout_ms) * 1000000ULL;
	l.max_total = limit;
	l.max_per_addr = cfg->max_clients_per_addr > 0 ?
	    (cfg->max_clients_per_addr < limit ?
	    (unsigned)cfg->max_clients_per_addr : limit) :
	    (limit + 1) / 2;
	if (conntab_init(&l, nfd) == -1)
		fatal("out of memory");
	log_info("connections: up to %u, %u per address; handshake within "
	    "%llu ms, request headers within %llu ms", limit, l.max_per_addr,
	    (unsigned long long)cfg->handshake_timeout_ms,
	    (unsigned long long)cfg->header_timeout_ms);
}

static void
wait_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* SIGHUP: reads the configuration again (same command line and
 * environment, the file anew), applies the limits to every transfer in
 * flight and reads the certificate and key again, from the paths the new
 * configuration names, for the handshakes to come.  A configuration with
 * an error is refused whole; the one in force stays.  A pair that fails
 * tls_load()'s checks is refused alone: the one in force stays, the
 * limits apply. */
static void
reload(const struct config *running, int argc, char **argv)
{
	struct config next;
	struct lim_limits l;
	enum config_action action;
	char err[1024];

	log_info("SIGHUP: reloading the configuration");
	if (config_load(&next, argc, argv, &action, err, sizeof(err)) == -1) {
		log_error("reload refused: %s; the configuration in force "
		    "stays", err);
		config_free(&next);
		return;
	}
	(void)config_restart_only(running, &next);
	config_limits(&next, &l);
	shaper_set(&l, &next.trust);
	shaper_log(&l, next.trusted_proxies);
	if (running->tls && next.tls) {
		if (tlscred_reload(next.cert, next.key, err, sizeof(err)) == 0)
			log_info("SIGHUP: certificate reloaded (%s)", err);
		else
			log_error("SIGHUP: certificate not reloaded: %s; the "
			    "certificate in force stays", err);
	}
	config_free(&next);
}

/* Stop accepting; give transfers in flight shutdown-timeout to end; then
 * fail the rest and wait until no connection is suspended, since
 * libmicrohttpd aborts the process if one is when the daemon stops. */
static void
shutdown_gracefully(const struct config *cfg)
{
	uint64_t deadline;
	unsigned i;

	/* The limits stay in force while transfers drain: a rolling restart
	 * must not be a burst on the uplink they protect. */
	server_quiesce();
	deadline = request_now() + cfg->shutdown_timeout_ms * 1000000ULL;
	log_info("shutting down: %u requests in flight", request_count());
	while (request_count() > 0 && request_now() < deadline)
		wait_ms(50);
	if (request_count() > 0)
		log_warn("shutdown: aborting %u requests still in flight",
		    request_count());
	/* Fail every transfer; token waits end at once; then no connection
	 * may suspend any more, and the ones suspended are all being woken.
	 * libmicrohttpd aborts the process if one is when the daemon stops. */
	upstream_abort_all();
	shaper_stop();
	request_shut_gate();
	/* Parked handshakes too; again each turn, for one that was being
	 * parked while the gate shut. */
	for (i = 0; i < 200 && request_suspended() > 0; i++) {
		park_release();
		wait_ms(25);
	}
	if (request_suspended() > 0) {
		/* Not seen; stopping the daemon now would abort. */
		log_error("shutdown: %d connections still suspended; exiting "
		    "without stopping the HTTP threads", request_suspended());
		_exit(1);
	}
	server_stop();		/* the loops too */
	cluster_stop();
	admin_stop();
	reaper_stop();
	conntab_free();
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct tls_pem pem = { NULL, NULL };
	enum config_action action;
	char err[1024];
	struct lim_limits lim;
	unsigned limit;
	size_t nfd = 0;
	long ncpu;
	sigset_t set;

	/* Each loop thread allocates from a malloc arena of its own, which
	 * glibc shrinks whenever 128 KiB lie free at its top: a request's
	 * buffers freed at its end gave pages back that the next request
	 * faulted in again (0.2 page faults per 4 KiB GET, about 5 % of its
	 * CPU).  Up to 4 MiB free per arena stay; blocks of 1 MiB and more
	 * (none per request) are mapped apart. */
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	int sig;

	if (config_load(&cfg, argc, argv, &action, err, sizeof(err)) == -1) {
		fprintf(stderr, "storage-proxy: %s\n", err);
		config_free(&cfg);
		return 2;
	}
	if (action == CONFIG_EXIT_OK) {
		config_free(&cfg);
		return 0;
	}
	if (cfg.tls && tls_load(cfg.cert, cfg.key, cfg.tls_priorities, &pem,
	    err, sizeof(err)) == -1)
		fatal("%s", err);
	if (cfg.check_only) {
		fprintf(stderr, "storage-proxy: configuration ok\n");
		/* The cluster's state, as the proxy would find it now; an
		 * unreachable Redis is no error (it starts on local limits). */
		if (cfg.cluster_redis[0] != '\0') {
			(void)cluster_probe(cfg.cluster_redis, err, sizeof(err));
			fprintf(stderr, "storage-proxy: %s\n", err);
		}
		tls_free(&pem);
		config_free(&cfg);
		return 0;
	}
	log_set_access(cfg.access_log);
	if (cfg.tls && tlscred_init(&pem, err, sizeof(err)) == -1)
		fatal("%s", err);

	/* Signals go to this thread only (sigwait below); the others inherit
	 * the mask.  A client that vanishes must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("curl_global_init failed");
	if (metrics_init() == -1)
		fatal("out of memory");
	limit = connection_budget(&cfg, &nfd);
	if (tlspush_init(nfd) == -1 || tlsread_init(nfd) == -1)
		fatal("out of memory");
	conntab_setup(&cfg, limit, nfd);
	if (park_init(nfd) == -1)
		fatal("cannot start the handshake thread");
	if (reaper_start() == -1)
		fatal("cannot start the deadline thread");
	if (cfg.tls && cfg.tls_resumption && tlsticket_init() == -1)
		fatal("cannot make the TLS session ticket key");
	config_limits(&cfg, &lim);
	if (shaper_init(&lim, &cfg.trust, limit) == -1)
		fatal("out of memory");
	/* One event loop per CPU, unless told. */
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (upstream_init(&cfg, nfd, cfg.threads > 0 ? (unsigned)cfg.threads :
	    ncpu > 0 ? (unsigned)ncpu : 1, err, sizeof(err)) == -1)
		fatal("%s", err);
	if (server_start(&cfg, cfg.tls ? &pem : NULL, limit, err,
	    sizeof(err)) == -1)
		fatal("%s", err);
	if (admin_start(&cfg, err, sizeof(err)) == -1)
		fatal("%s", err);
	if (cluster_start(cfg.cluster_redis, (unsigned)cfg.cluster_replicas,
	    err, sizeof(err)) == -1)
		fatal("%s", err);
	config_log(&cfg);
	if (cfg.tls && tlscred_describe(pem.cert, err, sizeof(err)) == 0)
		log_info("certificate: %s", err);
	shaper_log(&lim, cfg.trusted_proxies);
	log_info("listening on %s port %llu (%s), backend %s, up to %u "
	    "connections", cfg.bind, (unsigned long long)cfg.port,
	    cfg.tls ? "https" : "http", cfg.upstream, limit);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload(&cfg, argc, argv);
			continue;
		}
		log_info("%s received", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	shutdown_gracefully(&cfg);
	tlscred_free();
	tls_free(&pem);
	tlsticket_free();
	tlspush_free();
	tlsread_free();
	config_free(&cfg);
	curl_global_cleanup();
	log_info("stopped");
	return 0;
}
