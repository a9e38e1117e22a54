/*
 * tls: loading and checking the server's certificate and key at start-up
 * (main thread).  libmicrohttpd takes them as PEM in memory.
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

/* Largest certificate or key file read, in bytes. */
#define TLS_FILE_MAX	(1024 * 1024)

struct tls_pem {
	char	*cert;	/* owned, NUL-terminated PEM (chain allowed) */
	char	*key;	/* owned */
};

/* Reads certfile and keyfile, checks that they parse, that the key belongs
 * to the first certificate and that the priority string is valid.
 * Returns 0, or -1 with a message naming the file in err. */
int	tls_load(const char *certfile, const char *keyfile,
	    const char *priorities, struct tls_pem *out, char *err,
	    size_t errlen);
/* Wipes the key from memory and frees both. */
void	tls_free(struct tls_pem *);

/* Reads a whole file of at most max bytes into a NUL-terminated buffer
 * the caller frees.  Returns NULL with a message in err. */
char	*tls_read_file(const char *path, size_t max, char *err,
	    size_t errlen);

#endif
