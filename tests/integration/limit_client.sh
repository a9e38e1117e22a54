#!/bin/bash
# --client-speed: all GETs of one client address share one rate, fairly.
# 4 parallel downloads of 2 MiB at client-speed 2m take about 4 s in all
# (not 1 s, as four separate 2 MiB/s limits would), and finish together.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR" --client-speed 2m
random_file "$T/obj" 2
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="client")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="client", Key="obj", Body=f)
PY
CURL="curl -sS --fail --cacert $CERT"
t0=$(date +%s.%N)
pids=""
for i in 1 2 3 4; do
	$CURL -o "$T/got.$i" -w '%{time_total}\n' "$PROXY_URL/client/obj" >"$T/t.$i" &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "a download failed"; done
t1=$(date +%s.%N)
for i in 1 2 3 4; do same_sha "$T/obj" "$T/got.$i" "download $i"; done
agg=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", 8 / (b - a) }')
awk -v r="$agg" 'BEGIN { exit !(r >= 1.6 && r <= 2.4) }' ||
	fail "4 downloads together ran at $agg MiB/s; the client limit is 2"
ok "4 downloads of one client together: $agg MiB/s for a limit of 2 MiB/s"
# Fair: the slowest took at most 25 % longer than the fastest.
sort -n "$T"/t.? | awk 'NR == 1 { lo = $1 } { hi = $1 }
	END { printf "%.3f %.3f\n", lo, hi; exit !(hi <= lo * 1.25) }' >"$T/spread" ||
	fail "unfair sharing: fastest and slowest took $(cat "$T/spread") s"
ok "shared fairly: fastest and slowest took $(cat "$T/spread") s"
