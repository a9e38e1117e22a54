#!/bin/bash
# A client that stops reading for longer than --stall-timeout (a device on
# a poor link) pauses the backend transfer; that pause is not a stall, and
# the download must complete once the client reads again.
. "$(dirname "$0")/lib.sh"

SIZE=$((16 * 1024 * 1024))
make_cert "$T/cert"
start_py serve fault_server.py --mode serve --size "$SIZE"
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --stall-timeout 2s
$PY - "$PROXY_PORT" "$CERT" "$SIZE" <<'PY' || fail "paused download did not complete"
import http.client, ssl, sys, time
port, cert, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPSConnection("127.0.0.1", port, timeout=60,
                                context=ssl.create_default_context(cafile=cert))
c.request("GET", "/b/k")
r = c.getresponse()
n = len(r.read(65536))
time.sleep(5)  # well past the 2 s stall timeout
while True:
    d = r.read(65536)
    if not d:
        break
    n += len(d)
if r.status != 200 or n != size:
    sys.exit("status %d, %d of %d bytes" % (r.status, n, size))
PY
ok "client paused 5 s with --stall-timeout 2s: all $SIZE bytes arrived"
proxy_alive
