# Integration tests, for the top-level Makefile.am:
#   include tests/integration/local.mk
#   TESTS = ... $(integration_tests)
#   EXTRA_DIST = ... $(integration_extra)
# They need the built daemon (./src/storage-proxy from the build dir, or
# $STORAGE_PROXY), s3rver, curl, openssl and Debian's python3-boto3:
# contrib/setup-debian.sh installs them.
integration_tests = \
	tests/integration/roundtrip.sh \
	tests/integration/multipart.sh \
	tests/integration/range.sh \
	tests/integration/presigned.sh \
	tests/integration/backend_down.sh \
	tests/integration/truncation.sh \
	tests/integration/plain_http.sh \
	tests/integration/passthrough.sh \
	tests/integration/security_headers.sh \
	tests/integration/security_headers_backend.sh \
	tests/integration/length_zero.sh \
	tests/integration/headers_large.sh \
	tests/integration/client_abort.sh \
	tests/integration/access_log.sh \
	tests/integration/metrics_prometheus.sh \
	tests/integration/access_log_json.sh \
	tests/integration/health.sh \
	tests/integration/upstream_tls.sh \
	tests/integration/cli.sh \
	tests/integration/aws_chunked.sh \
	tests/integration/streaming_memory.sh \
	tests/integration/stall_timeout.sh \
	tests/integration/concurrency.sh \
	tests/integration/graceful_shutdown.sh \
	tests/integration/shutdown_keepalive.sh \
	tests/integration/send_timeout.sh \
	tests/integration/tls.sh \
	tests/integration/slow_client.sh \
	tests/integration/sigv4_selftest.sh \
	tests/integration/many_slow_clients.sh \
	tests/integration/hop_by_hop.sh \
	tests/integration/hangup_waiting.sh \
	tests/integration/backend_timeout.sh \
	tests/integration/expect_continue.sh \
	tests/integration/early_answer.sh \
	tests/integration/early_answer_faults.sh \
	tests/integration/expect_quiet.sh \
	tests/integration/expect_other.sh \
	tests/integration/not_modified_keepalive.sh \
	tests/integration/empty_header_value.sh \
	tests/integration/upload_stall.sh \
	tests/integration/upstream_reuse.sh \
	tests/integration/tls_files.sh \
	tests/integration/tls_one_hello.sh \
	tests/integration/tls_resumption.sh \
	tests/integration/tls_ffdhe.sh \
	tests/integration/tls_ecdsa.sh \
	tests/integration/cert_reload.sh \
	tests/integration/methods.sh \
	tests/integration/response_headers.sh \
	tests/integration/limit_rate.sh \
	tests/integration/limit_connections.sh \
	tests/integration/cluster_conns.sh tests/integration/cluster_lease.sh \
	tests/integration/cluster_redis_down.sh tests/integration/cluster_bad_url.sh \
	tests/integration/cluster_global_speed.sh tests/integration/cluster_client_speed.sh \
	tests/integration/cluster_reload.sh tests/integration/cluster_redis_stuck.sh \
	tests/integration/cluster_redis_auth.sh \
	tests/integration/limit_client.sh \
	tests/integration/limit_global.sh \
	tests/integration/limit_upload.sh \
	tests/integration/limit_xff.sh \
	tests/integration/limit_reload.sh \
	tests/integration/limit_burst.sh \
	tests/integration/limit_starvation.sh \
	tests/integration/bench_verify.sh \
	tests/integration/bench_agrees.sh \
	tests/integration/hostile_framing.sh \
	tests/integration/hostile_requests.sh \
	tests/integration/hostile_responses.sh \
	tests/integration/hostile_xff.sh \
	tests/integration/hostile_log.sh \
	tests/integration/stalled_handshake.sh \
	tests/integration/stalled_headers.sh \
	tests/integration/slowloris.sh \
	tests/integration/address_cap.sh \
	tests/integration/client_limit.sh \
	tests/integration/systemd_unit.sh

integration_extra = $(integration_tests) \
	tests/integration/lib.sh \
	tests/integration/sigv4_verify.py \
	tests/integration/fault_server.py \
	tests/integration/hostile.py \
	tests/integration/hostile_lib.sh \
	tests/integration/stall_clients.py \
	tests/integration/stall_lib.sh
