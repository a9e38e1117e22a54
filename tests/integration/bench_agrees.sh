#!/bin/bash
# storage-proxy-bench's throughput for a single download agrees with
# curl's own speed_download within 2 %: both fetch the same 6 MiB object
# through the proxy at --download-speed 2m (about 3 s each, so that the
# figure is the proxy's and not the machine's noise), twice, alternately.
# Its per-connection rate as a ratio of --target 2m is within loose bounds.
. "$(dirname "$0")/lib.sh"

[ -x "$BENCH" ] || fail "storage-proxy-bench not found at $BENCH"
make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR" --download-speed 2m
random_file "$T/obj" 6
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="agree")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="agree", Key="obj", Body=f)
PY
URL=$PROXY_URL/agree/obj
for i in 1 2; do
	c=$(curl -sS --fail --cacert "$CERT" -o /dev/null -w '%{speed_download}' "$URL") ||
		fail "curl GET"
	"$BENCH" --cacert "$CERT" --size $((6 * 1048576)) --target 2m --format json "$URL" \
		>"$T/b$i.json" || fail "bench GET: $(cat "$T/b$i.json")"
	read -r b r <<<"$($PY -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["throughput_Bps"], j["ratio"]["median"])' "$T/b$i.json")"
	q=$(awk -v b="$b" -v c="$c" 'BEGIN { printf "%.4f", b / c }')
	awk -v q="$q" 'BEGIN { exit !(q >= 0.98 && q <= 1.02) }' ||
		fail "run $i: bench $b B/s against curl $c B/s (ratio $q)"
	ok "run $i: bench $b B/s, curl $c B/s: ratio $q"
	awk -v r="$r" 'BEGIN { exit !(r >= 0.8 && r <= 1.2) }' ||
		fail "run $i: rate $r of the 2m target"
	ok "run $i: per-connection rate $r of the 2 MiB/s target"
done
