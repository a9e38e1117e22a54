#!/bin/bash
# --cluster-redis bad input: a malformed URL or rediss:// stops start-up
# (and -t) with a message naming the option, never a hang; an unreachable
# server does not: the proxy starts at once on local limits, says so once,
# and serves.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
for url in "redis://" "http://127.0.0.1:6379" "redis://h:99999" \
    "rediss://127.0.0.1:6379"; do
	set +e
	timeout 10 "$STORAGE_PROXY" -t --port 1 --cert "$CERT" --key "$KEY" \
		--upstream "http://$S3RVER_ADDR" --cluster-redis "$url" \
		>"$T/t.out" 2>"$T/t.err"
	rc=$?
	set -e
	[ "$rc" = 2 ] || fail "-t with --cluster-redis $url: exit $rc, expected 2"
	grep -q "cluster-redis" "$T/t.err" || fail "no message naming cluster-redis: $(cat "$T/t.err")"
done
grep -q "TLS" "$T/t.err" || fail "rediss:// refused without saying why: $(cat "$T/t.err")"
ok "malformed URLs and rediss:// refused at once, naming the option"

dead=$(free_port)
set +e
timeout 10 "$STORAGE_PROXY" -t --port 1 --cert "$CERT" --key "$KEY" \
	--upstream "http://$S3RVER_ADDR" --cluster-redis "redis://127.0.0.1:$dead" \
	>"$T/t.out" 2>"$T/t.err"
rc=$?
set -e
[ "$rc" = 0 ] || fail "-t with redis unreachable: exit $rc: $(cat "$T/t.err")"
grep -q "cluster: redis at 127.0.0.1:$dead unreachable" "$T/t.err" ||
	fail "-t does not say redis is unreachable: $(cat "$T/t.err")"
ok "-t says redis is unreachable, and that is no error"
t0=$(date +%s.%N)
STORAGE_PROXY_CLUSTER_REDIS=redis://ops:hunter2@127.0.0.1:$dead \
	MAX_CONNECTIONS=2 start_proxy --upstream "http://$S3RVER_ADDR" \
	--global-speed 3m --cluster-replicas 3
t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
awk -v t="$t" 'BEGIN { exit !(t < 5) }' || fail "start-up took $t s with redis unreachable"
head -c 1000 /dev/urandom >"$T/small"
random_file "$T/big" 4
SRC=$T/small BIG=$T/big s3py <<'PY'
s3.create_bucket(Bucket="bad")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="bad", Key="small", Body=f)
with open(os.environ["BIG"], "rb") as f:
    s3.put_object(Bucket="bad", Key="big", Body=f)
PY
code=$(curl -sS --cacert "$CERT" -o "$T/got" -w '%{http_code}' "$PROXY_URL/bad/small")
[ "$code" = 200 ] || fail "GET with redis unreachable: $code"
same_sha "$T/small" "$T/got" "GET with redis unreachable"
grep -q "cluster-redis = redis://(credentials)@127.0.0.1:$dead/0" "$T/proxy-err.log" ||
	fail "the URL in force (from the environment) is not logged: $(cat "$T/proxy-err.log")"
! grep -q hunter2 "$T/proxy-err.log" "$T/proxy.log" || fail "the password was logged"
ok "the URL from the environment is logged without its password"
sleep 2.5	# two more connection attempts
n=$(grep -c "max-connections is local to this replica" "$T/proxy-err.log")
[ "$n" = 1 ] || fail "unreachable redis logged $n times, expected once: $(cat "$T/proxy-err.log")"
ok "unreachable redis: started in $t s, serves on local limits, said so once"
# Never heard from Redis: global-speed 3m over 3 expected replicas is
# 1 MiB/s here (4 MiB in about 4 s).
r=$(curl -sS --cacert "$CERT" -o "$T/gotbig" -w '%{speed_download}' "$PROXY_URL/bad/big")
same_sha "$T/big" "$T/gotbig" "download at the fallback share"
awk -v r="$r" 'BEGIN { exit !(r >= 0.8 * 1048576 && r <= 1.2 * 1048576) }' ||
	fail "download at $r B/s; expected 1 MiB/s (global-speed / cluster-replicas)"
ok "no share yet: global-speed / cluster-replicas ($r B/s)"
proxy_alive
