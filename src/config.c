/*
 * config: defaults, table-driven parsing of file / environment / command
 * line, cross-checks.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "config.h"
#include "redisurl.h"
#include "log.h"
#include "target.h"
#include "units.h"

enum opt_type { T_STR, T_BOOL, T_SIZE, T_DURATION, T_UINT };

struct opt {
	const char	*name;		/* long option and config-file key */
	char		 shortopt;	/* 0: none */
	enum opt_type	 type;
	size_t		 off;		/* offset in struct config */
	uint64_t	 min, max;	/* bounds for numbers */
	const char	*def;		/* default, parsed like any other value */
	const char	*help;
	bool		 live;		/* SIGHUP applies it without restart */
	const char	*legacy_env;	/* also read from this variable (the
					 * deployment's name), below ours */
};

#define OFF(f)	offsetof(struct config, f)
#define KiB	1024ULL
#define MiB	(1024ULL * 1024)
#define DAY_MS	(24ULL * 3600 * 1000)
#define RATE_MAX (1ULL << 50)	/* 1 PiB/s: no overflow in the limiter */

/* Modern TLS only: 1.2 and 1.3, AEAD ciphers, forward-secret key exchange
 * over elliptic curves only (RSA or ECDSA certificates).  Groups X25519,
 * then P-256 and P-384, no finite-field DH: GnuTLS 3.7 picks the group
 * from the client's list before it looks at the key shares, and asks for
 * another share (HelloRetryRequest, a round trip more) if the client sent
 * none for it.  NORMAL's order, P-256 first, did that to openssl, curl and
 * Go clients, whose one share is X25519; with X25519 first,
 * %SERVER_PRECEDENCE keeps our order and costs them nothing (a client that
 * lists X25519 but sends only a P-256 share is now the one asked again). */
#define DEFAULT_PRIORITIES \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:" \
	"+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:" \
	"-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA:-GROUP-ALL:+GROUP-X25519:" \
	"+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE"

