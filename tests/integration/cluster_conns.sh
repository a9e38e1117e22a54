#!/bin/bash
# Cluster mode: three replicas sharing one Redis, MAX_CONNECTIONS=10.
# 15 throttled GETs from one address, 5 on each replica, give exactly 10
# x 200 and 5 x 503 SlowDown; after 5 of the holders abort, 5 new GETs
# (again spread) all get 200.  Without cluster mode the same spread would
# give 15 x 200 (5 per replica, under each one's own limit of 10): the
# check bites only through Redis.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_redis
head -c $((512 * 1024)) /dev/urandom >"$T/obj"
# The object goes in straight to s3rver.
head -c 1000 /dev/urandom >"$T/small"
seed clus obj "$T/obj" small "$T/small"
urls=()
pids=()
for n in a b c; do
	MAX_CONNECTIONS=10 DOWNLOAD_SPEED=64k start_replica "replica-$n" \
		--upstream "http://$S3RVER_ADDR" --cluster-redis "$REDIS_URL"
	urls+=("$REPLICA_URL")
	pids+=("$REPLICA_PID")
done
for n in a b c; do joined "replica-$n"; done
ok "3 replicas joined redis"
"$STORAGE_PROXY" -t --port 1 --cert "$CERT" --key "$KEY" --cluster-redis "$REDIS_URL" \
	2>"$T/t.err" || fail "-t failed: $(cat "$T/t.err")"
grep -q "cluster: redis at 127.0.0.1:$REDIS_PORT answers" "$T/t.err" ||
	fail "-t does not say redis answers: $(cat "$T/t.err")"
ok "-t: redis answers"

CURL="curl -sS --cacert $CERT"
# An admitted GET keeps its connection: the second of two GETs on one
# connection opens none (a response queued in libmicrohttpd's first call
# would have closed it).
n=$($CURL -o "$T/k1" -o "$T/k2" -w '%{num_connects}\n' "${urls[0]}/clus/small" \
	"${urls[0]}/clus/small" | tr '\n' ' ')
[ "$n" = "1 0 " ] || fail "two GETs on one connection made connections: $n"
same_sha "$T/small" "$T/k2" "second GET on the kept-alive connection"
ok "admitted GETs keep their connection alive"
# get I URL: a throttled GET in the background; its status in $T/g.I.code
get() {
	$CURL -o "$T/g.$1" -w '%{http_code}\n' "$2/clus/obj" >"$T/g.$1.code" 2>/dev/null &
	echo $! >"$T/g.$1.pid"
}
for i in $(seq 0 14); do get "$i" "${urls[$((i % 3))]}"; done
# The refused ones answer at once; the admitted ones stream for 8 s.
sleep 1.5
n503=0
n_busy=0
for i in $(seq 0 14); do
	c=$(cat "$T/g.$i.code")
	case $c in
	503) n503=$((n503 + 1)); grep -q '<Code>SlowDown</Code>' "$T/g.$i" ||
		fail "GET $i: 503 without SlowDown: $(cat "$T/g.$i")" ;;
	"") n_busy=$((n_busy + 1)) ;;
	*) fail "GET $i: status $c while the slots are held" ;;
	esac
done
[ "$n503" = 5 ] && [ "$n_busy" = 10 ] ||
	fail "$n_busy GETs streaming and $n503 refused; expected 10 and 5"
ok "15 GETs over 3 replicas: 10 streaming, 5 x 503 SlowDown"
slots=$(redis-cli -p "$REDIS_PORT" zcard "storage-proxy:conns:127.0.0.1")
[ "$slots" = 10 ] || fail "redis holds $slots slots for 127.0.0.1, expected 10"
ok "redis holds 10 slots"

# Abort 5 of the holders; their slots come free at once (released).
aborted=0
for i in $(seq 0 14); do
	[ -z "$(cat "$T/g.$i.code")" ] || continue
	p=$(cat "$T/g.$i.pid")
	{ kill -9 "$p"; wait "$p"; } 2>/dev/null || true
	aborted=$((aborted + 1))
	[ "$aborted" -lt 5 ] || break
done
i=0
while [ "$(redis-cli -p "$REDIS_PORT" zcard "storage-proxy:conns:127.0.0.1")" != 5 ]; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "the aborted GETs' slots were not released within 5 s"
	sleep 0.1
done
ok "5 aborts: 5 slots released"
for i in $(seq 15 19); do get "$i" "${urls[$((i % 3))]}"; done
sleep 1
for i in $(seq 15 19); do
	c=$(cat "$T/g.$i.code")
	[ -z "$c" ] || fail "new GET $i: status $c, expected it streaming"
done
for i in $(seq 15 19); do
	while [ ! -s "$T/g.$i.code" ]; do sleep 0.1; done
	c=$(cat "$T/g.$i.code")
	[ "$c" = 200 ] || fail "new GET $i: status $c"
	same_sha "$T/obj" "$T/g.$i" "new GET $i"
done
ok "5 new GETs after the aborts: 200, bytes intact"
# The 5 first holders not aborted end as they began: 200, every byte.
n=0
for i in $(seq 0 14); do
	[ -e "$T/g.$i.pid" ] || continue
	p=$(cat "$T/g.$i.pid")
	kill -0 "$p" 2>/dev/null || [ -s "$T/g.$i.code" ] || continue
	wait "$p" 2>/dev/null || true
	c=$(cat "$T/g.$i.code")
	[ "$c" = 503 ] && continue
	[ "$c" = 200 ] || fail "holder $i ended with status '$c'"
	same_sha "$T/obj" "$T/g.$i" "holder $i"
	n=$((n + 1))
done
[ "$n" = 5 ] || fail "$n holders ended with 200, expected 5"
ok "of the first 15 GETs: 10 x 200 (5 aborted by the client), 5 x 503"
for p in "${pids[@]}"; do kill -0 "$p" || fail "a replica died"; done
