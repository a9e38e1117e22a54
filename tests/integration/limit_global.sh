#!/bin/bash
# --global-speed: all downloads share one rate, work-conserving.  At 4m,
# two 2 MiB and two 6 MiB downloads start together: the small ones get
# 1 MiB/s (done at ~2 s), then the big ones share all 4 MiB/s (done at
# ~4 s; a fixed 1 MiB/s share would take 6 s).
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR" --global-speed 4m
random_file "$T/small" 2
random_file "$T/big" 6
SMALL=$T/small BIG=$T/big s3py <<'PY'
s3.create_bucket(Bucket="global")
for k in ("small", "big"):
    with open(os.environ[k.upper()], "rb") as f:
        s3.put_object(Bucket="global", Key=k, Body=f)
PY
CURL="curl -sS --fail --cacert $CERT"
t0=$(date +%s.%N)
pids=""
for k in small big; do
	for i in 1 2; do
		$CURL -o "$T/got.$k.$i" -w '%{time_total}\n' "$PROXY_URL/global/$k" >"$T/t.$k.$i" &
		pids="$pids $!"
	done
done
for p in $pids; do wait "$p" || fail "a download failed"; done
t1=$(date +%s.%N)
for k in small big; do for i in 1 2; do
	same_sha "$T/$k" "$T/got.$k.$i" "$k download $i"
done; done
check() {	# file lo hi what
	t=$(cat "$1")
	awk -v t="$t" -v lo="$2" -v hi="$3" 'BEGIN { exit !(t >= lo && t <= hi) }' ||
		fail "$4 took $t s, expected $2-$3 s"
	ok "$4 took $t s"
}
# The curls start a little apart on a busy machine: an early one gets
# more at first.  The aggregate and the big ones' times are what count.
agg=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", 16 / (b - a) }')
awk -v r="$agg" 'BEGIN { exit !(r >= 3.2 && r <= 4.8) }' ||
	fail "16 MiB in all at $agg MiB/s; the global limit is 4"
ok "all downloads together: $agg MiB/s for a limit of 4 MiB/s"
check "$T/t.small.1" 1.2 2.5 "2 MiB at about a quarter of 4 MiB/s"
check "$T/t.small.2" 1.2 2.5 "2 MiB at about a quarter of 4 MiB/s"
check "$T/t.big.1" 3.2 4.9 "6 MiB, sharing what the small ones left"
check "$T/t.big.2" 3.2 4.9 "6 MiB, sharing what the small ones left"
