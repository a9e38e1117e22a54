/*
 * accesslog: the combined-style and the JSON access-log line.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "accesslog.h"
#include "log.h"

/* Room kept after the target for the fields that follow it: the target
 * is escaped into what is left of the line, and cut there (never inside
 * an escape), so that the line keeps every field and stays valid JSON. */
#define TAIL_RESERVE	1024
/* Method and version are at most 15 bytes (request.h); escaped, 6 each. */
#define SHORT_ESC	(6 * 16 + 1)

size_t
accesslog_json_escape(char *out, size_t cap, const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			if (o + 1 >= cap)
				break;
			out[o++] = (char)c;
		} else if (c == '"' || c == '\\') {
			if (o + 2 >= cap)
				break;
			out[o++] = '\\';
			out[o++] = (char)c;
		} else {
			if (o + 6 >= cap)
				break;
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 0xf];
			o += 6;
		}
	}
	out[o] = '\0';
	return o;
}

/* Appends to a line of ACCESSLOG_LINE_MAX bytes; what does not fit is
 * cut. */
struct line {
	char	*buf;
	size_t	 len;
};

static void __attribute__((format(printf, 2, 3)))
add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= ACCESSLOG_LINE_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, ACCESSLOG_LINE_MAX + 1 - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
	if (l->len > ACCESSLOG_LINE_MAX)
		l->len = ACCESSLOG_LINE_MAX;
}

/* Bytes the target may take escaped, from where the line is now. */
static size_t
room(const struct line *l)
{
	return l->len + TAIL_RESERVE < ACCESSLOG_LINE_MAX ?
	    ACCESSLOG_LINE_MAX - TAIL_RESERVE - l->len : 1;
}

/* nginx's combined line, its escapes (log_escape()), then the backend's
 * status and time to headers and why the exchange failed, if it did. */
static void
combined(struct line *l, const struct accesslog_entry *e)
{
	char target[ACCESSLOG_LINE_MAX], method[SHORT_ESC], version[SHORT_ESC];
	char when[64];
	struct tm tm;

	gmtime_r(&e->when.tv_sec, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	log_escape(method, sizeof(method), e->method, strlen(e->method));
	log_escape(version, sizeof(version), e->version, strlen(e->version));
	add(l, "%s - - [%s] \"%s ", e->client, when, method[0] ? method : "-");
	log_escape(target, room(l), e->target, strlen(e->target));
	add(l, "%s %s\" %u %llu %.3f upstream=", target, version, e->status,
	    (unsigned long long)e->bytes, e->duration);
	if (e->up_headers >= 0)
		add(l, "%ld %.3f", e->up_status, e->up_headers);
	else
		add(l, "- -");
	if (e->aborted)
		add(l, " aborted");
	if (e->upstream_error != NULL)
		add(l, " upstream-error=\"%s\"", e->upstream_error);
	if (e->refused != NULL)
		add(l, " refused=\"%s\"", e->refused);
}

/* A JSON string field, or null; its value escaped into cap bytes at most
 * (the fields other than the target are short: TAIL_RESERVE holds them). */
static void
jstr(struct line *l, const char *name, const char *v, size_t cap)
{
	char esc[ACCESSLOG_LINE_MAX];

	if (v == NULL) {
		add(l, ",\"%s\":null", name);
		return;
	}
	add(l, ",\"%s\":\"", name);
	accesslog_json_escape(esc, cap < sizeof(esc) ? cap : sizeof(esc), v,
	    strlen(v));
	add(l, "%s\"", esc);
}

static void
json(struct line *l, const struct accesslog_entry *e)
{
	char when[64];
	struct tm tm;

	gmtime_r(&e->when.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	add(l, "{\"time\":\"%s.%03ldZ\",\"request_id\":\"%016llx\"", when,
	    e->when.tv_nsec / 1000000, (unsigned long long)e->id);
	jstr(l, "client", e->client, SHORT_ESC);
	jstr(l, "method", e->method, SHORT_ESC);
	jstr(l, "target", e->target, room(l));
	jstr(l, "protocol", e->version, SHORT_ESC);
	add(l, ",\"status\":%u,\"bytes_sent\":%llu,\"duration\":%.3f",
	    e->status, (unsigned long long)e->bytes, e->duration);
	if (e->up_headers >= 0)
		add(l, ",\"upstream_status\":%ld,\"upstream_header_time\":%.3f",
		    e->up_status, e->up_headers);
	else
		add(l, ",\"upstream_status\":null,\"upstream_header_time\":null");
	add(l, ",\"aborted\":%s", e->aborted ? "true" : "false");
	jstr(l, "upstream_error", e->upstream_error, 256);
	jstr(l, "refused", e->refused, 256);
	add(l, "}");
}

size_t
accesslog_format(char *out, const struct accesslog_entry *e, bool as_json)
{
	struct line l = { out, 0 };

	out[0] = '\0';
	if (as_json)
		json(&l, e);
	else
		combined(&l, e);
	return l.len;
}