static const struct opt opts[] = {
	{ "port", 'p', T_UINT, OFF(port), 1, 65535, "9000",
	    "TCP port to listen on", false, NULL },
	{ "bind", 'b', T_STR, OFF(bind), 0, 0, "0.0.0.0",
	    "address to listen on (IPv4 or IPv6, numeric)", false, NULL },
	{ "tls", 0, T_BOOL, OFF(tls), 0, 0, "on",
	    "serve HTTPS (off: plain HTTP behind another TLS terminator)", false, NULL },
	{ "cert", 0, T_STR, OFF(cert), 0, 0, CONFIG_DEFAULT_CERT,
	    "certificate file (PEM, chain allowed)", true, NULL },
	{ "key", 0, T_STR, OFF(key), 0, 0, CONFIG_DEFAULT_KEY,
	    "private key file (PEM); default: key.pem beside the certificate, "
	    "or " CONFIG_FALLBACK_KEY " there if key.pem is absent", true, NULL },
	{ "tls-priorities", 0, T_STR, OFF(tls_priorities), 0, 0,
	    DEFAULT_PRIORITIES, "GnuTLS priority string", false, NULL },
	{ "tls-resumption", 0, T_BOOL, OFF(tls_resumption), 0, 0, "on",
	    "TLS session resumption (tickets, TLS 1.2 and 1.3) under a key "
	    "kept in memory only, new at each start, rotated every 3 hours",
	    false, NULL },
	{ "security-headers", 0, T_BOOL, OFF(security_headers), 0, 0, "on",
	    "add Strict-Transport-Security, X-Frame-Options and "
	    "X-Content-Type-Options to HTTPS responses (each unless the "
	    "backend sent its own)", false, NULL },
	{ "upstream", 'u', T_STR, OFF(upstream), 0, 0, "http://minio:9000",
	    "S3 backend base URL (http:// or https://)", false, NULL },
	{ "upstream-ca", 0, T_STR, OFF(upstream_ca), 0, 0, "",
	    "CA for an https backend: a file path or inline PEM "
	    "(default: the system's)", false, NULL },
	{ "upstream-verify", 0, T_BOOL, OFF(upstream_verify), 0, 0, "on",
	    "verify the https backend's certificate and name", false, NULL },
	{ "host", 0, T_STR, OFF(host), 0, 0, "",
	    "Host sent upstream (default: the client's, verbatim)", false, NULL },
	{ "buffer-max", 0, T_SIZE, OFF(buffer_max), 64 * KiB, 1024 * MiB, "4m",
	    "largest buffer per request and direction; it grows only for "
	    "clients that drain it", false, NULL },
	{ "header-max", 0, T_SIZE, OFF(header_max), 8 * KiB, 1024 * KiB, "64k",
	    "largest request header section (larger gets 431)", false, NULL },
	{ "connect-timeout", 0, T_DURATION, OFF(connect_timeout_ms), 1,
	    DAY_MS, "10s", "time to connect to the backend", false, NULL },
	{ "stall-timeout", 0, T_DURATION, OFF(stall_timeout_ms), 1000, DAY_MS,
	    "60s", "a backend transfer with no progress for this long fails", false, NULL },
	{ "client-timeout", 0, T_DURATION, OFF(client_timeout_ms), 1000,
	    DAY_MS, "60s", "an idle client connection is closed after this", false, NULL },
	{ "handshake-timeout", 0, T_DURATION, OFF(handshake_timeout_ms), 100,
	    DAY_MS, "10s", "a client's TLS handshake must be done within this "
	    "of its connection", false, NULL },
	{ "header-timeout", 0, T_DURATION, OFF(header_timeout_ms), 100,
	    DAY_MS, "10s", "a request's header section must arrive within "
	    "this of its first byte (of the handshake's end, for a "
	    "connection's first request)", false, NULL },
	{ "shutdown-timeout", 0, T_DURATION, OFF(shutdown_timeout_ms), 0,
	    DAY_MS, "30s", "on SIGTERM, time left to transfers in flight", false, NULL },
	{ "max-clients", 0, T_UINT, OFF(max_clients), 0, 1000000, "0",
	    "concurrent client connections (0: as many as open files allow)", false, NULL },
	{ "max-clients-per-address", 0, T_UINT, OFF(max_clients_per_addr), 0,
	    1000000, "0", "concurrent client connections from one address "
	    "(0: half of max-clients; trusted proxies are exempt)", false,
	    NULL },
	{ "threads", 0, T_UINT, OFF(threads), 0, 256, "0",
	    "event loops, one thread each (0: one per CPU)", false, NULL },
	{ "access-log", 0, T_BOOL, OFF(access_log), 0, 0, "on",
	    "one line per request on stdout", false, NULL },
	{ "access-log-format", 0, T_STR, OFF(access_log_format), 0, 0,
	    "combined", "combined (nginx's line with upstream fields) or json "
	    "(one object per line)", false, NULL },
	{ "metrics-listen", 0, T_STR, OFF(metrics_listen), 0, 0, "",
	    "address:port for plain HTTP /metrics (Prometheus), /healthz and "
	    "/readyz, apart from the S3 port (127.0.0.1:9100, [::1]:9100, "
	    ":9100 for all IPv4 addresses); empty: off", false, NULL },
	{ "download-speed", 0, T_SIZE, OFF(download_speed), 0, RATE_MAX, "0",
	    "rate of each GET in bytes per second (512k, 1m; k = 1024), like "
	    "nginx's limit_rate; 0: unlimited", true, "DOWNLOAD_SPEED" },
	{ "max-connections", 0, T_UINT, OFF(max_connections), 0, 1000000, "0",
	    "concurrent GETs per client address; one more gets 503 SlowDown; "
	    "0: unlimited", true, "MAX_CONNECTIONS" },
	{ "download-burst", 0, T_SIZE, OFF(download_burst), 0, RATE_MAX, "0",
	    "bytes of each GET sent at full speed before download-speed "
	    "applies, like nginx's limit_rate_after", true, NULL },
	{ "bucket-depth", 0, T_SIZE, OFF(bucket_depth), 0, RATE_MAX, "0",
	    "token bucket depth in bytes: what a transfer that paused may send "
	    "at once (0: 100 ms of the rate, at least 64k)", true, NULL },
	{ "client-speed", 0, T_SIZE, OFF(client_speed), 0, RATE_MAX, "0",
	    "rate shared fairly by all GETs of one client address; "
	    "0: unlimited", true, NULL },
	{ "global-speed", 0, T_SIZE, OFF(global_speed), 0, RATE_MAX, "0",
	    "rate shared fairly by all GETs; 0: unlimited", true, NULL },
	{ "upload-speed", 0, T_SIZE, OFF(upload_speed), 0, RATE_MAX, "0",
	    "rate of each PUT or POST body; 0: unlimited", true, NULL },
	{ "max-token-wait", 0, T_DURATION, OFF(max_token_wait_ms), 0, DAY_MS,
	    "30s", "no transfer waits longer than this for tokens; limits may "
	    "be exceeded to keep it (0: no bound)", true, NULL },
	{ "cluster-redis", 0, T_STR, OFF(cluster_redis), 0, 0, "",
	    "redis://[[user]:password@]host[:port][/db]: replicas share "
	    "max-connections, global-speed and client-speed through this "
	    "Redis; empty: off", false, NULL },
	{ "cluster-replicas", 0, T_UINT, OFF(cluster_replicas), 1, 1000, "1",
	    "replicas expected in cluster mode: until Redis has answered, "
	    "each takes this fraction of global-speed and client-speed",
	    false, NULL },
	{ "trusted-proxies", 0, T_STR, OFF(trusted_proxies), 0, 0, "",
	    "addresses or networks (10.0.0.0/8, ::1) whose X-Forwarded-For "
	    "names the client for per-client limits", true, NULL },
};
#define NOPTS	(sizeof(opts) / sizeof(opts[0]))

