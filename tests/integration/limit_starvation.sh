#!/bin/bash
# --max-token-wait bounds how long any transfer waits for tokens.  Three
# downloads share a global 8 KiB/s in 16 KiB grants: taking turns, each
# would wait about 4 s between grants.  With a bound of 1 s no client goes
# more than about 1 s without body data; without it (the negative
# control) the gaps are several seconds.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
head -c 49152 /dev/urandom >"$T/obj"

# gaps: 3 parallel GETs for at most 5 s; prints the longest time any of
# them went without body bytes (an unfinished one counts up to the stop).
gaps() {
	$PY - "$PROXY_PORT" "$CERT" <<'PY'
import socket, ssl, sys, threading, time
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
worst = [0.0]
def get():
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                        server_hostname="127.0.0.1")
    s.sendall(b"GET /starve/obj HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    s.settimeout(0.2)
    start = time.monotonic(); last = None; got = b""
    while time.monotonic() - start < 5:
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if not d:
            break
        now = time.monotonic()
        got += d
        if b"\r\n\r\n" in got:
            if last is not None:
                worst[0] = max(worst[0], now - last)
            last = now
        if len(got) >= 49152 + got.find(b"\r\n\r\n") + 4:
            last = None
            break
    if last is not None:
        worst[0] = max(worst[0], time.monotonic() - last)
ts = [threading.Thread(target=get) for _ in range(3)]
for t in ts: t.start()
for t in ts: t.join()
print("%.2f" % worst[0])
PY
}

start_proxy --upstream "http://$S3RVER_ADDR" --global-speed 8k --max-token-wait 1s
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="starve")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="starve", Key="obj", Body=f)
PY
g=$(gaps)
awk -v g="$g" 'BEGIN { exit !(g > 0.5 && g < 1.8) }' ||
	fail "with max-token-wait 1s a client went $g s without data"
ok "max-token-wait 1s: longest wait for data $g s"
kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true

start_proxy --upstream "http://$S3RVER_ADDR" --global-speed 8k --max-token-wait 0
g=$(gaps)
awk -v g="$g" 'BEGIN { exit !(g >= 3) }' ||
	fail "negative control: without the bound the longest wait was only $g s"
ok "negative control, no bound: longest wait $g s"
