/*
 * log: errors and notices on stderr, the access log on stdout.
 * Each line goes out in one write(2), so lines of different threads never
 * interleave.  Any thread.
 */
#ifndef LOG_H
#define LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Longest line written, in bytes; longer ones are cut. */
#define LOG_LINE_MAX	8192

void	log_set_access(bool enabled);
bool	log_access_enabled(void);

void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One access-log line (no trailing newline in fmt). */
void	log_access(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copies len bytes of in to out (cap > 0 bytes, always NUL-terminated)
 * for a log line, as nginx escapes its access log: bytes outside
 * printable ASCII, '"' and '\\' become "\\xHH", so that a client cannot
 * forge a field or a line.  A byte whose escape does not fit is dropped
 * with all that follows.  Returns the length written.  Pure, any thread. */
size_t	log_escape(char *out, size_t cap, const char *in, size_t len);
/* Start-up failures only: prints the message and exits with status 1. */
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
