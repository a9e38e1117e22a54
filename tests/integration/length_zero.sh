#!/bin/bash
# Content-Length: 0 on a request without a body (GET, HEAD, DELETE) reaches
# the backend as sent (a client may have signed it; 0.4.0 and before
# dropped it), and a request without one gains none.  PUT keeps its 0.
. "$(dirname "$0")/lib.sh"
. "$HERE/hostile_lib.sh"

make_cert "$T/cert"
start_hostile_backend
start_proxy --upstream "http://127.0.0.1:$BACKEND_PORT"

run_table --timeout 4 <<'EOF2'
# name             | statuses | close | code | backend | client | request
get-length-0       | 200 | any | - | requests=1;line=GET /bkt/get-length-0 HTTP/1.1;line=Content-Length: 0 | - | GET /bkt/get-length-0 HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n
head-length-0      | 200 | any | - | requests=1;line=HEAD /bkt/head-length-0 HTTP/1.1;line=Content-Length: 0 | - | HEAD /bkt/head-length-0 HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n
delete-length-0    | 200 | any | - | requests=1;line=DELETE /bkt/delete-length-0 HTTP/1.1;line=Content-Length: 0 | - | DELETE /bkt/delete-length-0 HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n
put-length-0       | 200 | any | - | requests=1;line=PUT /bkt/put-length-0 HTTP/1.1;line=Content-Length: 0 | - | PUT /bkt/put-length-0 HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n
EOF2

# Without one, none is added: the backend's request has no Content-Length.
before=$(grep -c . "$BACKEND_DIR/requests.log" 2>/dev/null || echo 0)
curl -sS --cacert "$CERT" -o /dev/null "$PROXY_URL/bkt/no-length" || fail "GET failed"
sleep 0.3
if tr -d '\r' <"$BACKEND_DIR/all.bin" | awk '/^GET \/bkt\/no-length /{f=1} f&&/^$/{exit} f' |
	grep -qi '^content-length:'; then
	fail "a GET without Content-Length gained one upstream"
fi
ok "a GET without Content-Length goes upstream without one ($before requests before)"

finish
