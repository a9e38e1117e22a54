#!/bin/bash
# DOWNLOAD_SPEED (the deployment's variable) limits each GET: 4 MiB at
# 1m takes about 4 s, so the rate lands between 0.8 and 1.2 MiB/s (loose
# bounds: the machines are shared; exact figures live in the benchmark).
# The bytes are the object's, and HEAD and a second concurrent GET are
# not slowed by the first.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
DOWNLOAD_SPEED=1m start_proxy --upstream "http://$S3RVER_ADDR"
grep -q "download-speed 1 MiB/s per GET" "$T/proxy-err.log" ||
	fail "the limit in force is not logged at start-up"
ok "limit logged at start-up"
random_file "$T/obj" 4
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="rate")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="rate", Key="obj", Body=f)
PY
CURL="curl -sS --fail --cacert $CERT"
code=$($CURL -I -o /dev/null -w '%{http_code} %{time_total}' "$PROXY_URL/rate/obj")
[ "${code% *}" = 200 ] || fail "HEAD: $code"
awk -v t="${code#* }" 'BEGIN { exit !(t < 1) }' || fail "HEAD took ${code#* } s"
ok "HEAD is not limited"

$CURL -o "$T/a" -w '%{speed_download}\n' "$PROXY_URL/rate/obj" >"$T/a.speed" &
a=$!
$CURL -o "$T/b" -w '%{speed_download}\n' "$PROXY_URL/rate/obj" >"$T/b.speed" &
b=$!
wait $a || fail "first GET failed"
wait $b || fail "second GET failed"
same_sha "$T/obj" "$T/a" "first limited GET"
same_sha "$T/obj" "$T/b" "second limited GET"
for f in a b; do
	r=$(awk '{ printf "%.3f", $1 / 1048576 }' "$T/$f.speed")
	awk -v r="$r" 'BEGIN { exit !(r >= 0.8 && r <= 1.2) }' ||
		fail "GET $f ran at $r MiB/s, not within 0.8-1.2"
	ok "GET $f: $r MiB/s for a limit of 1 MiB/s"
done
