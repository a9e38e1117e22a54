#!/bin/bash
# A backend that sends headers and then nothing: with --stall-timeout 3s
# the client must get an error about 3 s later (1 s of slack, plus 2 for a
# loaded machine), not hang or wait much longer than configured.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py stall fault_server.py --mode stall --size 1048576
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --stall-timeout 3s
t0=$(date +%s)
rc=0
curl -sS --max-time 30 --cacert "$CERT" -o "$T/out" "$PROXY_URL/b/k" 2>"$T/curl.err" || rc=$?
dt=$(($(date +%s) - t0))
[ "$rc" -ne 0 ] || fail "a stalled download ended cleanly"
[ "$rc" -ne 28 ] || fail "the proxy did not time out; curl's own 30 s limit hit"
[ "$dt" -le 6 ] || fail "stalled download ended after ${dt}s, want about 3s"
[ "$dt" -ge 2 ] || fail "stalled download ended after ${dt}s, before the 3s timeout"
ok "stalled backend: client error after ${dt}s ($(cat "$T/curl.err"))"
proxy_alive
