#!/bin/bash
# --download-burst: the first bytes of each GET go at full speed, then
# download-speed applies (nginx's limit_rate_after).  3 MiB with a 2 MiB
# burst at 512k: the last 1 MiB takes about 2 s; without the burst the
# whole would take 6 s.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR" --download-speed 512k --download-burst 2m
random_file "$T/obj" 3
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="burst")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="burst", Key="obj", Body=f)
PY
CURL="curl -sS --fail --cacert $CERT"
t=$($CURL -o "$T/got" -w '%{time_total}' "$PROXY_URL/burst/obj")
same_sha "$T/obj" "$T/got" "download with a burst"
awk -v t="$t" 'BEGIN { exit !(t >= 1.6 && t <= 2.6) }' ||
	fail "3 MiB took $t s; expected ~2 s (2 MiB burst, 1 MiB at 512 KiB/s)"
ok "2 MiB burst, then 512 KiB/s: 3 MiB in $t s"
# The burst is per request: a second GET gets its own.
t=$($CURL -r 0-1048575 -o "$T/got2" -w '%{time_total}' "$PROXY_URL/burst/obj")
awk -v t="$t" 'BEGIN { exit !(t < 0.8) }' || fail "a 1 MiB range within the burst took $t s"
ok "next GET has its own burst: 1 MiB in $t s"
