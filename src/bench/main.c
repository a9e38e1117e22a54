/*
 * storage-proxy-bench: N concurrent downloads of a URL or of a list of
 * URLs (presigned ones included), for a duration or a number of objects;
 * reports throughput, per-connection rates, time to first byte,
 * requests per second and errors by kind.  Main thread only.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "units.h"

#define LINE_MAX_	16384	/* longest line of a URL list */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: storage-proxy-bench [options] URL...\n"
"       storage-proxy-bench [options] -i FILE\n"
"Downloads URLs over N concurrent connections and reports throughput,\n"
"per-connection rates, time to first byte, requests/s and errors.\n"
"  -c, --connections N   concurrent connections (default 1)\n"
"  -n, --count N         transfers in all (default: each URL once)\n"
"  -d, --duration T      run for T (30s, 2m) instead of a count\n"
"  -i, --input FILE      URLs, one per line: URL [sha256=HEX] [size=N]\n"
"      --sha256 HEX      expected digest of each body (URLs given as\n"
"                        arguments)\n"
"      --size N          expected body size in bytes (same)\n"
"      --target RATE     target rate per connection (64k, 1m): rates are\n"
"                        also shown as ratios of it\n"
"      --ramp T          start the connections evenly over T (devices\n"
"                        arriving), not all at once\n"
"      --interval T      time bin of the plot (default 1s)\n"
"      --timeout T       limit per transfer (default none)\n"
"      --cacert FILE     CA certificates for https\n"
"  -k, --insecure        do not verify the server's certificate\n"
"      --resolve H:P:A   like curl's --resolve (repeatable)\n"
"      --interface A     local address to connect from\n"
"      --format F        text (default), json, or csv (per connection)\n"
"      --plot FILE.png   per-connection throughput over time (gnuplot)\n"
"      --progress, --no-progress\n"
"                        live line on stderr (default: if a terminal)\n"
"  -h, --help, -V, --version\n"
"Exit status: 0 all transfers complete and as expected, 1 some failed,\n"
"2 usage or set-up error.\n");
}

static int
parse_hex(const char *s, unsigned char out[32])
{
	unsigned i, v;

	if (strlen(s) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    strchr("0123456789abcdefABCDEF", s[2 * i]) == NULL ||
		    strchr("0123456789abcdefABCDEF", s[2 * i + 1]) == NULL)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int
add_url(struct bench_cfg *c, size_t *cap, const char *url)
{
	struct bench_url *p;

	if (c->nurls >= BENCH_URLS_MAX) {
		fprintf(stderr, "storage-proxy-bench: more than %d URLs\n",
		    BENCH_URLS_MAX);
		return -1;
	}
	if (c->nurls == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		if ((p = realloc(c->urls, *cap * sizeof(*p))) == NULL)
			return -1;
		c->urls = p;
	}
	p = &c->urls[c->nurls];
	memset(p, 0, sizeof(*p));
	p->size = -1;
	if ((p->url = strdup(url)) == NULL)
		return -1;
	c->nurls++;
	return 0;
}

/* A URL list: "URL [sha256=HEX] [size=N]" per line; # starts a comment.
 * Errors name file:line. */
static int
read_list(struct bench_cfg *c, size_t *cap, const char *path)
{
	char line[LINE_MAX_], *tok, *save;
	unsigned long lineno = 0;
	FILE *f;
	int ret = -1;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "storage-proxy-bench: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct bench_url *u;
		uint64_t n;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "storage-proxy-bench: %s:%lu: line "
			    "longer than %d bytes\n", path, lineno, LINE_MAX_);
			goto out;
		}
		if ((tok = strtok_r(line, " \t\r\n", &save)) == NULL ||
		    tok[0] == '#')
			continue;
		if (add_url(c, cap, tok) == -1)
			goto out;
		u = &c->urls[c->nurls - 1];
		while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			if (strncmp(tok, "sha256=", 7) == 0 &&
			    parse_hex(tok + 7, u->sha256) == 0)
				u->has_sha = true;
			else if (strncmp(tok, "size=", 5) == 0 &&
			    units_parse_uint(tok + 5, INT64_MAX, &n) == 0)
				u->size = (int64_t)n;
			else {
				fprintf(stderr, "storage-proxy-bench: %s:%lu: "
				    "'%s' is not sha256=HEX or size=N\n", path,
				    lineno, tok);
				goto out;
			}
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "storage-proxy-bench: %s: read error\n", path);
		goto out;
	}
	ret = 0;
out:
	if (f != stdin)
		fclose(f);
	return ret;
}

enum { O_SHA = 256, O_SIZE, O_TARGET, O_INTERVAL, O_RAMP, O_TIMEOUT, O_CACERT,
    O_RESOLVE, O_INTERFACE, O_FORMAT, O_PLOT, O_PROGRESS, O_NOPROGRESS };

static const struct option longopts[] = {
	{ "connections", required_argument, NULL, 'c' },
	{ "count", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "input", required_argument, NULL, 'i' },
	{ "sha256", required_argument, NULL, O_SHA },
	{ "size", required_argument, NULL, O_SIZE },
	{ "target", required_argument, NULL, O_TARGET },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "ramp", required_argument, NULL, O_RAMP },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "cacert", required_argument, NULL, O_CACERT },
	{ "insecure", no_argument, NULL, 'k' },
	{ "resolve", required_argument, NULL, O_RESOLVE },
	{ "interface", required_argument, NULL, O_INTERFACE },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "plot", required_argument, NULL, O_PLOT },
	{ "progress", no_argument, NULL, O_PROGRESS },
	{ "no-progress", no_argument, NULL, O_NOPROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static int
bad(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "storage-proxy-bench: --%s '%s': %s\n", opt, val, why);
	return -1;
}