static int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct opt *
find_long(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static const struct opt *
find_short(char c)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (opts[i].shortopt == c)
			return &opts[i];
	return NULL;
}

static const char *
type_hint(enum opt_type t)
{
	switch (t) {
	case T_BOOL: return "on or off";
	case T_SIZE: return "a size such as 512k or 4m";
	case T_DURATION: return "a duration such as 500ms, 30s or 5m";
	case T_UINT: return "a whole number";
	default: return "a string";
	}
}

/* Stores value into the field of o; where names the source for errors
 * ("--port", "STORAGE_PROXY_PORT", "file:12"). */
static int
set_opt(struct config *cfg, const struct opt *o, const char *value,
    const char *where, char *err, size_t errlen)
{
	char *field = (char *)cfg + o->off;
	uint64_t n;
	int rc = 0;

	switch (o->type) {
	case T_STR:
		free(*(char **)field);
		if ((*(char **)field = strdup(value)) == NULL)
			return errf(err, errlen, "%s: out of memory", where);
		return 0;
	case T_BOOL:
		if (units_parse_bool(value, (bool *)field) == -1)
			goto bad;
		return 0;
	case T_SIZE:
		rc = units_parse_size(value, &n);
		break;
	case T_DURATION:
		rc = units_parse_duration(value, &n);
		break;
	case T_UINT:
		rc = units_parse_uint(value, UINT64_MAX, &n);
		break;
	}
	if (rc == -1)
		goto bad;
	if (n < o->min || n > o->max)
		return errf(err, errlen, "%s: '%s' is out of range for %s "
		    "(%llu to %llu%s)", where, value, o->name,
		    (unsigned long long)o->min, (unsigned long long)o->max,
		    o->type == T_SIZE ? " bytes" :
		    o->type == T_DURATION ? " ms" : "");
	*(uint64_t *)field = n;
	return 0;
bad:
	return errf(err, errlen, "%s: invalid value '%s' for %s: expected %s",
	    where, value, o->name, type_hint(o->type));
}

