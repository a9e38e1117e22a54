#!/bin/bash
# A backend that takes the request and never answers: after --stall-timeout
# the client gets 504 with an S3-style XML error, and the proxy lives on.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py silent fault_server.py --mode silent
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --stall-timeout 2s
t0=$(date +%s)
code=$(curl -sS --max-time 30 --cacert "$CERT" -o "$T/body" -w '%{http_code}' \
	"$PROXY_URL/b/k") || fail "curl failed: no response"
dt=$(($(date +%s) - t0))
[ "$code" = 504 ] || fail "silent backend gave $code, want 504"
grep -q '<Code>GatewayTimeout</Code>' "$T/body" || fail "504 body is not S3 XML: $(cat "$T/body")"
[ "$dt" -ge 1 ] && [ "$dt" -le 5 ] || fail "504 after ${dt}s, want about 2s"
ok "silent backend: 504 GatewayTimeout XML after ${dt}s (stall-timeout 2s)"
grep -q '"GET /b/k HTTP/1.1" 504 ' "$T/proxy.log" || fail "access log lacks the 504: $(tail -n 1 "$T/proxy.log")"
ok "access log records the 504"
proxy_alive
