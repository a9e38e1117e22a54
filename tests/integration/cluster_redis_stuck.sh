#!/bin/bash
# Cluster mode with a Redis that keeps its connections but does not answer
# (SIGSTOP: a wedged or overloaded server): the first GET waits at most
# the admission bound (500 ms) and is admitted on local limits; the replica
# then treats Redis as gone, so the next GETs wait for nothing; it is
# logged once; after SIGCONT the replica rejoins within a few seconds.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_redis
head -c 1000 /dev/urandom >"$T/small"
seed stuck small "$T/small"
MAX_CONNECTIONS=5 start_replica r --upstream "http://$S3RVER_ADDR" \
	--cluster-redis "$REDIS_URL"
joined r
CURL="curl -sS --cacert $CERT"
t=$($CURL -o /dev/null -w '%{time_starttransfer} %{time_appconnect}' "$REPLICA_URL/stuck/small")
ok "with redis answering: first byte at ${t% *} s (handshake ${t#* } s)"

kill -STOP "$REDIS_PID"
for i in 1 2 3 4 5; do
	r=$($CURL -o "$T/got.$i" -w '%{http_code} %{time_starttransfer} %{time_appconnect}' \
		"$REPLICA_URL/stuck/small")
	set -- $r
	[ "$1" = 200 ] || { kill -CONT "$REDIS_PID"; fail "GET $i with redis stopped: $1"; }
	same_sha "$T/small" "$T/got.$i" "GET $i with redis stopped"
	w=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.3f", a - b }')
	if [ "$i" = 1 ]; then
		awk -v w="$w" 'BEGIN { exit !(w < 1.5) }' ||
			{ kill -CONT "$REDIS_PID"; fail "first GET waited $w s for a stopped redis"; }
	else
		awk -v w="$w" 'BEGIN { exit !(w < 0.3) }' ||
			{ kill -CONT "$REDIS_PID"; fail "GET $i waited $w s: the stopped redis still waited on"; }
	fi
	ok "GET $i with redis stopped: 200, waited $w s after the handshake"
done
n=$(grep -c "max-connections is local to this replica" "$T/r-err.log")
[ "$n" = 1 ] || { kill -CONT "$REDIS_PID"; fail "the stop was logged $n times"; }
ok "logged once"
kill -CONT "$REDIS_PID"
joined r 2
ok "after SIGCONT the replica rejoins redis"
kill -0 "$REPLICA_PID" || fail "the replica died"
