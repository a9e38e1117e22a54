#include <criterion/criterion.h>
#include <string.h>

#include "accesslog.h"

static char line[ACCESSLOG_LINE_MAX + 1];

static struct accesslog_entry
entry(void)
{
	struct accesslog_entry e = {
		.when = { 1796320591, 538000000 }, .id = 0x2a,
		.client = "192.0.2.1", .method = "GET",
		.target = "/b/k?X-Amz-Signature=REDACTED", .version = "HTTP/1.1",
		.status = 200, .bytes = 1024, .duration = 0.5,
		.up_status = 200, .up_headers = 0.004,
	};
	return e;
}

Test(accesslog, combined_is_nginx_line_with_upstream_fields)
{
	struct accesslog_entry e = entry();

	accesslog_format(line, &e, false);
	cr_assert_str_eq(line, "192.0.2.1 - - [03/Dec/2026:17:56:31 +0000] "
	    "\"GET /b/k?X-Amz-Signature=REDACTED HTTP/1.1\" 200 1024 0.500 "
	    "upstream=200 0.004");
	e.up_headers = -1;
	e.status = 499;
	e.aborted = true;
	e.upstream_error = "Failure when receiving data from the peer";
	accesslog_format(line, &e, false);
	cr_assert_not_null(strstr(line, "\" 499 1024 0.500 upstream=- - aborted "
	    "upstream-error=\"Failure when receiving data from the peer\""),
	    "%s", line);
}

Test(accesslog, json_has_every_field)
{
	struct accesslog_entry e = entry();

	e.refused = "method too long";
	accesslog_format(line, &e, true);
	cr_assert_str_eq(line, "{\"time\":\"2026-12-03T17:56:31.538Z\","
	    "\"request_id\":\"000000000000002a\",\"client\":\"192.0.2.1\","
	    "\"method\":\"GET\",\"target\":\"/b/k?X-Amz-Signature=REDACTED\","
	    "\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes_sent\":1024,"
	    "\"duration\":0.500,\"upstream_status\":200,"
	    "\"upstream_header_time\":0.004,\"aborted\":false,"
	    "\"upstream_error\":null,\"refused\":\"method too long\"}");
}

Test(accesslog, json_escapes_what_a_client_can_send)
{
	struct accesslog_entry e = entry();

	e.target = "/a\"b\\c\n\x01\x7f\xff";
	e.method = "G\"T";
	accesslog_format(line, &e, true);
	cr_assert_not_null(strstr(line, "\"target\":\"/a\\\"b\\\\c\\u000a"
	    "\\u0001\\u007f\\u00ff\""), "%s", line);
	cr_assert_not_null(strstr(line, "\"method\":\"G\\\"T\""), "%s", line);
	cr_assert_null(strchr(line, '\n'));
}

Test(accesslog, a_huge_target_is_cut_and_every_field_kept)
{
	static char target[64 * 1024];
	struct accesslog_entry e = entry();
	size_t n;

	memset(target, '\x01', sizeof(target) - 1);	/* 6 bytes escaped */
	target[0] = '/';
	e.target = target;
	e.upstream_error = "invalid status line";
	n = accesslog_format(line, &e, true);
	cr_assert_leq(n, ACCESSLOG_LINE_MAX);
	cr_assert_eq(line[n - 1], '}');
	cr_assert_not_null(strstr(line, "\"upstream_error\":\"invalid status "
	    "line\",\"refused\":null}"), "%s", line + n - 200);
	/* Never half an escape before the closing quote. */
	cr_assert_not_null(strstr(line, "\\u0001\",\"protocol\""));
	n = accesslog_format(line, &e, false);
	cr_assert_leq(n, ACCESSLOG_LINE_MAX);
	cr_assert_not_null(strstr(line, "upstream-error=\"invalid status line\""));
}

Test(accesslog, json_escape_stops_before_a_split_escape)
{
	char out[8];

	cr_assert_eq(accesslog_json_escape(out, sizeof(out), "ab\x01", 3), 2);
	cr_assert_str_eq(out, "ab");
	cr_assert_eq(accesslog_json_escape(out, sizeof(out), "a\x01", 2), 7);
	cr_assert_str_eq(out, "a\\u0001");
}
