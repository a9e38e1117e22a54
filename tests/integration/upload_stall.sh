#!/bin/bash
# A backend that takes an upload's headers and then reads nothing: the
# client's connection waits for upload room (suspended), and stall-timeout
# ends that wait: the client gets 504 a few seconds later, the proxy holds
# no connection afterwards and serves the next request.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py deaf fault_server.py --mode deaf
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --stall-timeout 2s
head -c $((32 * 1024 * 1024)) /dev/zero >"$T/body"
out=$(curl -sS --cacert "$CERT" --max-time 30 -H 'Expect:' -T "$T/body" \
	-o "$T/err.xml" -w '%{http_code} %{time_total}' \
	"$PROXY_URL/bkt/deaf") || fail "curl failed: $out"
read -r code secs <<<"$out"
[ "$code" = 504 ] || fail "status $code: $(cat "$T/err.xml")"
$PY -c "import sys; sys.exit(not 1.5 <= float('$secs') < 10)" ||
	fail "504 after $secs s (stall-timeout 2 s)"
ok "504 after $secs s with stall-timeout 2s"
sleep 0.5
no_connections_left
ok "no client connection left"
