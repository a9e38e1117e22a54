#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "config.h"

static int
load(struct config *c, char **argv, char *err)
{
	enum config_action a;
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return config_load(c, argc, argv, &a, err, 512);
}

static void
clean_env(void)
{
	unsetenv("STORAGE_PROXY_PORT");
	unsetenv("STORAGE_PROXY_UPSTREAM");
	unsetenv("STORAGE_PROXY_CONFIG");
	unsetenv("STORAGE_PROXY_BUFFER_MAX");
	unsetenv("STORAGE_PROXY_DOWNLOAD_SPEED");
	unsetenv("DOWNLOAD_SPEED");
	unsetenv("MAX_CONNECTIONS");
}

Test(config, defaults_match_the_deployment, .init = clean_env)
{
	struct config c;
	char err[512];
	char *argv[] = { "storage-proxy", "--tls", "off", NULL };

	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_eq(c.port, 9000);
	cr_assert_str_eq(c.upstream, "http://minio:9000");
	cr_assert_str_eq(c.cert, CONFIG_DEFAULT_CERT);
	cr_assert_str_eq(c.host, "");
	cr_assert_eq(c.buffer_max, 4 * 1024 * 1024);
	cr_assert_eq(c.header_max, 64 * 1024);
	cr_assert(c.upstream_verify);
	config_free(&c);
}

Test(config, precedence_cli_over_env_over_file, .init = clean_env)
{
	struct config c;
	char err[512], path[] = "/tmp/sp-config-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char *argv[] = { "storage-proxy", "-c", path, "--port=9100", NULL };

	fprintf(f, "# comment\nport = 9001\nupstream = \"http://file:1\"\n"
	    "buffer-max = 1m\ntls = off\n");
	fclose(f);
	setenv("STORAGE_PROXY_UPSTREAM", "http://env:2", 1);
	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_eq(c.port, 9100, "command line wins");
	cr_assert_str_eq(c.upstream, "http://env:2", "environment beats file");
	cr_assert_eq(c.buffer_max, 1024 * 1024, "file beats default");
	config_free(&c);
	unlink(path);
}

Test(config, errors_name_the_option, .init = clean_env)
{
	struct config c;
	char err[512];
	char *a1[] = { "storage-proxy", "--port", "70000", NULL };
	char *a2[] = { "storage-proxy", "--stall-timeout", "soon", NULL };
	char *a3[] = { "storage-proxy", "--no-such", "1", NULL };
	char *a4[] = { "storage-proxy", "--tls", "off", "--upstream",
	    "minio:9000", NULL };
	char *a5[] = { "storage-proxy", "--buffer-max", NULL };

	cr_assert_eq(load(&c, a1, err), -1);
	cr_assert_not_null(strstr(err, "port"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, a2, err), -1);
	cr_assert_not_null(strstr(err, "--stall-timeout"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, a3, err), -1);
	cr_assert_not_null(strstr(err, "--no-such"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, a4, err), -1);
	cr_assert_not_null(strstr(err, "upstream"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, a5, err), -1);
	cr_assert_not_null(strstr(err, "buffer-max"), "%s", err);
	config_free(&c);
}

Test(config, env_error_names_variable, .init = clean_env)
{
	struct config c;
	char err[512];
	char *argv[] = { "storage-proxy", NULL };

	setenv("STORAGE_PROXY_BUFFER_MAX", "lots", 1);
	cr_assert_eq(load(&c, argv, err), -1);
	cr_assert_not_null(strstr(err, "STORAGE_PROXY_BUFFER_MAX"), "%s", err);
	config_free(&c);
}

Test(config, file_errors_name_file_and_line, .init = clean_env)
{
	struct config c;
	char err[512], path[] = "/tmp/sp-config-XXXXXX", want[64];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char *argv[] = { "storage-proxy", "--config", path, NULL };

	fprintf(f, "port = 9001\n\nthreads = many\n");
	fclose(f);
	cr_assert_eq(load(&c, argv, err), -1);
	snprintf(want, sizeof(want), "%s:3", path);
	cr_assert_not_null(strstr(err, want), "%s", err);
	config_free(&c);
	unlink(path);
}

