#!/bin/bash
# Resumed downloads: a Range request must get 206, the exact Content-Range
# and exactly those bytes; a full GET must carry Content-Length.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
random_file "$T/obj" 1
SIZE=$(stat -c %s "$T/obj")

SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="range")
s3.upload_file(os.environ["SRC"], "range", "obj.bin")
PY
URL=https://$S3_HOST:$PROXY_PORT/range/obj.bin
CURL="curl -sS --resolve $S3_HOST:$PROXY_PORT:127.0.0.1 --cacert $CERT"

code=$($CURL -H 'Range: bytes=100-199' -D "$T/h" -o "$T/part" -w '%{http_code}' "$URL") ||
	fail "curl range request failed"
[ "$code" = 206 ] || fail "Range request gave $code, want 206"
ok "Range: bytes=100-199 gives 206"
cr=$(grep -i '^content-range:' "$T/h" | tr -d '\r' | cut -d' ' -f2-)
[ "$cr" = "bytes 100-199/$SIZE" ] || fail "Content-Range '$cr', want 'bytes 100-199/$SIZE'"
ok "Content-Range: $cr"
dd if="$T/obj" of="$T/want" bs=1 skip=100 count=100 status=none
[ "$(stat -c %s "$T/part")" = 100 ] || fail "got $(stat -c %s "$T/part") bytes, want 100"
same_sha "$T/want" "$T/part" "the 100 bytes of the range"

# Open-ended resume from the middle, as a client continuing a download.
code=$($CURL -H "Range: bytes=$((SIZE / 2))-" -o "$T/tail" -w '%{http_code}' "$URL") ||
	fail "curl open-ended range request failed"
[ "$code" = 206 ] || fail "open-ended Range gave $code, want 206"
tail -c "$((SIZE - SIZE / 2))" "$T/obj" >"$T/want_tail"
same_sha "$T/want_tail" "$T/tail" "Range: bytes=$((SIZE / 2))- gives 206 and the tail"

# Beyond the end: the backend's 416 must come through as 416.
code=$($CURL -H "Range: bytes=$((SIZE + 10))-" -o /dev/null -w '%{http_code}' "$URL") ||
	fail "curl unsatisfiable range request failed"
[ "$code" = 416 ] || fail "unsatisfiable Range gave $code, want 416"
ok "Range beyond the end gives 416"

code=$($CURL -D "$T/h2" -o "$T/full" -w '%{http_code}' "$URL") || fail "full GET failed"
[ "$code" = 200 ] || fail "full GET gave $code"
cl=$(grep -i '^content-length:' "$T/h2" | tr -d '\r' | cut -d' ' -f2)
[ "$cl" = "$SIZE" ] || fail "full GET Content-Length '$cl', want $SIZE (clients need it)"
ok "full GET has Content-Length: $cl"
etag=$(grep -i '^etag:' "$T/h2" | tr -d '\r' | cut -d' ' -f2-)
code=$($CURL -H "If-None-Match: $etag" -o "$T/none" -w '%{http_code}' "$URL") ||
	fail "conditional GET failed"
[ "$code" = 304 ] && [ ! -s "$T/none" ] || fail "If-None-Match: $etag gave $code, want 304 without body"
ok "If-None-Match: $etag gives 304"
same_sha "$T/obj" "$T/full" "full GET"
