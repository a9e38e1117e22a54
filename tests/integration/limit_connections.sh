#!/bin/bash
# MAX_CONNECTIONS=10: of 15 concurrent GETs from one address exactly 5 get
# 503 SlowDown (S3 XML, Retry-After); HEAD and PUT are neither limited nor
# counted; once the 10 clients abort, a new GET gets through within 1 s.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
MAX_CONNECTIONS=10 DOWNLOAD_SPEED=64k start_proxy --upstream "http://$S3RVER_ADDR"
random_file "$T/obj" 4
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="conn")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="conn", Key="obj", Body=f)
PY
CURL="curl -sS --cacert $CERT"
holders=""
for i in $(seq 10); do
	$CURL -o "$T/hold.$i" -w '%{http_code}\n' "$PROXY_URL/conn/obj" >"$T/hold.$i.code" 2>/dev/null &
	holders="$holders $!"
done
# Wait until all 10 are streaming (each has body bytes).
i=0
while [ "$(find "$T" -name 'hold.[0-9]*' ! -name '*.code' -size +0 | wc -l)" -lt 10 ]; do
	i=$((i + 1)); [ "$i" -lt 100 ] || fail "the 10 downloads did not start"
	sleep 0.1
done
ok "10 GETs streaming at 64 KiB/s"

for i in $(seq 5); do
	$CURL -D "$T/x.$i.h" -o "$T/x.$i" -w '%{http_code}\n' "$PROXY_URL/conn/obj" >"$T/x.$i.code" &
done
wait_extra() { for i in $(seq 5); do while [ ! -s "$T/x.$i.code" ]; do sleep 0.05; done; done; }
wait_extra
for i in $(seq 5); do
	[ "$(cat "$T/x.$i.code")" = 503 ] || fail "extra GET $i: $(cat "$T/x.$i.code"), expected 503"
	grep -q '<Code>SlowDown</Code>' "$T/x.$i" || fail "extra GET $i: no SlowDown XML: $(cat "$T/x.$i")"
	grep -qi '^Retry-After: 1' "$T/x.$i.h" || fail "extra GET $i: no Retry-After"
done
ok "5 extra GETs: 503 SlowDown with Retry-After"

code=$($CURL -I -o /dev/null -w '%{http_code}' "$PROXY_URL/conn/obj")
[ "$code" = 200 ] || fail "HEAD while full: $code"
ok "HEAD while full: 200"
head -c 1000 /dev/urandom >"$T/small"
SRC=$T/small s3py <<'PY'
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="conn", Key="small", Body=f)
ok("PUT while full: stored")
PY
still=0
for i in $(seq 10); do [ -s "$T/hold.$i.code" ] && still=$((still + 1)); done
[ "$still" = 0 ] || fail "$still holders finished early; the check would not bite"

t0=$(date +%s.%N)
{ kill -9 $holders; wait $holders; } 2>/dev/null || true
while :; do
	code=$($CURL -o "$T/after" -w '%{http_code}' "$PROXY_URL/conn/small")
	t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	[ "$code" = 200 ] && break
	[ "$code" = 503 ] || fail "GET after the aborts: $code"
	awk -v t="$t" 'BEGIN { exit !(t < 1.0) }' || fail "slots still taken ${t} s after the aborts"
	sleep 0.05
done
same_sha "$T/small" "$T/after" "GET after the aborts"
ok "GET after 10 aborts: 200 within $t s"
proxy_alive