static void
env_name(const struct opt *o, char *buf, size_t len)
{
	size_t i, n = strlen(CONFIG_ENV_PREFIX);

	snprintf(buf, len, "%s%s", CONFIG_ENV_PREFIX, o->name);
	for (i = n; buf[i] != '\0'; i++)
		buf[i] = buf[i] == '-' ? '_' : (char)toupper((unsigned char)buf[i]);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Reads one line, its '\n' included, into buf (cap bytes).  Returns its
 * length, 0 at the end of the file, or -1 if it does not fit.  Unlike
 * fgets(), the length counts NUL bytes, so that they can be refused. */
static ssize_t
read_line(FILE *f, char *buf, size_t cap)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF) {
		if (n + 1 >= cap)
			return -1;
		buf[n++] = (char)c;
		if (c == '\n')
			break;
	}
	buf[n] = '\0';
	return (ssize_t)n;
}

/* Config file: "name = value" lines; '#' starts a comment line; values may
 * be double-quoted.  Lines are at most 4 KiB, the file at most 1 MiB. */
static int
parse_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char line[4096], where[512];
	unsigned lineno = 0;
	long total = 0;
	int rc = -1;

	if ((f = fopen(path, "r")) == NULL)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	for (;;) {
		char *p, *eq, *name, *value;
		const struct opt *o;
		ssize_t n;
		size_t vlen;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if ((n = read_line(f, line, sizeof(line))) == 0)
			break;
		if (n < 0) {
			errf(err, errlen, "%s: line longer than %zu bytes",
			    where, sizeof(line) - 2);
			goto out;
		}
		total += (long)n;
		if (total > 1024 * 1024) {
			errf(err, errlen, "%s: file larger than 1 MiB", where);
			goto out;
		}
		if (memchr(line, '\0', (size_t)n) != NULL) {
			errf(err, errlen, "%s: NUL byte in the line", where);
			goto out;
		}
		p = trim(line);
		if (*p == '\0' || *p == '#')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			errf(err, errlen, "%s: expected 'name = value'", where);
			goto out;
		}
		*eq = '\0';
		name = trim(p);
		value = trim(eq + 1);
		vlen = strlen(value);
		if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
			value[vlen - 1] = '\0';
			value++;
		}
		if ((o = find_long(name, strlen(name))) == NULL) {
			errf(err, errlen, "%s: unknown option '%s'", where,
			    name);
			goto out;
		}
		if (set_opt(cfg, o, value, where, err, errlen) == -1)
			goto out;
		if (o->off == OFF(key))
			cfg->key_set = true;
	}
	if (ferror(f)) {
		errf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

static int
parse_env(struct config *cfg, char *err, size_t errlen)
{
	char name[128];
	const char *v;
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		/* The deployment's names; empty means unset, as there. */
		if (opts[i].legacy_env != NULL &&
		    (v = getenv(opts[i].legacy_env)) != NULL && v[0] != '\0' &&
		    set_opt(cfg, &opts[i], v, opts[i].legacy_env, err,
		    errlen) == -1)
			return -1;
		env_name(&opts[i], name, sizeof(name));
		if ((v = getenv(name)) == NULL)
			continue;
		if (set_opt(cfg, &opts[i], v, name, err, errlen) == -1)
			return -1;
		if (opts[i].off == OFF(key))
			cfg->key_set = true;
	}
	return 0;
}

