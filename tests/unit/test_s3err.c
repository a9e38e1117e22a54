#include <criterion/criterion.h>
#include <string.h>

#include "s3err.h"

Test(s3err, statuses_and_codes)
{
	cr_assert_eq(s3err_status(S3ERR_BAD_GATEWAY), 502);
	cr_assert_eq(s3err_status(S3ERR_GATEWAY_TIMEOUT), 504);
	cr_assert_eq(s3err_status(S3ERR_HEADERS_TOO_LARGE), 431);
	cr_assert_str_eq(s3err_code(S3ERR_BAD_GATEWAY), "BadGateway");
	cr_assert_str_eq(s3err_code(S3ERR_INVALID_URI), "InvalidURI");
	cr_assert_eq(s3err_status(S3ERR_SLOW_DOWN), 503);
	cr_assert_str_eq(s3err_code(S3ERR_SLOW_DOWN), "SlowDown");
	cr_assert_eq(s3err_status(S3ERR_NOT_IMPLEMENTED), 501);
	cr_assert_str_eq(s3err_code(S3ERR_NOT_IMPLEMENTED), "NotImplemented");
}

Test(s3err, document_shape)
{
	char buf[S3ERR_MAX];
	int n;

	n = s3err_format(buf, sizeof(buf), S3ERR_BAD_GATEWAY, NULL,
	    "/bucket/key", "00ab");
	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(buf));
	cr_assert(strncmp(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>", 45) == 0);
	cr_assert_not_null(strstr(buf, "<Code>BadGateway</Code>"));
	cr_assert_not_null(strstr(buf, "<Resource>/bucket/key</Resource>"));
	cr_assert_not_null(strstr(buf, "<RequestId>00ab</RequestId></Error>\n"));
}

Test(s3err, escapes_resource)
{
	char buf[S3ERR_MAX];

	s3err_format(buf, sizeof(buf), S3ERR_INVALID_URI, "bad <uri>",
	    "/b?a=1&b=<x>\"'", "1");
	cr_assert_not_null(strstr(buf,
	    "<Resource>/b?a=1&amp;b=&lt;x&gt;&quot;&apos;</Resource>"));
	cr_assert_not_null(strstr(buf, "<Message>bad &lt;uri&gt;</Message>"));
}

Test(s3err, long_resource_is_cut_and_document_stays_whole)
{
	char buf[S3ERR_MAX], res[3 * S3ERR_MAX];
	int n;

	memset(res, '&', sizeof(res) - 1);
	res[sizeof(res) - 1] = '\0';
	n = s3err_format(buf, sizeof(buf), S3ERR_INTERNAL, NULL, res, "42");
	cr_assert_gt(n, 0);
	cr_assert_lt((size_t)n, sizeof(buf));
	cr_assert_not_null(strstr(buf, "</Resource><RequestId>42</RequestId></Error>\n"));
	cr_assert_null(strstr(buf, "&am<"), "no entity cut in half");
}

Test(s3err, too_small_buffer)
{
	char buf[64];

	cr_assert_eq(s3err_format(buf, sizeof(buf), S3ERR_INTERNAL, NULL, "/",
	    "1"), -1);
}
