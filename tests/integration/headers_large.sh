#!/bin/bash
# Request headers: 60 KiB in all must be accepted and reach the backend
# intact; about 72 KiB must be refused with 431, and the proxy live on.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"

# headers_file N: N headers of 6 KiB each.
headers_file() {
	pad=$(head -c 6144 /dev/zero | tr '\0' a)
	for i in $(seq "$1"); do echo "X-Pad-$i: $pad"; done >"$T/h$1"
}
headers_file 10
code=$(curl -sS --cacert "$CERT" -H "@$T/h10" -o "$T/echo.json" -w '%{http_code}' \
	"$PROXY_URL/b/k") || fail "60 KiB of headers: curl failed"
[ "$code" = 200 ] || fail "60 KiB of headers: got $code, want 200"
n=$($PY -c 'import json,sys; print(sum(len(v) == 6144 for n, v in json.load(open(sys.argv[1]))["headers"] if n.lower().startswith("x-pad-")))' "$T/echo.json")
[ "$n" = 10 ] || fail "60 KiB of headers: backend got $n of 10 X-Pad headers intact"
ok "60 KiB of request headers accepted and passed upstream intact"

headers_file 12
code=$(curl -sS --cacert "$CERT" -H "@$T/h12" -o /dev/null -w '%{http_code}' \
	"$PROXY_URL/b/k") || true
[ "$code" = 431 ] || fail "72 KiB of headers: got '$code', want 431"
ok "72 KiB of request headers refused with 431"
proxy_alive
code=$(curl -sS --cacert "$CERT" -o /dev/null -w '%{http_code}' "$PROXY_URL/b/k") ||
	fail "request after the 431 failed"
[ "$code" = 200 ] || fail "request after the 431 got $code"
ok "proxy serves normally afterwards"
