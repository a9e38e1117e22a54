/*
 * s3err: S3-style XML error documents.
 */

#include <stdio.h>
#include <string.h>

#include "s3err.h"

static const struct {
	unsigned	 status;
	const char	*code;
	const char	*message;
} table[] = {
	[S3ERR_BAD_REQUEST] = { 400, "InvalidRequest",
	    "The request could not be understood by the proxy." },
	[S3ERR_INVALID_URI] = { 400, "InvalidURI",
	    "Couldn't parse the specified URI." },
	[S3ERR_HEADERS_TOO_LARGE] = { 431, "RequestHeaderSectionTooLarge",
	    "Your request header section exceeds the maximum allowed size." },
	[S3ERR_INTERNAL] = { 500, "InternalError",
	    "The proxy encountered an internal error. Please try again." },
	[S3ERR_NOT_IMPLEMENTED] = { 501, "NotImplemented",
	    "A header you provided implies functionality that is not "
	    "implemented." },
	[S3ERR_BAD_GATEWAY] = { 502, "BadGateway",
	    "The proxy could not get a valid response from the storage backend." },
	[S3ERR_UNAVAILABLE] = { 503, "ServiceUnavailable",
	    "The proxy is temporarily unable to handle the request." },
	[S3ERR_SLOW_DOWN] = { 503, "SlowDown",
	    "Too many concurrent downloads from your address. Please retry "
	    "when one has finished." },
	[S3ERR_GATEWAY_TIMEOUT] = { 504, "GatewayTimeout",
	    "The storage backend did not answer in time." },
};

unsigned
s3err_status(enum s3err e)
{
	return table[e].status;
}

const char *
s3err_code(enum s3err e)
{
	return table[e].code;
}

/* Appends s to buf at *len, XML-escaped, stopping before an entity that
 * would not fit into lim bytes (lim leaves room for what must follow). */
static void
append_escaped(char *buf, size_t *len, size_t lim, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		const char *rep;
		char one[2] = { *s, '\0' };
		size_t n;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default: rep = one; break;
		}
		n = strlen(rep);
		if (*len + n >= lim)
			return;
		memcpy(buf + *len, rep, n);
		*len += n;
	}
	buf[*len] = '\0';
}

int
s3err_format(char *buf, size_t cap, enum s3err err, const char *detail,
    const char *resource, const char *request_id)
{
	static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Error><Code>";
	static const char tail[] = "</RequestId></Error>\n";
	size_t len = 0, reserve;

	/* Fixed parts plus the tags, computed generously. */
	reserve = sizeof(head) + sizeof(tail) + 64 + strlen(table[err].code);
	if (cap < reserve + 256)
		return -1;
	len = (size_t)snprintf(buf, cap, "%s%s</Code><Message>", head,
	    table[err].code);
	append_escaped(buf, &len, cap - sizeof(tail) - 96,
	    detail != NULL ? detail : table[err].message);
	len += (size_t)snprintf(buf + len, cap - len, "</Message><Resource>");
	append_escaped(buf, &len, cap - sizeof(tail) - 64, resource);
	len += (size_t)snprintf(buf + len, cap - len, "</Resource><RequestId>");
	append_escaped(buf, &len, cap - sizeof(tail), request_id);
	len += (size_t)snprintf(buf + len, cap - len, "%s", tail);
	return (int)len;
}
