#!/bin/bash
# /healthz and /readyz on the metrics listener: ready while the backend
# answers, 503 naming the cause when it is gone (after the fresh answer's
# ADMIN_READY_FRESH seconds) and ready again when it is back; 503
# "draining" once SIGTERM is received while transfers finish; /healthz
# 200 throughout.  Nothing else is served there, and the S3 port serves
# no such path of its own.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
MP=$(free_port)
start_proxy --upstream "http://$S3RVER_ADDR" --metrics-listen "127.0.0.1:$MP" \
	--download-speed 256k
ADMIN=http://127.0.0.1:$MP

# status PATH [curl args]: the HTTP status of PATH on the metrics listener.
status() {
	p=$1; shift
	curl -sS -o "$T/body" -w '%{http_code}' "$@" "$ADMIN$p"
}
[ "$(status /healthz)" = 200 ] && grep -qx ok "$T/body" || fail "/healthz: $(cat "$T/body")"
[ "$(status /readyz)" = 200 ] || fail "/readyz with the backend up: $(cat "$T/body")"
ok "/healthz 200 ok, /readyz 200 with the backend up (probed)"
[ "$(status /)" = 404 ] || fail "/ on the metrics listener is not 404"
[ "$(status /metrics -X POST)" = 405 ] || fail "POST /metrics is not 405"
[ "$(status /healthz -I)" = 200 ] || fail "HEAD /healthz is not 200"
ok "other paths 404, POST 405, HEAD 200"
# The S3 port has no such path: /healthz there is an object key.
code=$(curl -sS --cacert "$CERT" -o "$T/s3body" -w '%{http_code}' "$PROXY_URL/healthz")
[ "$code" != 200 ] && grep -q '<Error>' "$T/s3body" ||
	fail "/healthz on the S3 port answered $code: $(cat "$T/s3body")"
ok "/healthz on the S3 port goes to the backend ($code)"

# The backend goes away: not ready once its last answer is stale.
S3PORT=$S3RVER_PORT
kill "$S3RVER_PID"; wait "$S3RVER_PID" 2>/dev/null || true
i=0
until [ "$(status /readyz)" = 503 ]; do
	i=$((i + 1)); [ "$i" -lt 100 ] || fail "/readyz still 200 10 s after the backend went away"
	sleep 0.1
done
why=$(cat "$T/body")
case $why in *[Cc]onnect*) ;; *) fail "/readyz 503 does not say why: $why" ;; esac
[ "$(status /healthz)" = 200 ] || fail "/healthz failed while the backend is down"
ok "backend down: /readyz 503 ($why), /healthz 200"
code=$(curl -sS --cacert "$CERT" -o /dev/null -w '%{http_code}' "$PROXY_URL/any/key")
[ "$code" = 502 ] || fail "GET with the backend down: $code, not 502"
curl -sS "$ADMIN/metrics" | grep -qx 'storage_proxy_backend_errors_total{kind="connect"} 1' ||
	fail "the failed connect is not counted: $(curl -sS "$ADMIN/metrics" | grep backend_errors)"
ok "GET with the backend down: 502, counted as a connect error"

# Back on the same port: ready again within a probe interval or two.
spawn s3rver2 s3rver -d "$T/s3data" -a 127.0.0.1 -p "$S3PORT" --silent --no-vhost-buckets
wait_port "$S3PORT" "$SPAWNED" s3rver2
i=0
until [ "$(status /readyz)" = 200 ]; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "/readyz not 200 5 s after the backend came back"
	sleep 0.1
done
ok "backend back: /readyz 200"

# Draining: a throttled download keeps the proxy in its grace period.
random_file "$T/obj" 1
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="health")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="health", Key="obj", Body=f)
PY
curl -sS --cacert "$CERT" -o "$T/got" "$PROXY_URL/health/obj" &
DL=$!
sleep 0.5
kill -TERM "$PROXY_PID"
sleep 0.3
[ "$(status /readyz)" = 503 ] && grep -qx draining "$T/body" ||
	fail "/readyz while draining: $(cat "$T/body")"
[ "$(status /healthz)" = 200 ] || fail "/healthz failed while draining"
ok "SIGTERM: /readyz 503 draining, /healthz 200"
wait "$DL" || fail "the download in flight failed during the drain"
same_sha "$T/obj" "$T/got" "download finished during the drain"
