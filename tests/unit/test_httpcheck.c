#include <string.h>

#include <criterion/criterion.h>

#include "httpcheck.h"

/* Feeds "Name: value" pairs (NULL-terminated) to a new check and returns
 * the verdict of the whole section. */
static int
check(const char *version, const char **fields, struct httpcheck_req *out)
{
	struct httpcheck_req c;
	size_t i;

	httpcheck_req_init(&c, version);
	for (i = 0; fields[i] != NULL; i += 2)
		httpcheck_req_field(&c, fields[i], strlen(fields[i]),
		    fields[i + 1], strlen(fields[i + 1]));
	httpcheck_req_end(&c);
	if (out != NULL)
		*out = c;
	return c.verdict;
}

Test(httpcheck, accepts_plain_requests)
{
	const char *get[] = { "Host", "s3.example", "X-Amz-Date", "20261203T000000Z",
	    NULL };
	const char *put[] = { "Host", "h", "Content-Length", "5", NULL };
	const char *chunked[] = { "Host", "h", "Transfer-Encoding", "Chunked",
	    NULL };
	const char *old[] = { "Accept", "*/*", NULL };
	struct httpcheck_req c;

	cr_assert_eq(check("HTTP/1.1", get, &c), HTTPCHECK_OK);
	cr_assert_eq(c.length, -1);
	cr_assert_eq(check("HTTP/1.1", put, &c), HTTPCHECK_OK);
	cr_assert_eq(c.length, 5);
	cr_assert_eq(check("HTTP/1.1", chunked, &c), HTTPCHECK_OK);
	cr_assert(c.chunked);
	cr_assert_eq(check("HTTP/1.0", old, NULL), HTTPCHECK_OK);
}

Test(httpcheck, refuses_chunked_in_http10)
{
	const char *f[] = { "Transfer-Encoding", "chunked", NULL };

	cr_assert_eq(check("HTTP/1.0", f, NULL), HTTPCHECK_BAD);
}

Test(httpcheck, refuses_unknown_codings)
{
	const char *te[] = { "identity", "chunked, identity", "xchunked",
	    "gzip, chunked", "", "chunked,", "chunked ", "chunked\t",
	    "chunked;", NULL };
	size_t i;

	for (i = 0; te[i] != NULL; i++) {
		const char *f[] = { "Host", "h", "Transfer-Encoding", te[i],
		    "Content-Length", "5", NULL };

		cr_assert_eq(check("HTTP/1.1", f, NULL), HTTPCHECK_NOT_IMPL,
		    "%s", te[i]);
	}
}

Test(httpcheck, refuses_two_transfer_encoding_lines)
{
	const char *f[] = { "Host", "h", "Transfer-Encoding", "chunked",
	    "Transfer-Encoding", "chunked", NULL };

	cr_assert_eq(check("HTTP/1.1", f, NULL), HTTPCHECK_NOT_IMPL);
}

Test(httpcheck, refuses_length_with_chunked)
{
	const char *a[] = { "Host", "h", "Transfer-Encoding", "chunked",
	    "Content-Length", "5", NULL };
	const char *b[] = { "Host", "h", "Content-Length", "5",
	    "Transfer-Encoding", "chunked", NULL };

	cr_assert_eq(check("HTTP/1.1", a, NULL), HTTPCHECK_BAD);
	cr_assert_eq(check("HTTP/1.1", b, NULL), HTTPCHECK_BAD);
}

Test(httpcheck, refuses_bad_or_duplicate_length)
{
	const char *bad[] = { "+5", "-1", "0x5", "5 5", "5,5", "", " 5",
	    "9223372036854775808", "18446744073709551615",
	    "99999999999999999999", NULL };
	const char *dup[] = { "Host", "h", "Content-Length", "5",
	    "Content-Length", "5", NULL };
	size_t i;

	for (i = 0; bad[i] != NULL; i++) {
		const char *f[] = { "Host", "h", "Content-Length", bad[i], NULL };

		cr_assert_eq(check("HTTP/1.1", f, NULL), HTTPCHECK_BAD, "%s",
		    bad[i]);
	}
	cr_assert_eq(check("HTTP/1.1", dup, NULL), HTTPCHECK_BAD);
}

