/*
 * Fuzz harness: config, the configuration file's lines (and through them
 * the value parsers and the cross-checks).  Sources: src/config.c
 * src/clientaddr.c src/log.c src/target.c src/units.c.
 *
 * Input: the configuration file.  It is written to an unlinked temporary
 * file, read through /proc/self/fd/N by config_load() with the command
 * line "storage-proxy --config PATH" and an environment without the
 * proxy's variables.
 */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "config.h"
#include "target.h"

#define FUZZ_NAME "config"
#include "fuzz.h"

extern char **environ;

static int fd = -1;
static char path[64];

/* The proxy's own variables would change what the file means. */
static void
clean_env(void)
{
	size_t i;
	int again = 1;

	while (again) {
		again = 0;
		for (i = 0; environ != NULL && environ[i] != NULL; i++) {
			const char *e = environ[i], *eq = strchr(e, '=');
			char name[256];
			size_t n = eq != NULL ? (size_t)(eq - e) : strlen(e);

			if (n >= sizeof(name))
				continue;
			memcpy(name, e, n);
			name[n] = '\0';
			if (strncmp(name, CONFIG_ENV_PREFIX,
			    strlen(CONFIG_ENV_PREFIX)) == 0 ||
			    strcmp(name, "DOWNLOAD_SPEED") == 0 ||
			    strcmp(name, "MAX_CONNECTIONS") == 0) {
				unsetenv(name);
				again = 1;
				break;
			}
		}
	}
}

static void
fuzz_init(void)
{
	char tmpl[4096];
	const char *dir = getenv("TMPDIR");

	clean_env();
	snprintf(tmpl, sizeof(tmpl), "%s/fuzz_config.XXXXXX",
	    dir != NULL && dir[0] != '\0' ? dir : "/tmp");
	if ((fd = mkstemp(tmpl)) == -1) {
		perror(tmpl);
		exit(1);
	}
	unlink(tmpl);	/* nothing left behind, however the process ends */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
}

static void
fuzz_one(const unsigned char *data, size_t len)
{
	char *argv[] = { "storage-proxy", "--config", path, NULL };
	struct config cfg;
	enum config_action action;
	char err[512];
	size_t off = 0;
	ssize_t w;
	int rc;

	if (ftruncate(fd, 0) == -1)
		abort();
	while (off < len) {
		if ((w = pwrite(fd, data + off, len - off, (off_t)off)) <= 0)
			abort();
		off += (size_t)w;
	}

	memset(err, 'Z', sizeof(err));
	err[0] = '\0';
	rc = config_load(&cfg, 3, argv, &action, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc == -1) {
		FUZZ_CHECK(err[0] != '\0');	/* an error says what */
	} else {
		FUZZ_CHECK(action == CONFIG_RUN);
		FUZZ_CHECK(strcmp(cfg.config_file, path) == 0);
		FUZZ_CHECK(target_validate_base(cfg.upstream) == 0);
		FUZZ_CHECK(cfg.port >= 1 && cfg.port <= 65535);
		FUZZ_CHECK(cfg.bind != NULL && cfg.cert != NULL &&
		    cfg.key != NULL && cfg.host != NULL &&
		    cfg.tls_priorities != NULL && cfg.upstream_ca != NULL &&
		    cfg.trusted_proxies != NULL);
		FUZZ_CHECK(strpbrk(cfg.host, " \t\r\n") == NULL);
		FUZZ_CHECK(cfg.buffer_max >= 64 * 1024 &&
		    cfg.buffer_max <= 1024 * 1024 * 1024);
		FUZZ_CHECK(cfg.header_max >= 8 * 1024 &&
		    cfg.header_max <= 1024 * 1024);
		FUZZ_CHECK(cfg.bucket_depth == 0 || cfg.bucket_depth >= 4096);
		FUZZ_CHECK(cfg.trust.n <= CLIENTADDR_MAX_NETS);
		/* A reload to the same file changes nothing. */
		{
			struct config again;
			char err2[512];

			FUZZ_CHECK(config_load(&again, 3, argv, &action, err2,
			    sizeof(err2)) == 0);
			FUZZ_CHECK(config_restart_only(&cfg, &again) == 0);
			config_free(&again);
		}
	}
	config_free(&cfg);
}
