#!/bin/bash
# Backend unreachable: the proxy answers 502 with an S3-style XML error
# body, and keeps serving (a second request gets the same answer).
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
# A port the kernel just handed out and nobody listens on.
start_proxy --upstream "http://127.0.0.1:$(free_port)" --connect-timeout 5s
CURL="curl -sS --max-time 30 --cacert $CERT"

for n in 1 2; do
	code=$($CURL -o "$T/body$n" -w '%{http_code}' "$PROXY_URL/bucket/key") ||
		fail "request $n: curl failed (exit $?), want a 502 answer"
	[ "$code" = 502 ] || fail "request $n: got $code, want 502"
	grep -q '<Error>' "$T/body$n" || fail "request $n: body has no <Error>: $(head -c 300 "$T/body$n")"
	grep -q '<Code>' "$T/body$n" || fail "request $n: body has no <Code>"
	ok "request $n: 502 with XML error body: $(tr -d '\n' <"$T/body$n" | head -c 160)"
	proxy_alive
done
ok "proxy still alive after two failed upstream connections"

# Failed upstream connections must not leak descriptors.
fds() { ls "/proc/$PROXY_PID/fd" | wc -l; }
base=$(fds)
for i in $(seq 50); do $CURL -o /dev/null "$PROXY_URL/bucket/k$i" || fail "request $i failed"; done
sleep 1
[ "$(fds)" -le $((base + 4)) ] || fail "descriptors grew from $base to $(fds) over 50 failed requests"
ok "50 more 502s: descriptors $base -> $(fds)"
