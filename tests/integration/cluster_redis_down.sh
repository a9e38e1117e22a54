#!/bin/bash
# Cluster mode when Redis goes away: downloads in flight go on and end
# intact, limits fall back to each replica's own (MAX_CONNECTIONS=2: 2
# GETs per replica, the third refused), the loss is logged once; when
# Redis is back (empty, as after a restart) the replicas re-register the
# slots they hold and cluster limits apply again within a few seconds.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_redis
head -c $((256 * 1024)) /dev/urandom >"$T/obj"
seed down obj "$T/obj"
urls=()
mport=$(free_port)
for n in a b; do
	extra=()
	[ "$n" = b ] || extra=(--metrics-listen "127.0.0.1:$mport")
	MAX_CONNECTIONS=2 DOWNLOAD_SPEED=32k start_replica "r$n" \
		--upstream "http://$S3RVER_ADDR" --cluster-redis "$REDIS_URL" "${extra[@]}"
	urls+=("$REPLICA_URL")
done
up_metric() { curl -sS "http://127.0.0.1:$mport/metrics" | awk '$1 == "storage_proxy_cluster_redis_up" {print $2}'; }
for n in a b; do joined "r$n"; done
CURL="curl -sS --cacert $CERT"
# One download on each replica (8 s each): the address holds 2 of 2.
for i in 0 1; do
	$CURL -o "$T/d.$i" -w '%{http_code}\n' "${urls[$i]}/down/obj" >"$T/d.$i.code" 2>/dev/null &
done
sleep 1
code=$($CURL -o /dev/null -w '%{http_code}' "${urls[0]}/down/obj")
[ "$code" = 503 ] || fail "cluster limit not in force before the outage: $code"
[ "$(up_metric)" = 1 ] || fail "storage_proxy_cluster_redis_up before the outage: $(up_metric)"
ok "before the outage: 2 downloads over 2 replicas fill the address"

kill "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
i=0
until grep -q "max-connections is local to this replica" "$T/ra-err.log"; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "the outage was not logged"
	sleep 0.1
done
[ "$(up_metric)" = 0 ] || fail "storage_proxy_cluster_redis_up during the outage: $(up_metric)"
ok "the outage is logged, and shown in /metrics"
# Local limits: replica a holds 1, so one more GET there is admitted,
# and a third refused by its own limit.
$CURL -o "$T/d.2" -w '%{http_code}\n' "${urls[0]}/down/obj" >"$T/d.2.code" 2>/dev/null &
sleep 0.5
[ ! -s "$T/d.2.code" ] || fail "GET during the outage: $(cat "$T/d.2.code"), expected it streaming"
code=$($CURL -o /dev/null -w '%{http_code}' "${urls[0]}/down/obj")
[ "$code" = 503 ] || fail "local limit not in force during the outage: $code"
ok "during the outage: each replica's own max-connections applies"

start_redis	# the same port, empty
for n in a b; do joined "r$n" 2; done
i=0
while [ "$(redis-cli -p "$REDIS_PORT" zcard storage-proxy:conns:127.0.0.1)" != 3 ]; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "held slots not re-registered: $(redis-cli -p "$REDIS_PORT" zcard storage-proxy:conns:127.0.0.1)"
	sleep 0.1
done
code=$($CURL -o /dev/null -w '%{http_code}' "${urls[1]}/down/obj")
[ "$code" = 503 ] || fail "cluster limit not back after redis returned: $code"
[ "$(up_metric)" = 1 ] || fail "storage_proxy_cluster_redis_up after redis returned: $(up_metric)"
ok "redis back: the 3 held slots re-registered, the cluster limit applies"

for i in 0 1 2; do
	while [ ! -s "$T/d.$i.code" ]; do sleep 0.2; done
	[ "$(cat "$T/d.$i.code")" = 200 ] || fail "download $i: $(cat "$T/d.$i.code")"
	same_sha "$T/obj" "$T/d.$i" "download $i across the outage"
done
n=$(grep -c "max-connections is local to this replica" "$T/ra-err.log")
[ "$n" = 1 ] || fail "the outage was logged $n times by one replica"
ok "no transfer failed; one log line per outage"
