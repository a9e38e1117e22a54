#!/bin/bash
# A client that stops reading its download (a device that froze) is
# closed after --client-timeout, the send timeout: every byte sent
# restarts it, but a full socket sends none.
. "$(dirname "$0")/lib.sh"

SIZE=$((256 * 1024 * 1024))
make_cert "$T/cert"
start_py serve fault_server.py --mode serve --size "$SIZE"
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --client-timeout 2s
$PY - "$PROXY_PORT" "$CERT" >"$T/client.out" 2>&1 <<'PY' &
import socket, ssl, sys, time
port, cert = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cert)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                    server_hostname="127.0.0.1")
s.sendall(b"GET /b/k HTTP/1.1\r\nHost: s3.docker.mender.io\r\n\r\n")
s.recv(65536)
time.sleep(12)   # reads nothing more, holds the socket
PY
CL=$!
sleep 1
est=$(ss -Htn state established "( sport = :$PROXY_PORT )" | wc -l)
[ "$est" -eq 1 ] || fail "expected the client's connection open at 1 s, $est"
# Idle from when the socket filled (well under a second at loopback
# speed): closed by 2 s later; allow 4.
i=0
while [ "$(ss -Htn state established "( sport = :$PROXY_PORT )" | wc -l)" -gt 0 ]; do
	i=$((i + 1))
	[ "$i" -lt 60 ] || fail "a client that stopped reading still held its connection 7 s on"
	sleep 0.1
done
ok "a client that stopped reading was closed $((1 + i / 10)).$((i % 10)) s after its request (client-timeout 2s)"
kill "$CL" 2>/dev/null || true
proxy_alive