Test(config, file_nul_byte_and_long_line_named, .init = clean_env)
{
	struct config c;
	char err[512], path[] = "/tmp/sp-config-XXXXXX", want[64];
	char long_line[5000];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char *argv[] = { "storage-proxy", "--config", path, NULL };
	static const char nul[] = "port = 9001\nthreads = 2\0junk\n";

	fwrite(nul, 1, sizeof(nul) - 1, f);
	fclose(f);
	cr_assert_eq(load(&c, argv, err), -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte", path);
	cr_assert_not_null(strstr(err, want), "%s", err);
	config_free(&c);

	memset(long_line, '#', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	f = fopen(path, "w");
	fprintf(f, "port = 9001\n%s\n", long_line);
	fclose(f);
	cr_assert_eq(load(&c, argv, err), -1);
	snprintf(want, sizeof(want), "%s:2: line longer", path);
	cr_assert_not_null(strstr(err, want), "%s", err);
	config_free(&c);

	/* The longest line that fits, and a last line without '\n'. */
	long_line[4094] = '\0';
	f = fopen(path, "w");
	fprintf(f, "%s\nport = 9001", long_line);
	fclose(f);
	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_eq(c.port, 9001);
	config_free(&c);
	unlink(path);
}

Test(config, key_beside_certificate_with_private_key_fallback, .init = clean_env)
{
	struct config c;
	char err[512], dir[] = "/tmp/sp-keys-XXXXXX", cert[128], key[128],
	    priv[128];
	char *argv[] = { "storage-proxy", "--cert", cert, NULL };
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/cert.crt", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(priv, sizeof(priv), "%s/private.key", dir);
	/* Neither file: key.pem, so that the error names the usual file. */
	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_str_eq(c.key, key);
	config_free(&c);
	/* Only private.key: that one. */
	f = fopen(priv, "w");
	fclose(f);
	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_str_eq(c.key, priv);
	config_free(&c);
	/* Both: key.pem wins. */
	f = fopen(key, "w");
	fclose(f);
	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_str_eq(c.key, key);
	config_free(&c);
	/* An explicit key is kept as given, even if absent. */
	setenv("STORAGE_PROXY_KEY", "/nonexistent/k.pem", 1);
	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_str_eq(c.key, "/nonexistent/k.pem");
	config_free(&c);
	unsetenv("STORAGE_PROXY_KEY");
	unlink(priv);
	unlink(key);
	rmdir(dir);
}

Test(config, deployment_limit_variables, .init = clean_env)
{
	struct config c;
	struct lim_limits l;
	char err[512];
	char *argv[] = { "storage-proxy", "--tls", "off", NULL };

	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_eq(c.download_speed, 0, "unset: unlimited");
	cr_assert_eq(c.max_connections, 0, "unset: unlimited");
	cr_assert_eq(c.max_token_wait_ms, 30000);
	config_free(&c);

	setenv("DOWNLOAD_SPEED", "1m", 1);
	setenv("MAX_CONNECTIONS", "100", 1);
	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_eq(c.download_speed, 1048576, "nginx size syntax, m = 1024^2");
	cr_assert_eq(c.max_connections, 100);
	config_limits(&c, &l);
	cr_assert_eq(l.download_rate, 1048576);
	cr_assert_eq(l.max_conns, 100);
	cr_assert_eq(l.max_wait_ns, 30000000000ULL);
	config_free(&c);

	setenv("DOWNLOAD_SPEED", "512k", 1);
	setenv("STORAGE_PROXY_DOWNLOAD_SPEED", "2m", 1);
	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_eq(c.download_speed, 2097152, "our own name wins");
	config_free(&c);
	unsetenv("STORAGE_PROXY_DOWNLOAD_SPEED");

	setenv("DOWNLOAD_SPEED", "", 1);
	cr_assert_eq(load(&c, argv, err), 0, "%s", err);
	cr_assert_eq(c.download_speed, 0, "empty means unset, as in the container");
	config_free(&c);

	setenv("DOWNLOAD_SPEED", "1 MB", 1);
	cr_assert_eq(load(&c, argv, err), -1);
	cr_assert_not_null(strstr(err, "DOWNLOAD_SPEED"), "%s", err);
	config_free(&c);
}

Test(config, limit_cross_checks, .init = clean_env)
{
	struct config c;
	char err[512];
	char *depth[] = { "storage-proxy", "--tls", "off", "--bucket-depth",
	    "100", NULL };
	char *trust[] = { "storage-proxy", "--tls", "off", "--trusted-proxies",
	    "10.0.0.0/8, 10.0.0.0/40", NULL };
	char *good[] = { "storage-proxy", "--tls", "off", "--trusted-proxies",
	    "10.0.0.0/8 ::1", "--client-speed", "2m", NULL };

	cr_assert_eq(load(&c, depth, err), -1);
	cr_assert_not_null(strstr(err, "bucket-depth"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, trust, err), -1);
	cr_assert_not_null(strstr(err, "trusted-proxies"), "%s", err);
	cr_assert_not_null(strstr(err, "10.0.0.0/40"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, good, err), 0, "%s", err);
	cr_assert_eq(c.trust.n, 2);
	cr_assert_eq(c.client_speed, 2097152);
	config_free(&c);
}

Test(config, reload_names_restart_only_options, .init = clean_env)
{
	struct config a, b;
	char err[512];
	char *argv1[] = { "storage-proxy", "--tls", "off", NULL };
	char *argv2[] = { "storage-proxy", "--tls", "off", "--port", "9001",
	    "--download-speed", "1m", NULL };

	cr_assert_eq(load(&a, argv1, err), 0, "%s", err);
	cr_assert_eq(load(&b, argv2, err), 0, "%s", err);
	cr_assert_eq(config_restart_only(&a, &b), 1, "port only; limits are live");
	cr_assert_eq(config_restart_only(&a, &a), 0);
	config_free(&a);
	config_free(&b);
}

Test(config, hostport_parses_ipv4_ipv6_and_any)
{
	struct sockaddr_storage ss;
	unsigned len;
	char err[256];
	const struct sockaddr_in *a4 = (const void *)&ss;
	const struct sockaddr_in6 *a6 = (const void *)&ss;

	cr_assert_eq(config_hostport("127.0.0.1:9100", &ss, &len, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(ss.ss_family, AF_INET);
	cr_assert_eq(ntohs(a4->sin_port), 9100);
	cr_assert_eq(ntohl(a4->sin_addr.s_addr), 0x7f000001);
	cr_assert_eq(len, sizeof(struct sockaddr_in));
	cr_assert_eq(config_hostport(":9100", &ss, &len, err, sizeof(err)), 0);
	cr_assert_eq(a4->sin_addr.s_addr, htonl(INADDR_ANY));
	cr_assert_eq(config_hostport("[::1]:65535", &ss, &len, err,
	    sizeof(err)), 0, "%s", err);
	cr_assert_eq(ss.ss_family, AF_INET6);
	cr_assert_eq(ntohs(a6->sin6_port), 65535);
	cr_assert(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));
}

Test(config, hostport_refuses_what_is_not_numeric_host_and_port)
{
	static const char *bad[] = { "", "9100", "localhost:9100",
	    "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:9x",
	    "::1:9100", "[::1]", "[zz]:1", "1.2.3.4.5:80",
	    "127.0.0.1:99999999999999999999" };
	struct sockaddr_storage ss;
	unsigned len, i;
	char err[256];

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(config_hostport(bad[i], &ss, &len, err,
		    sizeof(err)), -1, "'%s' accepted", bad[i]);
}

Test(config, metrics_and_log_format_are_checked, .init = clean_env)
{
	struct config c;
	char err[512];
	char *a1[] = { "storage-proxy", "--metrics-listen", "localhost:9100",
	    NULL };
	char *a2[] = { "storage-proxy", "--metrics-listen", "127.0.0.1:9000",
	    "--tls", "off", NULL };
	char *a3[] = { "storage-proxy", "--access-log-format", "xml",
	    "--tls", "off", NULL };
	char *a4[] = { "storage-proxy", "--access-log-format", "json",
	    "--metrics-listen", "[::1]:9100", "--tls", "off", NULL };

	cr_assert_eq(load(&c, a1, err), -1);
	cr_assert_not_null(strstr(err, "metrics-listen"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, a2, err), -1);
	cr_assert_not_null(strstr(err, "S3 port"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, a3, err), -1);
	cr_assert_not_null(strstr(err, "access-log-format"), "%s", err);
	config_free(&c);
	cr_assert_eq(load(&c, a4, err), 0, "%s", err);
	cr_assert(c.access_log_json);
	cr_assert_str_eq(c.metrics_listen, "[::1]:9100");
	config_free(&c);
}
