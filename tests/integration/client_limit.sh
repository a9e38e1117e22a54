#!/bin/bash
# At the total connection limit a new client is refused at once: with
# --max-clients 20 and 20 idle TLS clients held, a 21st (curl) has its
# connection closed within 2 s instead of waiting in the listen queue.
. "$(dirname "$0")/lib.sh"
. "$HERE/stall_lib.sh"

N=20
make_cert "$T/cert"
start_py serve fault_server.py --mode serve --size 1024
start_proxy --upstream "http://127.0.0.1:$PY_PORT" \
	--max-clients "$N" --max-clients-per-address "$N" --header-timeout 60s
CURL="curl -sS --max-time 10 --cacert $CERT -o /dev/null -w %{http_code} $PROXY_URL/b/k"
code=$($CURL) || fail "GET before the limit: curl failed"
[ "$code" = 200 ] || fail "GET before the limit: $code"
# Until the proxy closed that connection too: it counts until then.
i=0
while [ "$(ss -Htn state established state close-wait "( sport = :$PROXY_PORT )" | wc -l)" -gt 0 ]; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "the first GET's connection still open after 5 s"
	sleep 0.1
done

start_stall held "$PROXY_PORT" "$N" ready --hold 4
[ "$STALL_OPENED" = "$N" ] || fail "only $STALL_OPENED of $N clients admitted below the limit"
t0=$(date +%s.%N)
if code=$($CURL 2>"$T/curl.err"); then
	fail "the client over the limit was served ($code)"
fi
rc=$(sed -n 's/^curl: (\([0-9]*\)).*/\1/p' "$T/curl.err" | head -n 1)
took=$(elapsed_since "$t0")
less_than "$took" 2.0 ||
	fail "the client over the limit waited $took s (curl exit $rc: $(cat "$T/curl.err"))"
ok "client $((N + 1)) with $N held: closed after $took s (curl exit $rc: $(head -n 1 "$T/curl.err"))"
stall_result held
[ "$(field open)" = "$N" ] || fail "the $N held clients did not all stay: $STALL_RESULT"
proxy_alive
