/*
 * redisurl: a Redis server's address as Redis clients write it:
 *   redis://[[user]:password@]host[:port][/db]
 * (host a name, an IPv4 address or [IPv6]; port 6379; db 0).  rediss://
 * (TLS) is refused: Debian 12's hiredis (0.14) has no TLS.  Pure parsing:
 * no lookup, no I/O.
 */
#ifndef REDISURL_H
#define REDISURL_H

#define REDISURL_HOST_MAX	256
#define REDISURL_CRED_MAX	256

struct redisurl {
	char		 host[REDISURL_HOST_MAX];	/* without brackets */
	unsigned	 port;
	unsigned	 db;
	char		 user[REDISURL_CRED_MAX];	/* "" : none (AUTH pass) */
	char		 password[REDISURL_CRED_MAX];	/* "" : no AUTH */
};

/* Parses url into u.  Returns 0, or -1 with a message in err saying what
 * is wrong (the password is never quoted back). */
int	redisurl_parse(const char *url, struct redisurl *u, char *err,
	    size_t errlen);

#endif
