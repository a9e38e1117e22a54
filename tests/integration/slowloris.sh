#!/bin/bash
# Slowloris: 500 clients complete the TLS handshake, then send their
# request headers one byte a second, never ending them.  With
# --header-timeout 2s the proxy closes every one of them 2 s to 3.5 s
# after its handshake (never before 2 s), and a normal GET during the
# attack succeeds (its latency is printed).
. "$(dirname "$0")/lib.sh"
. "$HERE/stall_lib.sh"

N=500
SIZE=$((1024 * 1024))
# Descriptors: ours for the N clients, the proxy's (which inherits ours)
# two per client in its budget.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((2 * N + 200)) ]; then
	log "SKIP: open-file limit $(ulimit -n), need $((2 * N + 200))"
	exit 77
fi
make_cert "$T/cert"
start_py serve fault_server.py --mode serve --size "$SIZE"
# All N come from 127.0.0.1: the per-address cap must not refuse them.
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --access-log off \
	--header-timeout 2s --handshake-timeout 2s \
	--max-clients $((2 * N)) --max-clients-per-address $((2 * N))
head -c "$SIZE" /dev/zero | tr '\0' y >"$T/expected"

# The GET once half of them trickle (opening them all takes about as long
# as the deadline), while the other half arrive.
start_stall loris "$PROXY_PORT" "$N" trickle --interval 1 --hold 5 \
	--ready-at $((N / 2))
[ "$STALL_LIVE" -ge $((N / 4)) ] ||
	fail "only $STALL_LIVE of $N slowloris clients open when the GET starts: $(cat "$T/loris.ready")"
out=$(curl -sS --max-time 10 --cacert "$CERT" -o "$T/body" \
	-w '%{http_code} %{time_total}' "$PROXY_URL/b/k" 2>"$T/curl.err") ||
	fail "GET during the attack failed: $(cat "$T/curl.err")"
read -r code latency <<<"$out"
[ "$code" = 200 ] || fail "GET during the attack: $code"
same_sha "$T/expected" "$T/body" "GET with $STALL_LIVE slowloris clients open: 200 in $latency s"

stall_result loris
log "$STALL_RESULT"
[ "$(field opened)" = "$N" ] || fail "only $(field opened) of $N clients got through the handshake"
[ "$(field closed)" = "$N" ] ||
	fail "$(field open) of $N slowloris clients still open 5 s after their handshake: $STALL_RESULT"
less_than "$(field close_from_connect_min)" 2.0 &&
	fail "a slowloris client was closed $(field close_from_connect_min) s after it connected, before the 2 s deadline"
less_than "$(field close_max)" 3.5 ||
	fail "a slowloris client was closed only $(field close_max) s after its handshake (bound 3.5 s)"
ok "$N slowloris clients (1 byte/s) all closed $(field close_min) s to $(field close_max) s after their handshake (2 s deadline)"
proxy_alive
