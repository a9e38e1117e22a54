#!/bin/bash
# GET, HEAD, PUT, POST, DELETE and OPTIONS reach the backend as such; other
# methods get 405 with an S3-style XML error from the proxy.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"
method() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["method"])' "$T/echo.json"; }
for m in GET PUT POST DELETE OPTIONS; do
	: >"$T/echo.json"
	code=$(curl -sS --cacert "$CERT" -X "$m" -o "$T/echo.json" -w '%{http_code}' \
		"$PROXY_URL/b/k?x=1") || fail "$m failed"
	[ "$code" = 200 ] && [ "$(method)" = "$m" ] || fail "$m: status $code, backend saw '$(method)'"
done
ok "GET PUT POST DELETE OPTIONS forwarded with their method"
code=$(curl -sS --cacert "$CERT" -I -o /dev/null -w '%{http_code}' "$PROXY_URL/b/k") || fail "HEAD failed"
[ "$code" = 200 ] || fail "HEAD gave $code"
ok "HEAD forwarded"
code=$(curl -sS --cacert "$CERT" -X PATCH -o "$T/body" -w '%{http_code}' "$PROXY_URL/b/k") ||
	fail "PATCH failed"
[ "$code" = 405 ] && grep -q '<Code>MethodNotAllowed</Code>' "$T/body" ||
	fail "PATCH: $code $(cat "$T/body")"
ok "PATCH refused: 405 MethodNotAllowed XML"
