#!/bin/bash
# Newer AWS SDKs upload aws-chunked bodies (x-amz-content-sha256:
# STREAMING-..., checksum trailers inside the body).  The proxy must pass
# such bodies and their headers unmodified, with a Content-Length and with
# Transfer-Encoding: chunked alike.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"

# An aws-chunked body: 3 chunks of data, a final 0 chunk, a trailer.
head -c 65536 /dev/urandom >"$T/c1"
head -c 1000 /dev/urandom >"$T/c2"
{
	printf '10000\r\n'; cat "$T/c1"; printf '\r\n'
	printf '3e8\r\n'; cat "$T/c2"; printf '\r\n'
	printf '0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'
} >"$T/body"
HDRS=(-H 'Content-Encoding: aws-chunked'
	-H 'x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER'
	-H 'x-amz-decoded-content-length: 66536'
	-H 'x-amz-trailer: x-amz-checksum-crc32')
want=$(sha "$T/body")

check() { # what: compare the echo with the body sent
	$PY - "$T/echo.json" "$want" "$(stat -c %s "$T/body")" "$1" <<'PY' || fail "$1"
import json, sys
e = json.load(open(sys.argv[1])); want, size, what = sys.argv[2], int(sys.argv[3]), sys.argv[4]
h = {n.lower(): v for n, v in e["headers"]}
if e["body_len"] != size or e["body_sha256"] != want:
    sys.exit("%s: backend got %d bytes sha256 %s, sent %d bytes %s" % (
        what, e["body_len"], e["body_sha256"], size, want))
for k, v in (("content-encoding", "aws-chunked"),
             ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
             ("x-amz-decoded-content-length", "66536"),
             ("x-amz-trailer", "x-amz-checksum-crc32")):
    if h.get(k) != v:
        sys.exit("%s: header %s reached backend as %r" % (what, k, h.get(k)))
PY
	ok "$1: body ($(stat -c %s "$T/body") bytes) and aws-chunked headers arrive unmodified"
}

curl -sS --cacert "$CERT" "${HDRS[@]}" -X PUT --data-binary "@$T/body" \
	-o "$T/echo.json" "$PROXY_URL/b/with-length" || fail "PUT with Content-Length failed"
check "with Content-Length"
curl -sS --cacert "$CERT" "${HDRS[@]}" -H 'Transfer-Encoding: chunked' -T - \
	-o "$T/echo.json" "$PROXY_URL/b/chunked" <"$T/body" || fail "chunked PUT failed"
check "with Transfer-Encoding: chunked"