static int
parse_args(int argc, char **argv, struct bench_cfg *c)
{
	const char *list = NULL;
	unsigned char sha[32];
	bool has_sha = false;
	int64_t size = -1;
	uint64_t v;
	size_t cap = 0, i;
	int ch;

	c->conns = 1;
	c->interval_ms = 1000;
	c->format = "text";
	c->progress = isatty(STDERR_FILENO);
	while ((ch = getopt_long(argc, argv, "c:n:d:i:khV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			if (units_parse_uint(optarg, BENCH_CONNS_MAX, &v) ==
			    -1 || v == 0)
				return bad("connections", optarg,
				    "1 to " "10000");
			c->conns = (unsigned)v;
			break;
		case 'n':
			if (units_parse_uint(optarg, UINT64_MAX / 2, &v) == -1 ||
			    v == 0)
				return bad("count", optarg, "a positive number");
			c->count = v;
			break;
		case 'd':
			if (units_parse_duration(optarg, &v) == -1 || v == 0)
				return bad("duration", optarg,
				    "a duration such as 30s");
			c->duration_ms = v;
			break;
		case 'i':
			list = optarg;
			break;
		case O_SHA:
			if (parse_hex(optarg, sha) == -1)
				return bad("sha256", optarg, "64 hex digits");
			has_sha = true;
			break;
		case O_SIZE:
			if (units_parse_uint(optarg, INT64_MAX, &v) == -1)
				return bad("size", optarg, "bytes");
			size = (int64_t)v;
			break;
		case O_TARGET:
			if (units_parse_size(optarg, &v) == -1 || v == 0)
				return bad("target", optarg,
				    "a rate such as 64k or 1m");
			c->target = v;
			break;
		case O_INTERVAL:
			if (units_parse_duration(optarg, &v) == -1 || v == 0)
				return bad("interval", optarg,
				    "a duration such as 500ms");
			c->interval_ms = v;
			break;
		case O_RAMP:
			if (units_parse_duration(optarg, &v) == -1 ||
			    v > 3600000)
				return bad("ramp", optarg,
				    "a duration up to 1h");
			c->ramp_ms = v;
			break;
		case O_TIMEOUT:
			if (units_parse_duration(optarg, &v) == -1 ||
			    v > 86400000)
				return bad("timeout", optarg,
				    "a duration up to 24h");
			c->timeout_ms = v;
			break;
		case O_CACERT:
			c->cafile = optarg;
			break;
		case 'k':
			c->insecure = true;
			break;
		case O_RESOLVE:
			if (c->nresolve >= BENCH_RESOLVE_MAX)
				return bad("resolve", optarg, "too many");
			c->resolve[c->nresolve++] = optarg;
			break;
		case O_INTERFACE:
			c->interface = optarg;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "text") != 0 &&
			    strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "csv") != 0)
				return bad("format", optarg,
				    "text, json or csv");
			c->format = optarg;
			break;
		case O_PLOT:
			c->plot = optarg;
			break;
		case O_PROGRESS:
			c->progress = true;
			break;
		case O_NOPROGRESS:
			c->progress = false;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("storage-proxy-bench %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (list != NULL && read_list(c, &cap, list) == -1)
		return -1;
	for (; optind < argc; optind++) {
		if (add_url(c, &cap, argv[optind]) == -1)
			return -1;
		c->urls[c->nurls - 1].size = size;
		if ((c->urls[c->nurls - 1].has_sha = has_sha))
			memcpy(c->urls[c->nurls - 1].sha256, sha, 32);
	}
	if (c->nurls == 0) {
		usage(stderr);
		return -1;
	}
	/* Cross-checks. */
	if (c->duration_ms != 0 && c->count != 0) {
		fprintf(stderr, "storage-proxy-bench: --duration and --count "
		    "exclude each other\n");
		return -1;
	}
	if (c->duration_ms == 0 && c->count == 0)
		c->count = c->nurls > c->conns ? c->nurls : c->conns;
	for (i = 0; i < c->nurls; i++)
		if (strncmp(c->urls[i].url, "http://", 7) != 0 &&
		    strncmp(c->urls[i].url, "https://", 8) != 0) {
			fprintf(stderr, "storage-proxy-bench: '%s': not an "
			    "http or https URL\n", c->urls[i].url);
			return -1;
		}
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench_cfg cfg;
	struct bench_result res;
	uint64_t errs = 0;
	size_t i;
	int k, ret = 2;

	memset(&cfg, 0, sizeof(cfg));
	memset(&res, 0, sizeof(res));
	if (parse_args(argc, argv, &cfg) == -1)
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "storage-proxy-bench: curl_global_init "
		    "failed\n");
		goto out;
	}
	if (run_bench(&cfg, &res) == -1 || report_print(&cfg, &res) == -1)
		goto cleanup;
	if (cfg.plot != NULL && plot_png(&cfg, &res) == -1)
		goto cleanup;
	for (k = 0; k < ERR_KINDS; k++)
		errs += res.errors[k];
	ret = errs > 0 ? 1 : 0;
cleanup:
	run_free(&res);
	curl_global_cleanup();
out:
	for (i = 0; i < cfg.nurls; i++)
		free(cfg.urls[i].url);
	free(cfg.urls);
	return ret;
}
