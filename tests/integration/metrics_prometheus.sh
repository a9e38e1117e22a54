#!/bin/bash
# A real Prometheus server scrapes the proxy's metrics listener: the target
# is up, and the counters it stored match what the test did and what the
# access log says (requests by method and class, 503 SlowDown refusals,
# bytes in and out); promtool accepts the exposition.
. "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null && command -v promtool >/dev/null ||
	fail "prometheus and promtool not installed (apt-get install prometheus)"
make_cert "$T/cert"
start_s3rver
MP=$(free_port)
# One GET per address at a time and a slow rate: a second GET meanwhile
# is refused with 503 SlowDown.
start_proxy --upstream "http://$S3RVER_ADDR" --metrics-listen "127.0.0.1:$MP" \
	--max-connections 1 --download-speed 1m
METRICS=http://127.0.0.1:$MP/metrics

random_file "$T/obj" 1
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="metrics")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="metrics", Key="obj", Body=f)
PY
CURL="curl -sS --cacert $CERT"
for i in 1 2 3; do
	$CURL -o "$T/got$i" "$PROXY_URL/metrics/obj" || fail "GET $i failed"
	same_sha "$T/obj" "$T/got$i" "GET $i"
done
# Two refusals while one throttled GET (1 s at 1 MiB/s) runs.
$CURL -o "$T/slow" "$PROXY_URL/metrics/obj" &
SLOW=$!
sleep 0.3
for i in 1 2; do
	code=$($CURL -o /dev/null -w '%{http_code}' "$PROXY_URL/metrics/obj")
	[ "$code" = 503 ] || fail "GET beside a running one: $code, not 503"
done
curl -sS "$METRICS" | grep -qx 'storage_proxy_downloads_active{pace="shaped"} 1' ||
	fail "the throttled GET is not shown as an active shaped download"
curl -sS "$METRICS" | grep -qx 'storage_proxy_requests_active 1' ||
	fail "the throttled GET is not shown as an active request"
wait "$SLOW" || fail "the throttled GET failed"
same_sha "$T/obj" "$T/slow" "throttled GET"
code=$($CURL -o /dev/null -w '%{http_code}' "$PROXY_URL/metrics/missing")
[ "$code" = 404 ] || fail "missing object: $code"
ok "4 GETs 200, 2 GETs 503, 1 GET 404, 2 PUTs"

# The exposition as promtool reads it.
curl -sS -o "$T/metrics.txt" "$METRICS" || fail "GET /metrics failed"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.log" 2>&1 ||
	fail "promtool check metrics: $(cat "$T/promtool.log")"
ok "promtool check metrics accepts the exposition"

PP=$(free_port)
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: storage-proxy
    static_configs:
      - targets: ['127.0.0.1:$MP']
YML
spawn prometheus prometheus --config.file="$T/prometheus.yml" \
	--storage.tsdb.path="$T/tsdb" --web.listen-address="127.0.0.1:$PP"
PROM_PID=$SPAWNED
wait_port "$PP" "$PROM_PID" prometheus

# query EXPR: the value of a one-element instant vector, or "none".
query() {
	curl -sS -G "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
		$PY -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "none")'
}
# The access log's sums: the counters must agree with them.
LOGGED_OUT=$(awk '{ s += $10 } END { print s }' "$T/proxy.log")
i=0
until [ "$(query 'up{job="storage-proxy"}')" = 1 ] &&
	[ "$(query 'storage_proxy_sent_bytes_total')" = "$LOGGED_OUT" ]; do
	i=$((i + 1))
	[ "$i" -lt 60 ] || fail "Prometheus: up=$(query up), sent bytes $(query storage_proxy_sent_bytes_total) (access log: $LOGGED_OUT)"
	sleep 0.5
done
ok "Prometheus scraped the target: up 1; sent bytes $LOGGED_OUT, as the access log says"

expect() {
	got=$(query "$1")
	[ "$got" = "$2" ] || fail "$1 = $got, expected $2"
	ok "$1 = $got"
}
expect 'storage_proxy_requests_total{method="GET",code="2xx"}' 4
expect 'storage_proxy_requests_total{method="GET",code="5xx"}' 2
expect 'storage_proxy_requests_total{method="GET",code="4xx"}' 1
expect 'storage_proxy_requests_total{method="PUT",code="2xx"}' 2
expect 'storage_proxy_slowdown_refusals_total' 2
expect 'storage_proxy_received_bytes_total' 1048576
expect 'storage_proxy_request_duration_seconds_count' 9
expect 'storage_proxy_backend_headers_seconds_count' 7
expect 'storage_proxy_requests_active' 0
expect 'storage_proxy_downloads_active{pace="shaped"}' 0
expect 'sum(storage_proxy_backend_errors_total)' 0
expect 'storage_proxy_ready' 1
# Four whole GETs of 1 MiB at 1 MiB/s waited for tokens most of 4 s.
tw=$(query 'storage_proxy_token_wait_seconds_total')
$PY -c "import sys; sys.exit(0 if 2.5 <= $tw <= 6 else 1)" ||
	fail "token wait $tw s for four 1 MiB GETs at 1 MiB/s"
ok "token wait ${tw} s"
