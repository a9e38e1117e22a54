#!/bin/bash
# 50 clients that sent a ClientHello and then wait (the server's TLS
# handshake waits for them) cost the proxy under 0.5 s of CPU in 5 s, and
# a normal GET meanwhile gets all its bytes.  With epoll, libmicrohttpd
# spun a worker at 100 % on each such handshake (issue 12).
. "$(dirname "$0")/lib.sh"
. "$HERE/stall_lib.sh"

N=50
SIZE=$((1024 * 1024))
WINDOW=5
make_cert "$T/cert"
start_py serve fault_server.py --mode serve --size "$SIZE"
start_proxy --upstream "http://127.0.0.1:$PY_PORT"
head -c "$SIZE" /dev/zero | tr '\0' y >"$T/expected"

start_stall stall "$PROXY_PORT" "$N" hello --hold $((WINDOW + 1))
[ "$STALL_OPENED" = "$N" ] || fail "only $STALL_OPENED of $N clients sent their ClientHello"
c0=$(cpu_seconds)
t0=$(date +%s.%N)
code=$(curl -sS --max-time 10 --cacert "$CERT" -o "$T/body" -w '%{http_code}' \
	"$PROXY_URL/b/k" 2>"$T/curl.err") || code="curl failed: $(cat "$T/curl.err")"
sleep "$(awk -v e="$(elapsed_since "$t0")" -v w="$WINDOW" 'BEGIN { print (w > e ? w - e : 0) }')"
cpu=$(awk -v a="$c0" -v b="$(cpu_seconds)" 'BEGIN { printf "%.2f", b - a }')
stall_result stall
# Else the window would have measured closed connections, not stalled ones.
[ "$(field open)" = "$N" ] ||
	fail "not all $N stalled handshakes lasted the window: $STALL_RESULT"
less_than "$cpu" 0.5 ||
	fail "proxy used $cpu CPU-s in $WINDOW s with $N stalled handshakes (limit 0.5)"
ok "$N handshakes stalled after the ClientHello: proxy CPU $cpu s in $WINDOW s (< 0.5)"
[ "$code" = 200 ] || fail "GET during the stall: $code"
same_sha "$T/expected" "$T/body" "GET during $N stalled handshakes: 200"
proxy_alive