static void
usage(FILE *out)
{
	char env[128];
	size_t i;

	fprintf(out, "usage: storage-proxy [-htV] [-c file] [--option value ...]\n"
	    "\nAn HTTPS front for S3 object storage.\n\n"
	    "  -c, --config FILE        read settings from FILE "
	    "(name = value lines)\n"
	    "  -t, --test               check the configuration and exit\n"
	    "  -h, --help               this text\n"
	    "  -V, --version            print the version\n\n");
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];

		env_name(o, env, sizeof(env));
		if (o->shortopt)
			fprintf(out, "  -%c, --%s\n", o->shortopt, o->name);
		else
			fprintf(out, "      --%s\n", o->name);
		fprintf(out, "        %s\n        default: %s; environment: %s%s%s"
		    "%s\n", o->help, o->def[0] ? o->def : "(none)", env,
		    o->legacy_env ? " or " : "", o->legacy_env ? o->legacy_env :
		    "", o->live ? "; reloaded on SIGHUP" : "");
	}
	fprintf(out, "\nPrecedence: command line, then environment, then the "
	    "config file, then the defaults.\n");
}

/* One pass over argv.  With files_only, only -c/--config is taken (the file
 * is read before the environment and the other options). */
static int
parse_args(struct config *cfg, int argc, char **argv, bool files_only,
    enum config_action *action, char *err, size_t errlen)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *value = NULL, *eq;
		const struct opt *o = NULL;
		char where[160];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			if (!files_only) {
				usage(stdout);
				*action = CONFIG_EXIT_OK;
				return 0;
			}
			continue;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			if (!files_only) {
				printf("storage-proxy %s\n", PACKAGE_VERSION);
				*action = CONFIG_EXIT_OK;
				return 0;
			}
			continue;
		}
		if (strcmp(a, "-t") == 0 || strcmp(a, "--test") == 0) {
			cfg->check_only = true;
			continue;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
		    strncmp(a, "--config=", 9) == 0) {
			if (a[1] == '-' && a[8] == '=')
				value = a + 9;
			else if (i + 1 < argc)
				value = argv[++i];
			else
				return errf(err, errlen, "%s: needs a value", a);
			if (files_only) {
				free(cfg->config_file);
				if ((cfg->config_file = strdup(value)) == NULL)
					return errf(err, errlen, "out of memory");
			}
			continue;
		}
		if (a[0] == '-' && a[1] == '-') {
			eq = strchr(a + 2, '=');
			o = find_long(a + 2, eq ? (size_t)(eq - a - 2) :
			    strlen(a + 2));
			if (eq != NULL)
				value = eq + 1;
		} else if (a[0] == '-' && a[1] != '\0' && a[2] == '\0')
			o = find_short(a[1]);
		if (o == NULL)
			return errf(err, errlen, "unknown option '%s' "
			    "(see --help)", a);
		if (value == NULL) {
			if (i + 1 >= argc)
				return errf(err, errlen, "--%s: needs a value",
				    o->name);
			value = argv[++i];
		}
		if (files_only)
			continue;
		snprintf(where, sizeof(where), "--%s", o->name);
		if (set_opt(cfg, o, value, where, err, errlen) == -1)
			return -1;
		if (o->off == OFF(key))
			cfg->key_set = true;
	}
	return 0;
}

/* Without --key, the key is key.pem beside the certificate, or
 * private.key there when key.pem is absent (later compose files mount it
 * under that name). */
static int
resolve_key(struct config *cfg, char *err, size_t errlen)
{
	static const char *names[] = { "key.pem", CONFIG_FALLBACK_KEY };
	const char *slash;
	size_t dirlen, i;
	char *path;

	if (cfg->key_set)
		return 0;
	slash = strrchr(cfg->cert, '/');
	dirlen = slash ? (size_t)(slash - cfg->cert + 1) : 0;
	for (i = 0; i < 2; i++) {
		if ((path = malloc(dirlen + strlen(names[i]) + 1)) == NULL)
			return errf(err, errlen, "out of memory");
		memcpy(path, cfg->cert, dirlen);
		strcpy(path + dirlen, names[i]);
		if (i == 0 || access(path, F_OK) == 0) {
			free(cfg->key);
			cfg->key = path;
			if (access(path, F_OK) == 0)
				return 0;
		} else
			free(path);
	}
	return 0;	/* key.pem: tls_load() names it if it is missing */
}

