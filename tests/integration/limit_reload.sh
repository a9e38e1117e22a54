#!/bin/bash
# SIGHUP re-reads the config file and applies new limits to transfers in
# flight without dropping them; a bad file is refused with a message and
# the limits in force stay.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
echo "download-speed = 256k" >"$T/sp.conf"
start_proxy --upstream "http://$S3RVER_ADDR" -c "$T/sp.conf"
random_file "$T/obj" 4
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="reload")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="reload", Key="obj", Body=f)
PY
CURL="curl -sS --fail --cacert $CERT"
# 4 MiB at 256 KiB/s would take 16 s; after 1 s at 256k, 4m makes it ~2 s.
$CURL -o "$T/got" -w '%{time_total}' "$PROXY_URL/reload/obj" >"$T/t" &
get=$!
sleep 1
echo "download-speed = 4m" >"$T/sp.conf"
kill -HUP "$PROXY_PID"
wait "$get" || fail "the download in flight failed across the reload"
same_sha "$T/obj" "$T/got" "download in flight across the reload"
t=$(cat "$T/t")
awk -v t="$t" 'BEGIN { exit !(t >= 1.4 && t <= 4) }' ||
	fail "download took $t s: the new limit did not apply in flight"
ok "the new limit applied in flight: $t s (16 s at the old one)"
grep -q "limits: download-speed 4 MiB/s" "$T/proxy-err.log" ||
	fail "the new limits were not logged"
ok "new limits logged"

echo "download-speed = fast" >"$T/sp.conf"
kill -HUP "$PROXY_PID"
i=0
until grep -q "reload refused" "$T/proxy-err.log"; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "a bad file was not refused"
	sleep 0.1
done
grep "reload refused" "$T/proxy-err.log" | grep -q "sp.conf:1" ||
	fail "the refusal does not name file:line: $(grep 'reload refused' "$T/proxy-err.log")"
ok "bad file refused: $(grep -o 'reload refused.*' "$T/proxy-err.log" | head -1)"
proxy_alive
t=$($CURL -o "$T/got2" -w '%{time_total}' "$PROXY_URL/reload/obj")
same_sha "$T/obj" "$T/got2" "download after the refused reload"
awk -v t="$t" 'BEGIN { exit !(t >= 0.8 && t <= 1.3) }' ||
	fail "download took $t s: the limits in force (4m) did not stay"
ok "limits in force stayed: 4 MiB in $t s"
