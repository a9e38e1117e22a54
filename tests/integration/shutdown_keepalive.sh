#!/bin/bash
# SIGTERM while kept-alive clients loop on requests (a rolling restart in
# front of a fleet): every response a client got is whole, the clients
# were told Connection: close, a rate-limited download in flight keeps its
# limit while draining (each answer sent then took its 1 MiB/s time),
# and the proxy exits 0 within its deadline.
. "$(dirname "$0")/lib.sh"

SIZE=$((256 * 1024))
make_cert "$T/cert"
start_py serve fault_server.py --mode serve --size "$SIZE"
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --shutdown-timeout 6s \
	--download-speed 1m
# Four clients, each on one kept-alive connection, request after request
# (each 256 KiB at 1 MiB/s: about 0.25 s), until told to close or refused.
$PY - "$PROXY_PORT" "$CERT" "$SIZE" >"$T/clients.out" 2>&1 <<'PY' &
import http.client, ssl, sys, threading, time
port, cert, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=cert)
res = []
def client(i):
    whole = bad = closes = 0
    fastest = 99.0
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=20, context=ctx)
    t0 = time.time()
    while time.time() - t0 < 30:
        t = time.time()
        try:
            c.request("GET", "/b/k%d" % i)
            r = c.getresponse()
            body = r.read()
        except Exception as e:
            # A new connection after the listener closed: the end.
            break
        if r.status == 200 and len(body) == size and body.count(b"y") == size:
            whole += 1
        else:
            bad += 1
        if (r.getheader("Connection") or "").lower() == "close":
            closes += 1
            fastest = min(fastest, time.time() - t)
            c.close()
            c = http.client.HTTPSConnection("127.0.0.1", port, timeout=20,
                                            context=ctx)
    res.append((whole, bad, closes, fastest))
ts = [threading.Thread(target=client, args=(i,)) for i in range(4)]
for t in ts: t.start()
for t in ts: t.join()
w = sum(r[0] for r in res); b = sum(r[1] for r in res); c = sum(r[2] for r in res)
f = min(r[3] for r in res)
print("whole=%d bad=%d closes=%d fastest_ms=%d" % (w, b, c, f * 1000))
PY
CL=$!
sleep 1.5
t0=$(date +%s.%N)
kill -TERM "$PROXY_PID"
prc=0
wait "$PROXY_PID" || prc=$?
t1=$(date +%s.%N)
[ "$prc" = 0 ] || fail "proxy exited $prc after SIGTERM"
el=$(echo "$t1 - $t0" | bc)
[ "$(echo "$el < 8" | bc)" = 1 ] || fail "proxy took ${el}s to exit (shutdown-timeout 6s)"
ok "proxy exited 0, ${el}s after SIGTERM (shutdown-timeout 6s)"
wait "$CL" || fail "clients: $(cat "$T/clients.out")"
out=$(cat "$T/clients.out")
case $out in whole=*) ;; *) fail "clients: $out" ;; esac
eval "${out// /; }"
[ "$bad" = 0 ] || fail "$bad responses cut or wrong ($out)"
[ "$whole" -ge 8 ] || fail "too few requests served ($out)"
[ "$closes" -ge 4 ] || fail "not every client was told Connection: close ($out)"
ok "kept-alive clients: $whole whole responses, none cut; $closes with Connection: close"
# 256 KiB at 1 MiB/s, less the 64 KiB the bucket holds: at least 0.19 s.
[ "$fastest_ms" -ge 150 ] || fail "an answer sent while draining took ${fastest_ms} ms: the limit was lifted"
ok "answers sent while draining kept the limit (fastest ${fastest_ms} ms for 256 KiB at 1 MiB/s)"
