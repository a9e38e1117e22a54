#!/bin/bash
# A 304 keeps the connection: s3rver's 304 has no Content-Length, and two
# conditional GETs and a plain GET after them travel on one TLS connection,
# each answered as directly (304, 304, then the object intact).
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
random_file "$T/obj" 1
curl -sS -o /dev/null -X PUT "http://$S3RVER_ADDR/notmod" || fail "bucket"
curl -sS -o /dev/null -T "$T/obj" "http://$S3RVER_ADDR/notmod/obj" || fail "put"
etag=$(curl -sS -I "http://$S3RVER_ADDR/notmod/obj" | tr -d '\r' |
	sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
[ -n "$etag" ] || fail "no ETag from s3rver"
direct=$(curl -sS -o /dev/null -D "$T/direct.h" -H "If-None-Match: $etag" \
	-w '%{http_code}' "http://$S3RVER_ADDR/notmod/obj")
[ "$direct" = 304 ] || fail "s3rver answered $direct"
grep -qi '^content-length' "$T/direct.h" && log "note: s3rver sent a length"
out=$(curl -sS --cacert "$CERT" --max-time 20 \
	-H "If-None-Match: $etag" -o /dev/null "$PROXY_URL/notmod/obj" \
	--next --cacert "$CERT" -H "If-None-Match: $etag" -o /dev/null \
	"$PROXY_URL/notmod/obj" --next --cacert "$CERT" -o "$T/got" \
	"$PROXY_URL/notmod/obj" -w '%{http_code}:%{num_connects} ')
# -w applies to the last transfer only; count connections in the log.
[ "${out% }" = "200:0" ] || fail "third request: $out (want 200 on the same connection)"
same_sha "$T/obj" "$T/got" "object after two 304s"
n=$(grep -c '"GET /notmod/obj HTTP/1.1" 304 ' "$T/proxy.log" || true)
[ "$n" -eq 2 ] || fail "$n 304s in the access log, want 2"
ok "304, 304, 200 on one connection"
