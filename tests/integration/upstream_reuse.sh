#!/bin/bash
# Backend connections are kept alive and reused: sequential requests from
# separate client connections reach the backend over one connection per
# event loop (the echo backend reports the port it was reached from).
# Two loops: client connections alternate between them, each with its
# own pool, so 6 requests use exactly 2 backend connections, each 3 times.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --threads 2
ports=""
for i in 1 2 3 4 5 6; do
	curl -sS --cacert "$CERT" -o "$T/echo.json" "$PROXY_URL/b/k$i" || fail "GET $i failed"
	ports="$ports $($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["peer_port"])' "$T/echo.json")"
done
n=$(echo $ports | tr ' ' '\n' | sort -u | wc -l)
[ "$n" = 2 ] || fail "6 sequential requests over 2 loops used $n backend connections (ports:$ports)"
ok "6 requests from 6 client connections shared 2 backend connections, one per loop (ports$ports)"
