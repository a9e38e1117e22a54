#!/bin/bash
# TLS session resumption by tickets: a TLS 1.2 client that reconnects
# resumes its session every time; a TLS 1.3 client resumes with a ticket
# from its last connection, also after a SIGHUP reload (the key stays);
# with --tls-resumption off (or STORAGE_PROXY_TLS_RESUMPTION=off) no
# ticket is sent and nothing is resumed.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
UP=http://127.0.0.1:$PY_PORT

# reconnect12 NAME: openssl's -reconnect (one handshake, then 5 more
# with the session); sets REUSED to how many of the 5 were resumed.
reconnect12() {
	timeout 20 openssl s_client -connect "127.0.0.1:$PROXY_PORT" -CAfile "$CERT" \
		-tls1_2 -reconnect </dev/null >"$T/$1.out" 2>&1 || true
	[ "$(grep -cE '^(New|Reused), TLSv1\.2' "$T/$1.out")" -eq 6 ] ||
		fail "$1: openssl -reconnect did not make 6 connections"
	REUSED=$(grep -c '^Reused, TLSv1\.2' "$T/$1.out" || true)
}

# session13 NAME [ARGS...]: a TLS 1.3 connection that sends a request and
# waits a second, so that the client reads the tickets sent after the
# handshake before it closes; output in $T/NAME.out.
session13() {
	local name=$1
	shift
	{ printf 'GET /b/k HTTP/1.1\r\nHost: %s\r\n\r\n' "$S3_HOST"; sleep 1; } |
		timeout 10 openssl s_client -connect "127.0.0.1:$PROXY_PORT" \
		-CAfile "$CERT" -tls1_3 "$@" >"$T/$name.out" 2>&1 || true
	grep -q '^HTTP/1.1 200' "$T/$name.out" || fail "$name: no 200"
}

start_proxy --upstream "$UP"
reconnect12 on12
[ "$REUSED" -eq 5 ] || fail "TLS 1.2: $REUSED of 5 reconnects resumed"
ok "TLS 1.2: 5 of 5 reconnects resumed"

session13 first -sess_out "$T/s13"
[ -s "$T/s13" ] || fail "TLS 1.3: no ticket received"
session13 again -sess_in "$T/s13"
grep -q '^Reused, TLSv1.3' "$T/again.out" ||
	fail "TLS 1.3: ticket not accepted: $(grep -m 1 -E '^(New|Reused)' "$T/again.out")"
ok "TLS 1.3: $(grep -c 'New Session Ticket arrived' "$T/first.out") tickets, the next connection resumed with one"

kill -HUP "$PROXY_PID"
i=0
until grep -q 'SIGHUP' "$T/proxy-err.log"; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || fail "no sign of the reload in the log"
	sleep 0.1
done
sleep 0.2
session13 after_hup -sess_in "$T/s13"
grep -q '^Reused, TLSv1.3' "$T/after_hup.out" || fail "TLS 1.3: ticket refused after SIGHUP"
reconnect12 hup12
[ "$REUSED" -eq 5 ] || fail "TLS 1.2 after SIGHUP: $REUSED of 5 reconnects resumed"
ok "after SIGHUP: the ticket from before resumed, TLS 1.2 5 of 5"

# off: no tickets, hence no TLS 1.3 session to save, and full handshakes.
check_off() {
	reconnect12 "off12$1"
	[ "$REUSED" -eq 0 ] || fail "$2: $REUSED of 5 TLS 1.2 reconnects resumed"
	rm -f "$T/s13off"
	session13 "off13$1" -sess_out "$T/s13off"
	t=$(grep -c 'New Session Ticket arrived' "$T/off13$1.out" || true)
	[ "$t" -eq 0 ] || fail "$2: $t TLS 1.3 tickets sent"
	if [ -s "$T/s13off" ]; then
		session13 "offagain$1" -sess_in "$T/s13off"
		grep -q '^New, TLSv1.3' "$T/offagain$1.out" || fail "$2: TLS 1.3 resumed"
	fi
	ok "$2: 0 of 5 TLS 1.2 reconnects resumed, no TLS 1.3 ticket"
}
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
start_proxy --upstream "$UP" --tls-resumption off
check_off 1 "--tls-resumption off"
kill "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null || true
STORAGE_PROXY_TLS_RESUMPTION=off start_proxy --upstream "$UP"
check_off 2 "STORAGE_PROXY_TLS_RESUMPTION=off"
