/*
 * admin: /metrics, /healthz and /readyz on the operations listener.
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "admin.h"
#include "cluster.h"
#include "conntab.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "server.h"
#include "tlscred.h"
#include "upstream.h"

/* A probe of the backend: at most one a second, however often /readyz
 * is asked, and never longer than this. */
#define PROBE_TIMEOUT_MS	2000
#define PROBE_EVERY_NS		1000000000ULL
/* The listener is for a scraper and a health checker, not for clients:
 * a few connections, short deadlines, small header sections. */
#define ADMIN_CONNECTIONS	32
#define ADMIN_TIMEOUT_S		10
#define ADMIN_POOL		(32 * 1024)

static const struct config *cfg;
static struct MHD_Daemon *daemon_;
static double start_time;
/* The last probe, [admin thread]. */
static uint64_t probe_at;
static bool probe_ok;
static char probe_why[CURL_ERROR_SIZE];

static void
admin_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t len;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	log_warn("metrics listener: %s", msg);
}

/* HEAD of the upstream URL with the backend's TLS settings: any HTTP
 * answer (403 and 404 included) says the backend is there. */
static bool
probe(void)
{
	CURL *e;
	CURLcode rc;
	long code = 0;

	if ((e = curl_easy_init()) == NULL) {
		snprintf(probe_why, sizeof(probe_why), "out of memory");
		return false;
	}
	probe_why[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, cfg->upstream);
	curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)PROBE_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, probe_why);
	upstream_tls_setopt(e);
	rc = curl_easy_perform(e);
	if (rc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(e);
	if (rc != CURLE_OK && probe_why[0] == '\0')
		snprintf(probe_why, sizeof(probe_why), "%s",
		    curl_easy_strerror(rc));
	return rc == CURLE_OK && code > 0;
}

/* Whether the proxy is ready; why not in *why (static or probe_why). */
static bool
ready(const char **why)
{
	uint64_t now = request_now(), last = upstream_last_answer();

	*why = "ready";
	if (server_draining()) {
		*why = "draining";
		return false;
	}
	if (last != 0 && now - last < ADMIN_READY_FRESH * 1000000000ULL)
		return true;
	if (probe_at == 0 || now - probe_at >= PROBE_EVERY_NS) {
		probe_ok = probe();
		probe_at = request_now();
	}
	if (!probe_ok)
		*why = probe_why;
	return probe_ok;
}

static unsigned
count_fds(void)
{
	DIR *d;
	struct dirent *de;
	unsigned n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;	/* not the directory's own */
}

static uint64_t
rss_bytes(void)
{
	unsigned long size, resident;
	FILE *f;
	int n;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	return n == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

static void
gauges(struct metrics_gauges *g)
{
	struct rusage ru;
	const char *why;

	memset(g, 0, sizeof(*g));
	g->requests = request_count();
	g->connections = conntab_count();
	g->suspended = request_suspended();
	g->start_time = start_time;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		g->cpu_seconds = (double)ru.ru_utime.tv_sec +
		    (double)ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	g->rss_bytes = rss_bytes();
	g->open_fds = count_fds();
	g->ready = ready(&why);
	g->cert_not_after = tlscred_not_after();
	g->cluster = cluster_state();
	g->version = PACKAGE_VERSION;
}

static enum MHD_Result
reply(struct MHD_Connection *con, unsigned status, const char *type,
    char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, mode);
	if (resp == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(con, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
text(struct MHD_Connection *con, unsigned status, const char *msg)
{
	char buf[CURL_ERROR_SIZE + 8];
	int n = snprintf(buf, sizeof(buf), "%s\n", msg);

	return reply(con, status, "text/plain; charset=utf-8", buf,
	    n > 0 ? (size_t)n : 0, MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *con, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **ctx)
{
	struct metrics_gauges g;
	const char *why;
	char *buf;
	int n;

	(void)cls;
	(void)version;
	(void)upload_data;
	/* Nothing here takes a body: answer at the first call, and any body
	 * is dropped by the library. */
	(void)ctx;
	*upload_data_size = 0;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return text(con, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	if (strcmp(url, "/healthz") == 0)
		return text(con, MHD_HTTP_OK, "ok");
	if (strcmp(url, "/readyz") == 0)
		return ready(&why) ? text(con, MHD_HTTP_OK, why) :
		    text(con, MHD_HTTP_SERVICE_UNAVAILABLE, why);
	if (strcmp(url, "/metrics") != 0)
		return text(con, MHD_HTTP_NOT_FOUND, "not found: /metrics, "
		    "/healthz and /readyz are served here");
	if ((buf = malloc(METRICS_TEXT_MAX)) == NULL)
		return MHD_NO;
	gauges(&g);
	if ((n = metrics_format(buf, METRICS_TEXT_MAX, &g)) < 0) {
		free(buf);
		return text(con, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "metrics do not fit their buffer");
	}
	return reply(con, MHD_HTTP_OK, "text/plain; version=0.0.4; "
	    "charset=utf-8", buf, (size_t)n, MHD_RESPMEM_MUST_FREE);
}

int
admin_start(const struct config *c, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	unsigned sl;
	struct timespec ts;
	unsigned flags;

	cfg = c;
	if (cfg->metrics_listen[0] == '\0')
		return 0;
	if (config_hostport(cfg->metrics_listen, &ss, &sl, err, errlen) == -1)
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	    MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, admin_logger, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ADMIN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ADMIN_POOL,
	    MHD_OPTION_END);
	if (daemon_ == NULL) {
		snprintf(err, errlen, "metrics-listen: cannot listen on %s",
		    cfg->metrics_listen);
		return -1;
	}
	log_info("metrics and health on http://%s (/metrics, /healthz, "
	    "/readyz)", cfg->metrics_listen);
	return 0;
}

void
admin_stop(void)
{
	if (daemon_ != NULL)
		MHD_stop_daemon(daemon_);
	daemon_ = NULL;
}
