#!/bin/bash
# Cluster mode: a replica killed with SIGKILL while it holds slots loses
# them within the lease (3 s, renewed every second): right after the kill
# another replica still refuses the address (the slots are held), and
# within 5 s it admits it (a 1000-byte object, so that the answer's time
# is the admission's).
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_redis
head -c $((512 * 1024)) /dev/urandom >"$T/obj"
head -c 1000 /dev/urandom >"$T/small"
seed lease obj "$T/obj" small "$T/small"
MAX_CONNECTIONS=3 DOWNLOAD_SPEED=32k start_replica doomed \
	--upstream "http://$S3RVER_ADDR" --cluster-redis "$REDIS_URL"
doomed=$REPLICA_PID
doomed_url=$REPLICA_URL
MAX_CONNECTIONS=3 DOWNLOAD_SPEED=32k start_replica survivor \
	--upstream "http://$S3RVER_ADDR" --cluster-redis "$REDIS_URL"
survivor_url=$REPLICA_URL
for n in doomed survivor; do joined "$n"; done
CURL="curl -sS --cacert $CERT"
for i in 1 2 3; do
	$CURL -o /dev/null "$doomed_url/lease/obj" 2>/dev/null &
done
i=0
while [ "$(redis-cli -p "$REDIS_PORT" zcard storage-proxy:conns:127.0.0.1)" != 3 ]; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "the doomed replica never held 3 slots"
	sleep 0.1
done
# Two renewals, so that the lease is the renewed one.
sleep 2.2
code=$($CURL -o /dev/null -w '%{http_code}' "$survivor_url/lease/small")
[ "$code" = 503 ] || fail "the address was not full before the kill: $code"
ok "3 slots held by one replica: another refuses the address"

kill -9 "$doomed"
t0=$(date +%s.%N)
code=$($CURL -o /dev/null -w '%{http_code}' "$survivor_url/lease/small")
[ "$code" = 503 ] || fail "slots gone at once after SIGKILL ($code): the check would not bite"
ok "right after the kill: still 503 (the leases run)"
while :; do
	code=$($CURL -o "$T/got" -w '%{http_code}' "$survivor_url/lease/small")
	t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	[ "$code" = 200 ] && break
	[ "$code" = 503 ] || fail "GET after the kill: $code"
	awk -v t="$t" 'BEGIN { exit !(t < 5.0) }' || fail "slots of the dead replica still held ${t} s after the kill"
	sleep 0.2
done
same_sha "$T/small" "$T/got" "GET after the kill"
ok "the dead replica's slots ended ${t} s after SIGKILL (lease 3 s)"
