#!/bin/bash
# Backend connections are kept alive and reused: sequential requests from
# separate client connections reach the backend over one connection (the
# echo backend reports the port it was reached from).
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"
ports=""
for i in 1 2 3 4 5; do
	curl -sS --cacert "$CERT" -o "$T/echo.json" "$PROXY_URL/b/k$i" || fail "GET $i failed"
	ports="$ports $($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["peer_port"])' "$T/echo.json")"
done
n=$(echo $ports | tr ' ' '\n' | sort -u | wc -l)
[ "$n" = 1 ] || fail "5 sequential requests used $n backend connections (ports:$ports)"
ok "5 requests from 5 client connections shared one backend connection (port$ports)"