static uint64_t	port_of(const struct sockaddr_storage *);

static int
check(struct config *cfg, char *err, size_t errlen)
{
	char msg[512];

	if (target_validate_base(cfg->upstream) == -1)
		return errf(err, errlen, "upstream: '%s' is not an http:// or "
		    "https:// URL without query", cfg->upstream);
	if (strpbrk(cfg->host, " \t\r\n") != NULL)
		return errf(err, errlen, "host: '%s' contains white space",
		    cfg->host);
	if (cfg->tls && resolve_key(cfg, err, errlen) == -1)
		return -1;
	if (cfg->bucket_depth > 0 && cfg->bucket_depth < 4096)
		return errf(err, errlen, "bucket-depth: %llu bytes is less than "
		    "one chunk (4096 bytes); use 0 for automatic",
		    (unsigned long long)cfg->bucket_depth);
	if (clientaddr_parse_trust(cfg->trusted_proxies, &cfg->trust, msg,
	    sizeof(msg)) == -1)
		return errf(err, errlen, "trusted-proxies: %s", msg);
	if (cfg->cluster_redis[0] != '\0') {
		struct redisurl u;

		if (redisurl_parse(cfg->cluster_redis, &u, msg,
		    sizeof(msg)) == -1)
			return errf(err, errlen, "cluster-redis: %s", msg);
	}
	if (strcmp(cfg->access_log_format, "combined") != 0 &&
	    strcmp(cfg->access_log_format, "json") != 0)
		return errf(err, errlen, "access-log-format: '%s' is not "
		    "combined or json", cfg->access_log_format);
	cfg->access_log_json = strcmp(cfg->access_log_format, "json") == 0;
	if (cfg->metrics_listen[0] != '\0') {
		struct sockaddr_storage ss;
		unsigned len;

		if (config_hostport(cfg->metrics_listen, &ss, &len, msg,
		    sizeof(msg)) == -1)
			return errf(err, errlen, "metrics-listen: %s", msg);
		if (port_of(&ss) == cfg->port)
			return errf(err, errlen, "metrics-listen: port %llu is "
			    "the S3 port; give it a port of its own",
			    (unsigned long long)cfg->port);
	}
	return 0;
}

static uint64_t
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->
		    sin6_port);
	return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
}

int
config_hostport(const char *s, struct sockaddr_storage *ss, unsigned *len,
    char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	uint64_t port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if ((colon = strrchr(s, ':')) == NULL)
		return errf(err, errlen, "'%s' is not address:port", s);
	if (units_parse_uint(colon + 1, 65535, &port) == -1 || port == 0)
		return errf(err, errlen, "'%s': the port is not 1-65535", s);
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return errf(err, errlen, "'%s': address too long", s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;

		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return errf(err, errlen, "'%s': not a numeric IPv6 "
			    "address", s);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;

		if (hl == 0)
			a4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return errf(err, errlen, "'%s': not a numeric IPv4 "
			    "address (IPv6 goes in brackets)", s);
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
	}
	return 0;
}

void
config_limits(const struct config *cfg, struct lim_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->download_rate = cfg->download_speed;
	l->download_burst = cfg->download_burst;
	l->depth = cfg->bucket_depth;
	l->client_rate = cfg->client_speed;
	l->global_rate = cfg->global_speed;
	l->upload_rate = cfg->upload_speed;
	l->max_wait_ns = cfg->max_token_wait_ms * 1000000ULL;
	l->max_conns = cfg->max_connections;
}

