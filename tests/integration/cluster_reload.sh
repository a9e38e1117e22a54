#!/bin/bash
# Cluster mode follows a reload: two replicas at max-connections 2 (the
# config file), then 4 after SIGHUP; 4 throttled GETs from one address, 2
# on each replica, are all admitted, and a fifth is refused.  Before the
# reload the third is refused: the cluster's limit, not each replica's.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_redis
head -c $((256 * 1024)) /dev/urandom >"$T/obj"
seed reload obj "$T/obj"
urls=()
rpids=()
for n in a b; do
	printf 'max-connections = 2\ndownload-speed = 32k\n' >"$T/$n.conf"
	start_replica "r$n" --upstream "http://$S3RVER_ADDR" -c "$T/$n.conf" \
		--cluster-redis "$REDIS_URL"
	urls+=("$REPLICA_URL")
	rpids+=("$REPLICA_PID")
done
for n in a b; do joined "r$n"; done
CURL="curl -sS --cacert $CERT"
hold() {	# I URL: a throttled GET held in the background (8 s)
	$CURL -o /dev/null -w '%{http_code}\n' "$2/reload/obj" >"$T/h.$1" 2>/dev/null &
}
hold 1 "${urls[0]}"
hold 2 "${urls[1]}"
sleep 0.5
code=$($CURL -o /dev/null -w '%{http_code}' "${urls[0]}/reload/obj")
[ "$code" = 503 ] || fail "third GET before the reload: $code, expected 503"
ok "max-connections 2 across the cluster: the third GET refused"

for n in a b; do printf 'max-connections = 4\ndownload-speed = 32k\n' >"$T/$n.conf"; done
kill -HUP "${rpids[0]}" "${rpids[1]}"
for n in a b; do
	i=0
	until grep -q "max-connections 4 GETs" "$T/r$n-err.log"; do
		i=$((i + 1)); [ "$i" -lt 50 ] || fail "replica $n did not reload"
		sleep 0.1
	done
done
hold 3 "${urls[0]}"
hold 4 "${urls[1]}"
sleep 0.5
for i in 3 4; do
	[ ! -s "$T/h.$i" ] || fail "GET $i after the reload: $(cat "$T/h.$i"), expected it streaming"
done
code=$($CURL -o /dev/null -w '%{http_code}' "${urls[1]}/reload/obj")
[ "$code" = 503 ] || fail "fifth GET after the reload: $code, expected 503"
ok "after SIGHUP to max-connections 4: 4 GETs streaming over 2 replicas, the fifth refused"
