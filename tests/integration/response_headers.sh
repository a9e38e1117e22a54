#!/bin/bash
# What the backend answers comes back unchanged: status, Content-Length,
# ETag, Last-Modified, Content-Range, x-amz-* and the rest, compared field by
# field with the same requests sent straight to s3rver (only the date, the
# hop-by-hop fields and the proxy's security headers may differ, and a 304
# without length gets "Content-Length: 0"); DELETE gives s3rver's 204 with
# no body.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
random_file "$T/obj" 1
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="hdr")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="hdr", Key="obj", Body=f, ContentType="application/x-test",
                  Metadata={"build": "42"}, CacheControl="max-age=60")
PY
compare() { # name, curl args...
	name=$1; shift
	curl -sS -D "$T/direct.h" -o "$T/direct.b" "$@" "http://$S3RVER_ADDR/hdr/obj" ||
		fail "$name: direct request failed"
	curl -sS --cacert "$CERT" -D "$T/proxy.h" -o "$T/proxy.b" "$@" "$PROXY_URL/hdr/obj" ||
		fail "$name: proxied request failed"
	$PY - "$T/direct.h" "$T/proxy.h" "$name" <<'PY' || fail "$name: headers differ"
import sys
skip = {"date", "connection", "keep-alive", "transfer-encoding",
        "strict-transport-security", "x-frame-options", "x-content-type-options"}
def read(p):
    lines = open(p, encoding="latin-1", newline="").read().split("\r\n")
    status = lines[0].split(" ", 2)[1]
    hdrs = sorted((l.split(":", 1)[0].lower(), l.split(":", 1)[1].strip())
                  for l in lines[1:] if ":" in l and l.split(":", 1)[0].lower() not in skip)
    return status, hdrs
d, p = read(sys.argv[1]), read(sys.argv[2])
# libmicrohttpd 0.9.75 keeps the connection after a 304 only with a length:
# "Content-Length: 0" where the backend sent none (server.c).
if d[0] == "304" and not any(n == "content-length" for n, _ in d[1]):
    p = (p[0], [h for h in p[1] if h != ("content-length", "0")])
if d != p:
    sys.exit("%s: direct %r\nproxied %r" % (sys.argv[3], d, p))
print("%s: status %s, %d fields identical" % (sys.argv[3], d[0], len(d[1])))
PY
	# (curl -I writes the header section as the body: nothing to compare.)
	[ "$name" = HEAD ] || cmp -s "$T/direct.b" "$T/proxy.b" || fail "$name: bodies differ"
	ok "$name: status, headers and body as from the backend"
}
compare GET
compare HEAD -I
compare "Range: bytes=100-199" -H 'Range: bytes=100-199'
etag=$(grep -i '^ETag:' "$T/direct.h" | cut -d' ' -f2 | tr -d '\r')
compare "If-None-Match (304)" -H "If-None-Match: $etag"
grep -q '^HTTP/1.1 304' "$T/proxy.h" || fail "If-None-Match did not give 304: $(head -n 1 "$T/proxy.h")"
code=$(curl -sS --cacert "$CERT" -X DELETE -o "$T/del" -w '%{http_code}' "$PROXY_URL/hdr/obj") ||
	fail "DELETE failed"
[ "$code" = 204 ] && [ ! -s "$T/del" ] || fail "DELETE gave $code with $(stat -c %s "$T/del") bytes"
ok "DELETE: 204, no body"
