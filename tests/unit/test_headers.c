#include <criterion/criterion.h>
#include <string.h>

#include "headers.h"

static bool
hbh(const char *name, const char *conn)
{
	return headers_is_hop_by_hop(name, strlen(name), conn);
}

Test(headers, fixed_hop_by_hop_fields)
{
	cr_assert(hbh("Connection", NULL));
	cr_assert(hbh("keep-alive", NULL));
	cr_assert(hbh("TRANSFER-ENCODING", NULL));
	cr_assert(hbh("TE", NULL));
	cr_assert(hbh("Trailer", NULL));
	cr_assert(hbh("Upgrade", NULL));
	cr_assert(hbh("Proxy-Connection", NULL));
	cr_assert(!hbh("Content-Type", NULL));
	cr_assert(!hbh("x-amz-date", NULL));
	cr_assert(!hbh("Authorization", NULL));
	cr_assert(!hbh("Tea", NULL), "prefix of TE must not match");
}

Test(headers, fields_named_in_connection)
{
	const char *conn = "close, X-Custom ,\tfoo-bar";

	cr_assert(hbh("x-custom", conn));
	cr_assert(hbh("Foo-Bar", conn));
	cr_assert(hbh("close", conn));
	cr_assert(!hbh("X-Cust", conn));
	cr_assert(!hbh("X-Custom-2", conn));
	cr_assert(!hbh("x-amz-content-sha256", conn));
	cr_assert(!hbh("Foo", ",,,"));
}

Test(headers, request_policy)
{
	cr_assert(headers_skip_request("Host", NULL));
	cr_assert(headers_skip_request("content-length", NULL));
	/* Forwarded: the backend answers the expectation (server.c). */
	cr_assert(!headers_skip_request("Expect", NULL));
	cr_assert(headers_skip_request("X-Forwarded-For", NULL));
	cr_assert(headers_skip_request("Keep-Alive", NULL));
	cr_assert(!headers_skip_request("x-amz-content-sha256", NULL));
	cr_assert(!headers_skip_request("x-amz-decoded-content-length", NULL));
	cr_assert(!headers_skip_request("Content-Encoding", NULL));
	cr_assert(!headers_skip_request("Range", NULL));
	cr_assert(headers_skip_request("Range", "range"));
}

Test(headers, response_policy)
{
	cr_assert(headers_skip_response("Content-Length", 14, NULL));
	cr_assert(headers_skip_response("Transfer-Encoding", 17, NULL));
	cr_assert(headers_skip_response("Connection", 10, NULL));
	cr_assert(!headers_skip_response("ETag", 4, NULL));
	cr_assert(!headers_skip_response("Content-Range", 13, NULL));
	cr_assert(!headers_skip_response("Last-Modified", 13, NULL));
	cr_assert(!headers_skip_response("x-amz-request-id", 16, NULL));
	cr_assert(headers_skip_response("X-Hop", 5, " x-hop"));
	/* The length is of the name only: a longer string must not match. */
	cr_assert(headers_skip_response("TEXYZ", 2, NULL));
}

Test(headers, connection_tokens)
{
	cr_assert(headers_has_token("close", "close"));
	cr_assert(headers_has_token("keep-alive, Close", "close"));
	cr_assert(headers_has_token(" x-a ,\tclose\t", "close"));
	cr_assert(!headers_has_token("closed", "close"));
	cr_assert(!headers_has_token("keep-alive", "close"));
	cr_assert(!headers_has_token(NULL, "close"));
	cr_assert(!headers_has_token("", "close"));
}
