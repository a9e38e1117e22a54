#!/bin/bash
# A client that hangs up while its request waits on a stalled backend (its
# connection suspended) gets the backend transfer cancelled within a second,
# not at the stall timeout: the hang-up watch.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py stall fault_server.py --mode stall --size $((1024 * 1024))
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --stall-timeout 60s
fds() { ls "/proc/$PROXY_PID/fd" | wc -l; }
# cancelled_within_1s WHAT: the proxy is back to $base descriptors (the
# backend connection closed) within a second of the client leaving.
cancelled_within_1s() {
	t0=$(date +%s%N)
	while [ "$(fds)" -gt "$base" ]; do
		[ $(( $(date +%s%N) - t0 )) -lt 1000000000 ] ||
			fail "$1: backend connection still open 1 s after the client left ($(fds) fds, $base before)"
		sleep 0.05
	done
	ok "$1: backend transfer cancelled within $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}
base=$(fds)
for i in 1 2 3; do
	curl -sS --cacert "$CERT" --max-time 1 -o /dev/null "$PROXY_URL/b/k" 2>/dev/null &&
		fail "a stalled download completed"
	cancelled_within_1s "client left after 1 s"
done
grep -q '" 499 1024 .* aborted' "$T/proxy.log" || fail "access log does not show the aborted download: $(tail -n 2 "$T/proxy.log")"
ok "access log records the aborted downloads"
proxy_alive

# The same on a kept-alive connection: its first request completes, the
# second waits on a stalled backend when the client hangs up (the watch is
# per connection, so it must cover later requests too).
kill "$PROXY_PID"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --stall-timeout 60s
base=$(fds)
$PY - "$PROXY_PORT" "$CERT" <<'PY' || fail "keep-alive client script failed"
import http.client, socket, ssl, sys, time
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), timeout=10,
        context=ssl.create_default_context(cafile=sys.argv[2]))
c.request("GET", "/b/first")
r = c.getresponse(); r.read()
assert r.status == 200, r.status
c.request("GET", "/b/stall")
r = c.getresponse()
r.read(512)           # part of the stalled body: the request now waits
c.sock.shutdown(socket.SHUT_RDWR)
c.close()
PY
cancelled_within_1s "keep-alive connection, second request"
proxy_alive
