#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static char text[METRICS_TEXT_MAX];

static void
setup(void)
{
	cr_assert_eq(metrics_init(), 0);
}

static const char *
scrape(void)
{
	struct metrics_gauges g = { .requests = 3, .connections = 7,
	    .suspended = 2, .start_time = 1e9, .cpu_seconds = 1.5,
	    .rss_bytes = 4096, .open_fds = 9, .ready = 1, .version = "9.9" };

	cr_assert_gt(metrics_format(text, sizeof(text), &g), 0);
	return text;
}

/* The value on the line that starts with `series ` in the exposition. */
static double
value(const char *series)
{
	char want[256];
	const char *p;

	snprintf(want, sizeof(want), "\n%s ", series);
	p = strstr(scrape(), want);
	cr_assert_not_null(p, "no series %s", series);
	return strtod(p + strlen(want), NULL);
}

Test(metrics, counters_add_up_across_threads, .init = setup)
{
	double before = value("storage_proxy_sent_bytes_total");

	metrics_add(MC_BYTES_OUT, 1000);
	metrics_add(MC_BYTES_OUT, 24);
	cr_assert_eq(value("storage_proxy_sent_bytes_total"), before + 1024);
}

static void *
hammer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 100000; i++)
		metrics_add(MC_BYTES_IN, 1);
	return NULL;
}

Test(metrics, no_add_is_lost_under_contention, .init = setup)
{
	pthread_t t[40];	/* more threads than shards: some share */
	double before = value("storage_proxy_received_bytes_total");
	int i;

	for (i = 0; i < 40; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (i = 0; i < 40; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(value("storage_proxy_received_bytes_total"),
	    before + 4000000);
}

Test(metrics, gauges_go_up_and_down, .init = setup)
{
	metrics_add(MC_DOWNLOADS_SLOW, 1);
	metrics_add(MC_DOWNLOADS_SLOW, 1);
	metrics_add(MC_DOWNLOADS_SLOW, (uint64_t)-1);
	cr_assert_eq(value("storage_proxy_downloads_active{pace=\"slow\"}"), 1);
	cr_assert_eq(value("storage_proxy_requests_active"), 3);
	cr_assert_eq(value("storage_proxy_client_connections"), 7);
	cr_assert_eq(value("process_open_fds"), 9);
}

Test(metrics, requests_by_method_and_class, .init = setup)
{
	metrics_request(metrics_method("GET"), 200);
	metrics_request(metrics_method("GET"), 206);
	metrics_request(metrics_method("GET"), 499);
	metrics_request(metrics_method("PATCH"), 501);
	metrics_request(metrics_method("PUT"), 0);	/* no status: 5xx */
	cr_assert_eq(value("storage_proxy_requests_total{method=\"GET\","
	    "code=\"2xx\"}"), 2);
	cr_assert_eq(value("storage_proxy_requests_total{method=\"GET\","
	    "code=\"4xx\"}"), 1);
	cr_assert_eq(value("storage_proxy_requests_total{method=\"other\","
	    "code=\"5xx\"}"), 1);
	cr_assert_eq(value("storage_proxy_requests_total{method=\"PUT\","
	    "code=\"5xx\"}"), 1);
	cr_assert_eq(metrics_method("get"), MM_OTHER, "methods are case "
	    "sensitive (RFC 9110)");
}

Test(metrics, histogram_buckets_are_cumulative, .init = setup)
{
	metrics_observe(MH_DURATION, 1000000);		/* 1 ms */
	metrics_observe(MH_DURATION, 700000000);	/* 0.7 s */
	metrics_observe(MH_DURATION, 1000000000);	/* 1 s: le="1" */
	metrics_observe(MH_DURATION, 3600000000000ULL);	/* 1 h: +Inf */
	cr_assert_eq(value("storage_proxy_request_duration_seconds_bucket"
	    "{le=\"0.005\"}"), 1);
	cr_assert_eq(value("storage_proxy_request_duration_seconds_bucket"
	    "{le=\"0.5\"}"), 1);
	cr_assert_eq(value("storage_proxy_request_duration_seconds_bucket"
	    "{le=\"1\"}"), 3);
	cr_assert_eq(value("storage_proxy_request_duration_seconds_bucket"
	    "{le=\"300\"}"), 3);
	cr_assert_eq(value("storage_proxy_request_duration_seconds_bucket"
	    "{le=\"+Inf\"}"), 4);
	cr_assert_eq(value("storage_proxy_request_duration_seconds_count"), 4);
	cr_assert_float_eq(value("storage_proxy_request_duration_seconds_sum"),
	    3601.701, 1e-6);
}

Test(metrics, every_family_has_help_and_type, .init = setup)
{
	const char *p = scrape();
	const char *names[] = { "storage_proxy_build_info",
	    "storage_proxy_requests_total", "storage_proxy_backend_errors_total",
	    "storage_proxy_tls_handshakes_total",
	    "storage_proxy_token_wait_seconds_total",
	    "storage_proxy_backend_headers_seconds",
	    "process_cpu_seconds_total" };
	char want[256];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(want, sizeof(want), "# TYPE %s ", names[i]);
		cr_assert_not_null(strstr(p, want), "%s", names[i]);
		snprintf(want, sizeof(want), "# HELP %s ", names[i]);
		cr_assert_not_null(strstr(p, want), "%s", names[i]);
	}
	cr_assert_not_null(strstr(p, "storage_proxy_build_info{version=\"9.9\"} 1\n"));
	cr_assert_eq(p[strlen(p) - 1], '\n');
}

Test(metrics, refuses_a_buffer_too_small, .init = setup)
{
	struct metrics_gauges g = { .version = "1" };
	char small[512];

	cr_assert_eq(metrics_format(small, sizeof(small), &g), -1);
}
