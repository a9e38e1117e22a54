#!/bin/bash
# Cluster mode against a Redis that wants a password: the right one joins;
# none, or a wrong one, is refused, logged once over several retries (no
# join-and-drop every second), the password never logged, and the proxy
# serves on local limits.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
REDIS_PORT=$(free_port)
spawn redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
	--appendonly no --dir "$T" --requirepass s3cret-pw
wait_port "$REDIS_PORT" "$SPAWNED" redis
for case in right none wrong; do
	case $case in
	right) url="redis://:s3cret-pw@127.0.0.1:$REDIS_PORT" ;;
	none) url="redis://127.0.0.1:$REDIS_PORT" ;;
	wrong) url="redis://:not-it-pw@127.0.0.1:$REDIS_PORT" ;;
	esac
	MAX_CONNECTIONS=5 start_replica "r-$case" --upstream "http://$S3RVER_ADDR" \
		--cluster-redis "$url"
	sleep 2.5	# the first attempt and two retries
	log=$T/r-$case-err.log
	joined=$(grep -c "cluster: redis at .* answers" "$log" || true)
	refused=$(grep -c "cluster: redis at .* refused" "$log" || true)
	! grep -q "pw" "$log" || fail "$case: a password was logged: $(grep pw "$log")"
	if [ "$case" = right ]; then
		[ "$joined" = 1 ] && [ "$refused" = 0 ] ||
			fail "right password: joined $joined, refused $refused: $(cat "$log")"
	else
		[ "$joined" = 0 ] || fail "$case password: joined $joined times: $(cat "$log")"
		[ "$refused" = 1 ] || fail "$case password: refused logged $refused times: $(cat "$log")"
		code=$(curl -sS --cacert "$CERT" -o /dev/null -w '%{http_code}' "$REPLICA_URL/nothing/here")
		[ "$code" = 404 ] || fail "$case password: the proxy does not serve: $code"
	fi
	ok "$case password: joined $joined, refused logged $refused"
	kill "$REPLICA_PID"
done
