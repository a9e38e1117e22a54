#!/bin/bash
# Request smuggling: a request whose body length the proxy and the backend
# could read differently is refused before anything reaches the backend,
# and the connection is closed so that no byte after it is read as a
# request.  Transfer-Encoding other than "chunked" alone: 501.  Chunked
# together with Content-Length, a repeated or malformed Content-Length:
# 400 within a couple of seconds (one status line; see below).  Every
# refusal is in the access log with its status.
. "$(dirname "$0")/lib.sh"
. "$HERE/hostile_lib.sh"

make_cert "$T/cert"
start_hostile_backend
start_proxy --upstream "http://127.0.0.1:$BACKEND_PORT"

# libmicrohttpd before 1.0.0 answers a Content-Length it cannot parse
# itself, before the proxy's handler runs, and sends its header block twice
# (fixed upstream in 1.0.0).  Nothing reaches the backend and the
# connection closes either way; from 1.0.0 on, exactly one block.
own400=400 own413=413
mhd=$(pkg-config --modversion libmicrohttpd 2>/dev/null || echo 1.0.0)
case $mhd in
0.*) own400=400,400 own413=413,413
	log "libmicrohttpd $mhd: its own 400/413 carries its header block twice" ;;
esac

run_table --timeout 2.5 < <(sed -e "s/@OWN400@/$own400/" \
    -e "s/@OWN413@/$own413/" <<'EOF'
# name             | statuses | close | code           | backend | client | request
# Transfer-Encoding other than "chunked": 501, and the DELETE after the body never reaches the backend.
smuggle-te-identity | 501 | yes | NotImplemented | nothing | - | PUT /bkt/x HTTP/1.1\r\nHost: s3.test\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhelloDELETE /bkt/victim.bin HTTP/1.1\r\nHost: s3.test\r\n\r\n
te-chunked-identity | 501 | yes | NotImplemented | nothing | - | PUT /bkt/te-chunked-identity HTTP/1.1\r\nHost: s3.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\nDELETE /bkt/victim.bin HTTP/1.1\r\nHost: s3.test\r\n\r\n
te-xchunked         | 501 | yes | NotImplemented | nothing | - | PUT /bkt/te-xchunked HTTP/1.1\r\nHost: s3.test\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nDELETE /bkt/victim.bin HTTP/1.1\r\nHost: s3.test\r\n\r\n
te-gzip-chunked     | 501 | yes | NotImplemented | nothing | - | PUT /bkt/te-gzip-chunked HTTP/1.1\r\nHost: s3.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nDELETE /bkt/victim.bin HTTP/1.1\r\nHost: s3.test\r\n\r\n
te-identity         | 501 | yes | NotImplemented | nothing | - | PUT /bkt/te-identity HTTP/1.1\r\nHost: s3.test\r\nTransfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\nDELETE /bkt/victim.bin HTTP/1.1\r\nHost: s3.test\r\n\r\n
# "chunked " (libmicrohttpd 0.9.75 reads it as no coding it knows, body
# until the connection closes) and "chunked" on two lines: 501.
te-chunked-space    | 501 | yes | NotImplemented | nothing | - | PUT /bkt/te-chunked-space HTTP/1.1\r\nHost: s3.test\r\nTransfer-Encoding: chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\nDELETE /bkt/victim.bin HTTP/1.1\r\nHost: s3.test\r\n\r\n
te-two-lines        | 501 | yes | NotImplemented | nothing | - | PUT /bkt/te-two-lines HTTP/1.1\r\nHost: s3.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nDELETE /bkt/victim.bin HTTP/1.1\r\nHost: s3.test\r\n\r\n
# HTTP/1.0 has no Transfer-Encoding: its framing is faulty (RFC 9112 6.1).
te-in-http10        | 400 | yes | InvalidRequest | nothing | - | PUT /bkt/te-in-http10 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n
# Both framings at once: 400.
te-chunked-and-cl   | 400 | yes | InvalidRequest | nothing | - | PUT /bkt/te-chunked-and-cl HTTP/1.1\r\nHost: s3.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\nDELETE /bkt/victim.bin HTTP/1.1\r\nHost: s3.test\r\n\r\n
# Content-Length repeated or not 1*DIGIT within int64: 400.  libmicrohttpd
# refuses a value that is not all digits itself, before the proxy sees the
# request, with an HTML body (@OWN400@, see above): the S3 Code is not
# asserted for those rows.
cl-twice-same       | 400 | yes | InvalidRequest | nothing | - | PUT /bkt/cl-twice-same HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello
cl-twice-differ     | 400 | yes | InvalidRequest | nothing | - | PUT /bkt/cl-twice-differ HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!
cl-plus             | @OWN400@ | yes | -              | nothing | - | PUT /bkt/cl-plus HTTP/1.1\r\nHost: s3.test\r\nContent-Length: +5\r\n\r\nhello
cl-minus            | @OWN400@ | yes | -              | nothing | - | PUT /bkt/cl-minus HTTP/1.1\r\nHost: s3.test\r\nContent-Length: -1\r\n\r\nhello
cl-hex              | @OWN400@ | yes | -              | nothing | - | PUT /bkt/cl-hex HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 0x5\r\n\r\nhello
cl-inner-space      | @OWN400@ | yes | -              | nothing | - | PUT /bkt/cl-inner-space HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 5 5\r\n\r\nhello
cl-list             | @OWN400@ | yes | -              | nothing | - | PUT /bkt/cl-list HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 5,5\r\n\r\nhello
cl-empty            | @OWN400@ | yes | -              | nothing | - | PUT /bkt/cl-empty HTTP/1.1\r\nHost: s3.test\r\nContent-Length:\r\n\r\nhello
cl-2e64-minus-1     | 400 | yes | InvalidRequest | nothing | - | PUT /bkt/cl-2e64-minus-1 HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 18446744073709551615\r\n\r\nhello
cl-2e63             | 400 | yes | InvalidRequest | nothing | - | PUT /bkt/cl-2e63 HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 9223372036854775808\r\n\r\nhello
# Over 2^64: libmicrohttpd answers 413 itself, as above.
cl-over-2e64        | @OWN413@ | yes | -          | nothing | - | PUT /bkt/cl-over-2e64 HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 99999999999999999999\r\n\r\nhello
EOF
)

finish
