#!/bin/bash
# What reaches the backend: the raw request-target byte for byte, the
# client's Host verbatim (port included), X-Forwarded-For/-Proto added;
# with --host, the fixed Host instead.  The echo backend reports the
# request exactly as it received it.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
ECHO=127.0.0.1:$PY_PORT
start_proxy --upstream "http://$ECHO"

# Encodings a proxy must not touch: %2F, %20 vs +, lower-case %7e, dot
# segments, an empty value, a bare key, repeated keys.
TARGET='/bucket/a%2Fb/./x/../c%20d+e%7e?x=%2F&y=a+b&z=%7e&empty=&flag&x=1'
curl -sS --path-as-is --resolve "$S3_HOST:$PROXY_PORT:127.0.0.1" --cacert "$CERT" \
	-o "$T/echo.json" "https://$S3_HOST:$PROXY_PORT$TARGET" || fail "GET through proxy failed"

# field NAME: a value from the echo; header names case-insensitively.
field() {
	$PY -c 'import json,sys
e = json.load(open(sys.argv[1])); k = sys.argv[2]
if k in ("method", "target"): print(e[k])
else: print("\n".join(v for n, v in e["headers"] if n.lower() == k.lower()))' "$T/echo.json" "$1"
}
got=$(field target)
[ "$got" = "$TARGET" ] || fail "request-target changed: sent '$TARGET', backend got '$got'"
ok "request-target reached the backend byte for byte: $got"
got=$(field Host)
[ "$got" = "$S3_HOST:$PROXY_PORT" ] || fail "Host changed: backend got '$got', want '$S3_HOST:$PROXY_PORT'"
ok "Host passed verbatim: $got"
got=$(field X-Forwarded-For)
[ "$got" = 127.0.0.1 ] || fail "X-Forwarded-For '$got', want 127.0.0.1"
ok "X-Forwarded-For: $got"
got=$(field X-Forwarded-Proto)
[ "$got" = https ] || fail "X-Forwarded-Proto '$got', want https"
ok "X-Forwarded-Proto: $got"

# Keep-alive: several requests on one client connection all work.
curl -sS --cacert "$CERT" -o /dev/null -o /dev/null -o /dev/null \
	-w '%{http_code} %{num_connects}\n' "$PROXY_URL/k/1" "$PROXY_URL/k/2" "$PROXY_URL/k/3" \
	>"$T/ka" || fail "keep-alive requests failed"
[ "$(tr '\n' ' ' <"$T/ka")" = "200 1 200 0 200 0 " ] ||
	fail "3 requests on one connection: got '$(tr '\n' ' ' <"$T/ka")', want '200 1 200 0 200 0'"
ok "3 requests reuse one client connection"

# A fixed upstream Host replaces the client's.
kill "$PROXY_PID"
start_proxy --upstream "http://$ECHO" --host minio.internal:9000
curl -sS --cacert "$CERT" -o "$T/echo.json" "$PROXY_URL/bucket/k" ||
	fail "GET through proxy with --host failed"
got=$(field Host)
[ "$got" = minio.internal:9000 ] || fail "--host: backend got Host '$got'"
ok "--host minio.internal:9000 sends that Host upstream"
