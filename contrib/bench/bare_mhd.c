/*
 * bare_mhd: libmicrohttpd with GnuTLS doing nothing but answer, the
 * floor under any proxy built on them.  GET answers 200 with SIZE bytes
 * from memory (one response object, made once); PUT and POST read the
 * body and drop it, then answer 204.  libmicrohttpd's own epoll thread
 * pool, N threads, the TLS priorities storage-proxy uses by default.
 * Not part of the product: contrib/bench/floor.sh runs it beside
 * storage-proxy, a minimal libmicrohttpd + libcurl proxy (proto_loop.c)
 * and nginx.
 *
 * Build:  cc -O2 -o bare_mhd contrib/bench/bare_mhd.c -lmicrohttpd
 * Run:    bare_mhd PORT CERT KEY [THREADS [SIZE]]   (defaults 2, 4096)
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEM_MAX		(64 * 1024)
#define PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA:-GROUP-ALL:" \
	"+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%SERVER_PRECEDENCE"

static struct MHD_Response *ok, *empty;

static char *
slurp(const char *path)
{
	FILE *f;
	char *b;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL || (b = malloc(PEM_MAX)) == NULL) {
		perror(path);
		exit(1);
	}
	n = fread(b, 1, PEM_MAX - 1, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *data_size, void **state)
{
	static int started;

	(void)cls;
	(void)url;
	(void)version;
	(void)data;
	if (*state == NULL) {
		*state = &started;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return MHD_queue_response(c, MHD_HTTP_OK, ok);
	if (*data_size != 0) {
		*data_size = 0;
		return MHD_YES;
	}
	return MHD_queue_response(c, MHD_HTTP_NO_CONTENT, empty);
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	unsigned threads;
	size_t size;
	char *body;
	sigset_t set;
	int sig;

	if (argc < 4) {
		fprintf(stderr, "usage: bare_mhd PORT CERT KEY [THREADS [SIZE]]\n");
		return 2;
	}
	threads = argc > 4 ? (unsigned)atoi(argv[4]) : 2;
	size = argc > 5 ? (size_t)atol(argv[5]) : 4096;
	if ((body = malloc(size > 0 ? size : 1)) == NULL)
		return 1;
	memset(body, 'x', size);
	ok = MHD_create_response_from_buffer(size, body, MHD_RESPMEM_PERSISTENT);
	empty = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	signal(SIGPIPE, SIG_IGN);
	/* Blocked before the library's threads start, so that they inherit
	 * the mask and sigwait() below takes SIGTERM. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_EPOLL_INTERNAL_THREAD,
	    (uint16_t)atoi(argv[1]), NULL, NULL, answer, NULL,
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_HTTPS_MEM_CERT, slurp(argv[2]),
	    MHD_OPTION_HTTPS_MEM_KEY, slurp(argv[3]),
	    MHD_OPTION_HTTPS_PRIORITIES, PRIORITIES,
	    MHD_OPTION_CONNECTION_LIMIT, 4000U,
	    MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "bare_mhd: the daemon did not start\n");
		return 1;
	}
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
