#!/bin/bash
# Responses the backend should never send: both framings at once (chunked
# wins, the client gets the 10 decoded bytes, or a 502; never a clean 200
# with 3), a 101 or 111 as the final answer (502 within seconds), a
# Content-Length past int64 or two differing ones (502).  Interim 100 and
# 103 before a 200 still end in that 200, and a header with an empty value
# reaches the client with its empty value.
. "$(dirname "$0")/lib.sh"
. "$HERE/hostile_lib.sh"

make_cert "$T/cert"
start_hostile_backend
start_proxy --upstream "http://127.0.0.1:$BACKEND_PORT"

# shellcheck disable=SC2034 # the table reads them as @NAME@
TEN=$(printf 0123456789 | sha256sum | cut -d' ' -f1)
# shellcheck disable=SC2034
OK=$(printf 'ok\n' | sha256sum | cut -d' ' -f1)

run_table --timeout 4 <<'EOF'
# name           | statuses | close | code       | backend    | client | request
resp-te-and-cl   | 200/502 | any | -          | requests=1 | body=@TEN@ | GET /resp/te-and-cl HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-101         | 502     | any | BadGateway | requests=1 | -          | GET /resp/101 HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-111         | 502     | any | BadGateway | requests=1 | -          | GET /resp/111 HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-100-200     | 200     | any | -          | requests=1 | body=@OK@  | GET /resp/100-200 HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-103-200     | 200     | any | -          | requests=1 | body=@OK@  | GET /resp/103-200 HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-cl-2e63     | 502     | any | BadGateway | requests=1 | -          | GET /resp/cl-2e63 HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-cl-huge     | 502     | any | BadGateway | requests=1 | -          | GET /resp/cl-huge HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-cl-differ   | 502     | any | BadGateway | requests=1 | -          | GET /resp/cl-differ HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-te-gzip     | 502     | any | BadGateway | requests=1 | -          | GET /resp/te-gzip HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-te-twice    | 502     | any | BadGateway | requests=1 | -          | GET /resp/te-twice HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-status-600  | 502     | any | BadGateway | requests=1 | -          | GET /resp/status-600 HTTP/1.1\r\nHost: s3.test\r\n\r\n
# HEAD of a chunked answer: headers alone (0.3.0 sent a last chunk, read by
# the client as the start of its next response); the connection closes.
resp-head-chunked | 200    | yes | -          | requests=1 | -          | HEAD /resp/head-chunked HTTP/1.1\r\nHost: s3.test\r\n\r\nGET /bkt/after-head HTTP/1.1\r\nHost: s3.test\r\n\r\n
resp-empty-value | 200     | any | -          | requests=1 | hdr=X-Empty:;hdr=X-Full: full;body=@OK@ | GET /resp/empty-header HTTP/1.1\r\nHost: s3.test\r\n\r\n
EOF

# Both framings again, with curl as the client: a clean exit must mean the
# 10 bytes; a 502 is fine; 3 bytes and exit 0 is the failure.
rc=0
code=$(curl -sS --cacert "$CERT" --max-time 5 -o "$T/te-and-cl.body" \
	-w '%{http_code}' "$PROXY_URL/resp/te-and-cl" 2>"$T/curl.err") || rc=$?
got=$(sha "$T/te-and-cl.body" 2>/dev/null || echo none)
size=$(stat -c %s "$T/te-and-cl.body" 2>/dev/null || echo 0)
good=0
if [ "$code" = 502 ] || { [ "$rc" = 0 ] && [ "$code" = 200 ] && [ "$got" = "$TEN" ]; }; then
	good=1
fi
report curl-te-and-cl "$good" "$code (curl exit $rc, $size bytes)" \
	"200 with the 10 bytes, or 502" "$(head -c 200 "$T/curl.err")"

finish