Test(httpcheck, length_bounds)
{
	int64_t v = 0;

	cr_assert_eq(httpcheck_length("9223372036854775807", 19, &v), 0);
	cr_assert_eq(v, INT64_MAX);
	cr_assert_eq(httpcheck_length("0", 1, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(httpcheck_length("007", 3, &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(httpcheck_length("9223372036854775808", 19, &v), -1);
	/* Only len bytes are read. */
	cr_assert_eq(httpcheck_length("12x", 2, &v), 0);
	cr_assert_eq(v, 12);
}

Test(httpcheck, refuses_names_that_are_not_tokens)
{
	const char *names[] = { "Transfer-Encoding ", "X\x01Y", "X-\xc3\xa9",
	    "", "X:Y", "X Y", "X\"Y", NULL };
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		const char *f[] = { "Host", "h", names[i], "v", NULL };

		cr_assert_eq(check("HTTP/1.1", f, NULL), HTTPCHECK_BAD, "%s",
		    names[i]);
	}
	cr_assert(httpcheck_token("x-amz-content-sha256", 20));
	cr_assert(httpcheck_token("!#$%&'*+-.^_`|~", 15));
}

Test(httpcheck, refuses_control_bytes_in_values)
{
	const char *values[] = { "a\rb", "a\nb", "a\x01", "\x7f", NULL };
	size_t i;

	for (i = 0; values[i] != NULL; i++) {
		const char *f[] = { "Host", "h", "X-A", values[i], NULL };

		cr_assert_eq(check("HTTP/1.1", f, NULL), HTTPCHECK_BAD, "%s",
		    values[i]);
	}
	/* A NUL inside the value: the length says where it ends. */
	cr_assert_not(httpcheck_value("a\0b", 3));
	cr_assert(httpcheck_value("a\tb \xc3\xa9", 6));
	cr_assert(httpcheck_value("", 0));
}

Test(httpcheck, host_required_once_in_http11)
{
	const char *none[] = { "Accept", "*/*", NULL };
	const char *two[] = { "Host", "a", "host", "a", NULL };

	cr_assert_eq(check("HTTP/1.1", none, NULL), HTTPCHECK_BAD);
	cr_assert_eq(check("HTTP/1.0", two, NULL), HTTPCHECK_BAD);
	cr_assert_eq(check("HTTP/1.1", two, NULL), HTTPCHECK_BAD);
}

Test(httpcheck, first_failure_wins)
{
	struct httpcheck_req c;

	httpcheck_req_init(&c, "HTTP/1.1");
	cr_assert_eq(httpcheck_req_field(&c, "Transfer-Encoding", 17, "gzip",
	    4), HTTPCHECK_NOT_IMPL);
	cr_assert_eq(httpcheck_req_field(&c, "X Y", 3, "v", 1),
	    HTTPCHECK_NOT_IMPL);
	cr_assert_eq(httpcheck_req_end(&c), HTTPCHECK_NOT_IMPL);
	cr_assert_not_null(c.why);
}

Test(httpcheck, interim_statuses)
{
	cr_assert(httpcheck_interim(100));
	cr_assert(httpcheck_interim(103));
	cr_assert_not(httpcheck_interim(101));
	cr_assert_not(httpcheck_interim(111));
	cr_assert_not(httpcheck_interim(200));
}

Test(httpcheck, host_values)
{
	const char *good[] = { "s3.docker.mender.io:9000", "s3.example", "",
	    "127.0.0.1", "[::1]:9000", "[fd00::1]", "bucket.s3.amazonaws.com",
	    "my_host%2e:", "a.b:", NULL };
	const char *bad[] = { "x y", "u@x:80", "x:80:90", "x/y", "[::1", "[]",
	    "x:8o", "x?", "x#", "%zz", "h\xc3\xa9", NULL };
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		cr_assert(httpcheck_host(good[i], strlen(good[i])), "%s",
		    good[i]);
	for (i = 0; bad[i] != NULL; i++) {
		const char *f[] = { "Host", bad[i], NULL };

		cr_assert_not(httpcheck_host(bad[i], strlen(bad[i])), "%s",
		    bad[i]);
		cr_assert_eq(check("HTTP/1.1", f, NULL), HTTPCHECK_BAD, "%s",
		    bad[i]);
	}
}