int
config_restart_only(const struct config *a, const struct config *b)
{
	size_t i;
	int n = 0;

	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		const char *fa = (const char *)a + o->off;
		const char *fb = (const char *)b + o->off;
		bool same;

		if (o->live)
			continue;
		if (o->type == T_STR)
			same = strcmp(*(char *const *)(const void *)fa,
			    *(char *const *)(const void *)fb) == 0;
		else if (o->type == T_BOOL)
			same = *(const bool *)fa == *(const bool *)fb;
		else
			same = *(const uint64_t *)(const void *)fa ==
			    *(const uint64_t *)(const void *)fb;
		if (!same) {
			log_warn("reload: %s changed; it takes effect only at "
			    "restart", o->name);
			n++;
		}
	}
	return n;
}

int
config_load(struct config *cfg, int argc, char **argv,
    enum config_action *action, char *err, size_t errlen)
{
	const char *envfile;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	*action = CONFIG_RUN;
	for (i = 0; i < NOPTS; i++)
		if (set_opt(cfg, &opts[i], opts[i].def, "default", err,
		    errlen) == -1)
			return -1;
	if ((cfg->config_file = strdup("")) == NULL)
		return errf(err, errlen, "out of memory");
	if ((envfile = getenv(CONFIG_ENV_PREFIX "CONFIG")) != NULL) {
		free(cfg->config_file);
		if ((cfg->config_file = strdup(envfile)) == NULL)
			return errf(err, errlen, "out of memory");
	}
	if (parse_args(cfg, argc, argv, true, action, err, errlen) == -1)
		return -1;
	if (cfg->config_file[0] != '\0' &&
	    parse_file(cfg, cfg->config_file, err, errlen) == -1)
		return -1;
	if (parse_env(cfg, err, errlen) == -1)
		return -1;
	if (parse_args(cfg, argc, argv, false, action, err, errlen) == -1)
		return -1;
	if (*action != CONFIG_RUN)
		return 0;
	return check(cfg, err, errlen);
}

void
config_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (opts[i].type == T_STR)
			free(*(char **)((char *)cfg + opts[i].off));
	free(cfg->config_file);
	memset(cfg, 0, sizeof(*cfg));
}

void
config_log(const struct config *cfg)
{
	size_t i;

	log_info("configuration in force%s%s:", cfg->config_file[0] ?
	    " (file " : "", cfg->config_file[0] ? cfg->config_file : "");
	for (i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		const char *field = (const char *)cfg + o->off;
		/* Only a numeric field is read as one: a bool may sit at any
		 * byte, and reading 8 bytes there is a misaligned load. */
		uint64_t n = o->type == T_STR || o->type == T_BOOL ? 0 :
		    *(const uint64_t *)(const void *)field;

		switch (o->type) {
		case T_STR: {
			const char *s = *(char *const *)(const void *)field;

			if (o->off == OFF(upstream_ca) && strstr(s, "-----BEGIN"))
				s = "(inline PEM)";
			if (o->off == OFF(cluster_redis) && s[0] != '\0') {
				struct redisurl u;
				char e[128];

				/* Never the password. */
				if (redisurl_parse(s, &u, e, sizeof(e)) == 0)
					log_info("  %s = redis://%s%s%s%s:%u/%u",
					    o->name, u.password[0] ?
					    "(credentials)@" : "",
					    strchr(u.host, ':') ? "[" : "",
					    u.host, strchr(u.host, ':') ?
					    "]" : "", u.port, u.db);
				break;
			}
			log_info("  %s = %s", o->name, s[0] ? s : "(none)");
			break;
		}
		case T_BOOL:
			log_info("  %s = %s", o->name,
			    *(const bool *)field ? "on" : "off");
			break;
		case T_SIZE:
			log_info("  %s = %llu bytes", o->name,
			    (unsigned long long)n);
			break;
		case T_DURATION:
			log_info("  %s = %llu ms", o->name,
			    (unsigned long long)n);
			break;
		case T_UINT:
			log_info("  %s = %llu", o->name, (unsigned long long)n);
			break;
		}
	}
}
