/*
 * accesslog: one access-log line per request, in nginx's combined style
 * (with the backend's fields appended) or as one JSON object.
 * Pure: the caller passes every field, the clock included.  Any thread.
 */
#ifndef ACCESSLOG_H
#define ACCESSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct accesslog_entry {
	struct timespec	 when;		/* CLOCK_REALTIME at the end */
	uint64_t	 id;		/* request id (x-amz-request-id of
					 * the proxy's own errors) */
	const char	*client;	/* client address */
	/* As the client sent them (the target with signatures masked,
	 * target_redact()); escaped here. */
	const char	*method, *target, *version;
	unsigned	 status;	/* sent; 499: the client left */
	uint64_t	 bytes;		/* body bytes sent */
	double		 duration;	/* s */
	long		 up_status;	/* backend status; 0: none */
	double		 up_headers;	/* s to the backend's headers; < 0:
					 * none */
	bool		 aborted;	/* the exchange did not end cleanly */
	const char	*upstream_error;	/* static text, or NULL */
	const char	*refused;	/* static text, or NULL */
};

/* Longest line written, in bytes, without the newline.  Longer fields
 * are cut (the target first, at 2 KiB escaped). */
#define ACCESSLOG_LINE_MAX	8000

/* Writes e as one line without newline into out (at least
 * ACCESSLOG_LINE_MAX + 1 bytes).  Returns its length. */
size_t	accesslog_format(char *out, const struct accesslog_entry *e,
	    bool json);
/* Copies len bytes of in to out (cap > 0, always NUL-terminated) as the
 * body of a JSON string: '"', '\\' and bytes outside printable ASCII
 * become escapes (\u00XX: a byte over 0x7f reads as that code point, so
 * the line stays valid JSON whatever the client sent).  An escape that
 * does not fit is dropped with all that follows.  Returns the length. */
size_t	accesslog_json_escape(char *out, size_t cap, const char *in,
	    size_t len);

#endif
