#!/bin/bash
# Every method reaches the backend as such, as it would directly (the
# backend decides what it allows); only a method too long to be real (16
# bytes or more) gets the proxy's 501 NotImplemented.
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
for m in PATCH PROPFIND; do
	: >"$T/echo.json"
	code=$(curl -sS --cacert "$CERT" -X "$m" -d 'x=1' -o "$T/echo.json" \
		-w '%{http_code}' "$PROXY_URL/b/k") || fail "$m failed"
	[ "$code" = 200 ] && [ "$(method)" = "$m" ] ||
		fail "$m: status $code, backend saw '$(method)'"
done
ok "PATCH and PROPFIND forwarded with their method and body"
code=$(curl -sS --cacert "$CERT" -X AVERYLONGMETHODNAME -o "$T/body" \
	-w '%{http_code}' "$PROXY_URL/b/k") || fail "long method failed"
[ "$code" = 501 ] && grep -q '<Code>NotImplemented</Code>' "$T/body" ||
	fail "long method: $code $(cat "$T/body")"
ok "a 19-byte method refused: 501 NotImplemented XML"
