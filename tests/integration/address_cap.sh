#!/bin/bash
# One address cannot take every connection: with --max-clients 200 and the
# default per-address cap (half of it), of 200 idle TLS clients from
# 127.0.0.1 exactly 100 are admitted and the other 100 closed at once
# (within 1 s, before any TLS); a client from 127.0.0.2 meanwhile gets its
# GET served.
. "$(dirname "$0")/lib.sh"
. "$HERE/stall_lib.sh"

N=200
CAP=$((N / 2))
SIZE=$((1024 * 1024))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((2 * N + 200)) ]; then
	log "SKIP: open-file limit $(ulimit -n), need $((2 * N + 200))"
	exit 77
fi
make_cert "$T/cert"
start_py serve fault_server.py --mode serve --size "$SIZE"
# A long header deadline: the admitted clients stay while we look.
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --access-log off \
	--max-clients "$N" --header-timeout 60s
head -c "$SIZE" /dev/zero | tr '\0' y >"$T/expected"

start_stall idle "$PROXY_PORT" "$N" ready --source 127.0.0.1 --hold 3
code=$(curl -sS --max-time 10 --interface 127.0.0.2 --cacert "$CERT" -o "$T/body" \
	-w '%{http_code}' "$PROXY_URL/b/k" 2>"$T/curl.err") ||
	fail "GET from 127.0.0.2 with $STALL_OPENED clients of 127.0.0.1 held: $(cat "$T/curl.err")"
[ "$code" = 200 ] || fail "GET from 127.0.0.2: $code"
same_sha "$T/expected" "$T/body" "GET from 127.0.0.2 while 127.0.0.1 is at its cap: 200"
stall_result idle
log "$STALL_RESULT"
[ "$(field opened)" = "$CAP" ] ||
	fail "$(field opened) of $N idle clients from 127.0.0.1 admitted, expected $CAP (half of --max-clients $N)"
[ "$(field open)" = "$CAP" ] ||
	fail "only $(field open) of the $CAP admitted clients stayed open: $STALL_RESULT"
less_than "$(field refused_max)" 1.0 ||
	fail "a refused client waited $(field refused_max) s for its refusal (bound 1 s)"
ok "127.0.0.1: $CAP of $N admitted and held, $(field refused) refused within $(field refused_max) s"
proxy_alive
