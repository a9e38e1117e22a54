#!/bin/bash
# --upload-speed limits each PUT body: 3 MiB at 1m takes about 3 s, and
# the object stored is byte for byte the one sent.  GETs stay unlimited.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR" --upload-speed 1m
random_file "$T/obj" 3
s3py <<'PY'
s3.create_bucket(Bucket="upl")
PY
CURL="curl -sS --fail --cacert $CERT"
# s3rver takes unsigned PUTs (it checks no V4 signature).
speed=$($CURL -T "$T/obj" -o /dev/null -w '%{speed_upload}' "$PROXY_URL/upl/obj")
r=$(awk -v s="$speed" 'BEGIN { printf "%.3f", s / 1048576 }')
awk -v r="$r" 'BEGIN { exit !(r >= 0.8 && r <= 1.2) }' ||
	fail "PUT ran at $r MiB/s, not within 0.8-1.2"
ok "PUT: $r MiB/s for a limit of 1 MiB/s"
t=$($CURL -o "$T/got" -w '%{time_total}' "$PROXY_URL/upl/obj")
same_sha "$T/obj" "$T/got" "object stored through the limited PUT"
awk -v t="$t" 'BEGIN { exit !(t < 1.5) }' || fail "GET took $t s: downloads must not be limited"
ok "GET unlimited: $t s"
