/*
 * headers: the forwarding policy for header fields.
 */

#include <string.h>
#include <strings.h>

#include "headers.h"

/* RFC 9110 7.6.1 names these as connection-specific; Proxy-Connection and
 * Keep-Alive are the common non-standard ones it also tells us to drop. */
static const char *hop_by_hop[] = {
	"Connection", "Proxy-Connection", "Keep-Alive", "TE", "Trailer",
	"Transfer-Encoding", "Upgrade",
};

static const char *proxy_sets[] = {
	"Host", "Content-Length", "X-Forwarded-For",
	"X-Forwarded-Proto",
};

static bool
name_is(const char *name, size_t namelen, const char *want)
{
	return strlen(want) == namelen && strncasecmp(name, want, namelen) == 0;
}

static bool
in_list(const char *name, size_t namelen, const char **list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (name_is(name, namelen, list[i]))
			return true;
	return false;
}

/* Is the name one of the comma-separated tokens of a Connection value? */
static bool
in_connection(const char *name, size_t namelen, const char *connection)
{
	const char *p = connection, *tok;
	size_t len;

	if (connection == NULL)
		return false;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		tok = p;
		while (*p != '\0' && *p != ',')
			p++;
		len = (size_t)(p - tok);
		while (len > 0 && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
			len--;
		if (len > 0 && len == namelen &&
		    strncasecmp(tok, name, namelen) == 0)
			return true;
	}
	return false;
}

bool
headers_has_token(const char *value, const char *token)
{
	return in_connection(token, strlen(token), value);
}

bool
headers_is_hop_by_hop(const char *name, size_t namelen, const char *connection)
{
	return in_list(name, namelen, hop_by_hop,
	    sizeof(hop_by_hop) / sizeof(hop_by_hop[0])) ||
	    in_connection(name, namelen, connection);
}

bool
headers_skip_request(const char *name, const char *connection)
{
	size_t len = strlen(name);

	return headers_is_hop_by_hop(name, len, connection) ||
	    in_list(name, len, proxy_sets,
	    sizeof(proxy_sets) / sizeof(proxy_sets[0]));
}

bool
headers_skip_response(const char *name, size_t namelen, const char *connection)
{
	return headers_is_hop_by_hop(name, namelen, connection) ||
	    name_is(name, namelen, "Content-Length");
}
