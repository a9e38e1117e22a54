/*
 * config: the proxy's settings.  Built once at start-up in main's thread:
 * defaults, then the config file, then the environment, then the command
 * line (each later source overrides the earlier), then cross-checks.
 * Read-only afterwards, so any thread may read it.
 */
#ifndef SP_CONFIG_H
#define SP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clientaddr.h"
#include "limiter.h"

#define CONFIG_DEFAULT_CERT	"/var/www/storage-proxy/cert/cert.crt"
#define CONFIG_DEFAULT_KEY	"/var/www/storage-proxy/cert/key.pem"
#define CONFIG_FALLBACK_KEY	"private.key"
#define CONFIG_ENV_PREFIX	"STORAGE_PROXY_"

struct config {
	char		*bind;		/* listen address (numeric) */
	uint64_t	 port;
	bool		 tls;		/* false: plain HTTP */
	char		*cert;		/* PEM file, chain allowed */
	char		*key;		/* PEM file */
	bool		 key_set;	/* key given explicitly (no fallback) */
	char		*tls_priorities; /* GnuTLS priority string */
	bool		 tls_resumption; /* session tickets (tlsticket.h) */
	bool		 security_headers; /* HSTS etc. on TLS responses */
	char		*upstream;	/* base URL, http:// or https:// */
	char		*upstream_ca;	/* file path or inline PEM; "" = system */
	bool		 upstream_verify;
	char		*host;		/* fixed Host upstream; "" = client's */
	uint64_t	 buffer_max;	/* bytes per direction per request */
	uint64_t	 header_max;	/* bytes of request header section */
	uint64_t	 connect_timeout_ms;
	uint64_t	 stall_timeout_ms;	/* no progress for this long ends a transfer */
	uint64_t	 client_timeout_ms;	/* idle client connection */
	uint64_t	 handshake_timeout_ms;	/* accept to TLS handshake done */
	uint64_t	 header_timeout_ms;	/* request start to header end */
	uint64_t	 max_clients_per_addr;	/* 0: half the connection limit */
	uint64_t	 shutdown_timeout_ms;	/* grace for transfers at SIGTERM */
	uint64_t	 max_clients;	/* connections; 0 = from open-file limit */
	uint64_t	 threads;	/* event loops; 0 = one per CPU */
	bool		 access_log;
	char		*access_log_format;	/* "combined" or "json" */
	bool		 access_log_json;	/* access_log_format is json */
	char		*metrics_listen;	/* "host:port"; "" = off */
	/* Limits (issue: traffic shaping); live: SIGHUP applies them to
	 * transfers in flight.  Rates in bytes per second, 0: unlimited. */
	uint64_t	 download_speed;	/* per GET (DOWNLOAD_SPEED) */
	uint64_t	 download_burst;	/* bytes per GET before the rate */
	uint64_t	 bucket_depth;		/* bytes; 0: automatic */
	uint64_t	 client_speed;		/* all GETs of a client address */
	uint64_t	 global_speed;		/* all GETs */
	uint64_t	 upload_speed;		/* per PUT/POST body */
	uint64_t	 max_connections;	/* GETs per address (MAX_CONNECTIONS) */
	uint64_t	 max_token_wait_ms;	/* starvation bound; 0: none */
	char		*cluster_redis;		/* redis:// URL; "" = off */
	uint64_t	 cluster_replicas;	/* expected, for shares before
						 * Redis answers */
	char		*trusted_proxies;	/* list as given */
	struct clientaddr_trust trust;		/* parsed trusted_proxies */
	char		*config_file;	/* "" = none */
	bool		 check_only;	/* -t */
};

/* What main should do after config_load(). */
enum config_action {
	CONFIG_RUN,
	CONFIG_EXIT_OK,		/* --help or --version was printed */
};

/* Fills cfg from defaults, file, environment and argv, then cross-checks.
 * On error returns -1 with a message naming the option (or file:line) in
 * err; main exits with status 2.  cfg owns its strings: config_free(). */
int	config_load(struct config *cfg, int argc, char **argv,
	    enum config_action *action, char *err, size_t errlen);
void	config_free(struct config *cfg);
/* The limiter's view of cfg's limits. */
void	config_limits(const struct config *cfg, struct lim_limits *l);
/* Reload: logs a warning for each option that differs between the running
 * configuration and the new one but only takes effect at restart.
 * Returns how many there were. */
int	config_restart_only(const struct config *running,
	    const struct config *next);
/* Parses "host:port" ("127.0.0.1:9100", "[::1]:9100"; ":9100" is every
 * IPv4 address), numeric only.  Returns 0, or -1 with a message in err.
 * Pure, any thread. */
struct sockaddr_storage;
int	config_hostport(const char *s, struct sockaddr_storage *ss,
	    unsigned *len, char *err, size_t errlen);
/* Logs the settings in force, one line each (log_info). */
void	config_log(const struct config *cfg);

#endif
