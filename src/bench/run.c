/*
 * run: the benchmark's transfers, on libcurl's multi interface.  Each of
 * cfg->conns slots runs one transfer at a time and starts the next one on
 * the same easy handle (so on the same kept-alive connection) until the
 * count or the duration is reached.  Single-threaded.
 */
#include <curl/curl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "stats.h"

struct slot {
	CURL			*easy;
	unsigned		 idx;
	const struct bench_url	*url;		/* in flight, or NULL */
	uint64_t		 body;		/* bytes of this transfer */
	gnutls_hash_hd_t	 hash;		/* when url->has_sha */
	bool			 hashing;
};

/* The run in progress; one at a time. */
static const struct bench_cfg	*cfg;
static struct bench_result	*res;
static uint64_t			 t0;		/* monotonic ns at start */
static uint64_t			 deadline;	/* ns since t0; 0: none */
static uint64_t			 issued;	/* transfers started */
static bool			 oom;

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Makes bin `b` exist; false when it cannot (cap or memory). */
static bool
bins_reach(size_t b)
{
	size_t n, w = cfg->conns;
	uint64_t *p;

	size_t max = BENCH_CELLS_MAX / w < BENCH_BINS_MAX ?
	    BENCH_CELLS_MAX / w : BENCH_BINS_MAX;

	if (b < res->nbins)
		return true;
	if (b >= max) {
		res->bins_full = true;
		return false;
	}
	n = res->nbins ? res->nbins : 64;
	while (n <= b)
		n *= 2;
	if (n > max)
		n = max;
	if ((p = realloc(res->bins, n * w * sizeof(*p))) == NULL) {
		oom = true;
		return false;
	}
	memset(p + res->nbins * w, 0, (n - res->nbins) * w * sizeof(*p));
	res->bins = p;
	res->nbins = n;
	return true;
}

static size_t
on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct slot *s = arg;
	struct bench_conn *c = &res->conn[s->idx];
	size_t len = size * n;
	uint64_t now = mono_ns() - t0, b;

	if (deadline != 0 && now >= deadline)
		return len;		/* after the end: not counted */
	s->body += len;
	c->bytes += len;
	res->bytes += len;
	if (c->t_first == 0)
		c->t_first = now ? now : 1;
	c->t_last = now;
	b = now / (cfg->interval_ms * 1000000ULL);
	if (bins_reach(b))
		res->bins[b * cfg->conns + s->idx] += len;
	if (s->hashing)
		(void)gnutls_hash(s->hash, buf, len);
	return len;
}

/* A connection's time starts with its first response: a limiter that
 * starts each response with an empty bucket sends the first body byte a
 * grant later, and that wait belongs to the rate. */
static size_t
on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct slot *s = arg;
	struct bench_conn *c = &res->conn[s->idx];
	uint64_t now = mono_ns() - t0;

	(void)buf;
	if (c->t_first == 0 && (deadline == 0 || now < deadline))
		c->t_first = now ? now : 1;
	return size * n;
}

static enum bench_err
classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return ERR_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return ERR_TLS;
	case CURLE_OPERATION_TIMEDOUT:
		return ERR_TIMEOUT;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2_STREAM:
		return ERR_TRUNCATED;
	default:
		return ERR_OTHER;
	}
}

/* Starts the slot's next transfer, if the run wants one.  Returns true
 * when one was started. */
static bool
slot_start(CURLM *multi, struct slot *s)
{
	const struct bench_url *u;

	if (cfg->count != 0 && issued >= cfg->count)
		return false;
	if (deadline != 0 && mono_ns() - t0 >= deadline)
		return false;
	/* Slot i starts at URL i, then every slot walks the list. */
	u = &cfg->urls[issued % cfg->nurls];
	issued++;
	s->url = u;
	s->body = 0;
	s->hashing = u->has_sha &&
	    gnutls_hash_init(&s->hash, GNUTLS_DIG_SHA256) == 0;
	curl_easy_setopt(s->easy, CURLOPT_URL, u->url);
	if (curl_multi_add_handle(multi, s->easy) != CURLM_OK) {
		if (s->hashing)
			gnutls_hash_deinit(s->hash, NULL);
		s->hashing = false;
		s->url = NULL;
		res->errors[ERR_OTHER]++;
		return false;
	}
	return true;
}

/* A transfer ended: account for it. */
static void
slot_done(struct slot *s, CURLcode rc)
{
	struct bench_conn *c = &res->conn[s->idx];
	unsigned char md[32];
	long code = 0;
	curl_off_t ttfb = 0;
	int kind = -1;

	if (deadline != 0 && mono_ns() - t0 >= deadline) {
		/* Ended after the end: its last bytes were not counted. */
		if (s->hashing)
			gnutls_hash_deinit(s->hash, NULL);
		s->hashing = false;
		s->url = NULL;
		res->cut++;
		return;
	}
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 100 && code < 600)
		res->status[code / 100]++;
	if (s->hashing)
		gnutls_hash_deinit(s->hash, md);
	if (rc != CURLE_OK)
		kind = classify(rc);
	else if (code >= 500)
		kind = ERR_HTTP_5XX;
	else if (code >= 400)
		kind = ERR_HTTP_4XX;
	else if (s->url->size >= 0 && s->body != (uint64_t)s->url->size)
		kind = ERR_SIZE;
	else if (s->hashing && memcmp(md, s->url->sha256, sizeof(md)) != 0)
		kind = ERR_SHA256;
	s->hashing = false;
	s->url = NULL;
	if (kind >= 0) {
		res->errors[kind]++;
		c->errors++;
		return;
	}
	c->done++;
	res->done++;
	if (curl_easy_getinfo(s->easy, CURLINFO_STARTTRANSFER_TIME_T,
	    &ttfb) == CURLE_OK) {
		if (res->nttfb == res->cttfb && res->cttfb < BENCH_TTFB_MAX) {
			size_t n = res->cttfb ? res->cttfb * 2 : 4096;
			double *p;

			if (n > BENCH_TTFB_MAX)
				n = BENCH_TTFB_MAX;
			if ((p = realloc(res->ttfb, n * sizeof(*p))) == NULL)
				oom = true;
			else {
				res->ttfb = p;
				res->cttfb = n;
			}
		}
		if (res->nttfb < res->cttfb)
			res->ttfb[res->nttfb++] = (double)ttfb / 1e6;
		else
			res->ttfb_full = true;
	}
}

static void
progress(uint64_t now, unsigned active, bool last)
{
	uint64_t errs = 0;
	int k;

	for (k = 0; k < ERR_KINDS; k++)
		errs += res->errors[k];
	fprintf(stderr, "\r%7.1f s  %9llu done  %9.2f MB/s  %6llu errors  "
	    "%5u active%s", (double)now / 1e9, (unsigned long long)res->done,
	    stats_rate(res->bytes, now) / 1e6, (unsigned long long)errs,
	    active, last ? "\n" : "");
}

static CURL *
easy_new(struct slot *s, struct curl_slist *resolve)
{
	CURL *e;

	if ((e = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	if (cfg->timeout_ms != 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
	if (cfg->cafile != NULL) {
		/* Only these: libcurl-gnutls would also load the whole system
		 * CA directory for every handshake (30 ms here). */
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->cafile);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (cfg->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (resolve != NULL)
		curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
	if (cfg->interface != NULL)
		curl_easy_setopt(e, CURLOPT_INTERFACE, cfg->interface);
	return e;
}

int
run_bench(const struct bench_cfg *c, struct bench_result *r)
{
	struct curl_slist *resolve = NULL, *l;
	struct slot *slots = NULL;
	CURLM *multi = NULL;
	CURLMsg *m;
	uint64_t now, next_progress = 1000000000ULL;
	unsigned i, active = 0, started = 0;
	int left, ret = -1;
	size_t k;

	cfg = c;
	res = r;
	memset(r, 0, sizeof(*r));
	issued = 0;
	oom = false;
	deadline = c->duration_ms * 1000000ULL;
	if ((r->conn = calloc(c->conns, sizeof(*r->conn))) == NULL ||
	    (slots = calloc(c->conns, sizeof(*slots))) == NULL) {
		fprintf(stderr, "storage-proxy-bench: out of memory\n");
		goto out;
	}
	for (k = 0; k < c->nresolve; k++) {
		if ((l = curl_slist_append(resolve, c->resolve[k])) == NULL) {
			fprintf(stderr, "storage-proxy-bench: out of memory\n");
			goto out;
		}
		resolve = l;
	}
	if ((multi = curl_multi_init()) == NULL)
		goto out;
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)c->conns);
	for (i = 0; i < c->conns; i++) {
		slots[i].idx = i;
		if ((slots[i].easy = easy_new(&slots[i], resolve)) == NULL) {
			fprintf(stderr, "storage-proxy-bench: curl_easy_init "
			    "failed\n");
			goto out;
		}
	}
	t0 = mono_ns();
	/* Connection i starts at i * ramp / conns (all at once without a
	 * ramp), as a fleet's devices arrive over time. */
	while ((active > 0 || started < c->conns) && !oom) {
		int running, timeout = 100;
		uint64_t next;

		now = mono_ns() - t0;
		while (started < c->conns && (next = c->ramp_ms * 1000000ULL *
		    started / c->conns) <= now) {
			active += slot_start(multi, &slots[started]);
			started++;
		}
		if (active == 0 && started == c->conns)
			break;
		if (deadline != 0 && now >= deadline)
			break;
		if (deadline != 0 && deadline - now < 100000000ULL)
			timeout = (int)((deadline - now) / 1000000ULL) + 1;
		if (started < c->conns && (next = c->ramp_ms * 1000000ULL *
		    started / c->conns) > now && (next - now) / 1000000ULL <
		    (uint64_t)timeout)
			timeout = (int)((next - now) / 1000000ULL) + 1;
		curl_multi_poll(multi, NULL, 0, timeout, NULL);
		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			struct slot *s;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&s);
			curl_multi_remove_handle(multi, s->easy);
			slot_done(s, m->data.result);
			active--;
			active += slot_start(multi, s);
		}
		now = mono_ns() - t0;
		if (c->progress && now >= next_progress) {
			progress(now, active, false);
			next_progress += 1000000000ULL;
		}
	}
	now = mono_ns() - t0;
	/* Transfers still running at the end of the duration. */
	for (i = 0; i < c->conns; i++) {
		if (slots[i].url == NULL)
			continue;
		curl_multi_remove_handle(multi, slots[i].easy);
		if (slots[i].hashing)
			gnutls_hash_deinit(slots[i].hash, NULL);
		slots[i].url = NULL;
		r->cut++;
	}
	r->elapsed_ns = deadline != 0 && now > deadline ? deadline : now;
	if (c->progress)
		progress(r->elapsed_ns, 0, true);
	if (oom)
		fprintf(stderr, "storage-proxy-bench: out of memory\n");
	else
		ret = 0;
out:
	if (slots != NULL)
		for (i = 0; i < c->conns; i++)
			if (slots[i].easy != NULL)
				curl_easy_cleanup(slots[i].easy);
	free(slots);
	if (multi != NULL)
		curl_multi_cleanup(multi);
	curl_slist_free_all(resolve);
	return ret;
}

void
run_free(struct bench_result *r)
{
	free(r->conn);
	free(r->ttfb);
	free(r->bins);
	memset(r, 0, sizeof(*r));
}
