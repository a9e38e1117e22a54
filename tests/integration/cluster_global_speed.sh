#!/bin/bash
# Cluster mode shares global-speed by demand: three replicas with
# --global-speed 30m, 20 downloads on the first and 5 on each other one.
# Alone, each replica would give its clients 30 MiB/s between them (90 in
# all, 1.5 and 6 MiB/s each); shared, the cluster gives 30 MiB/s in all,
# within 5 %, and every download 1 MiB/s within 10 %.  The bucket depth
# is 128 KiB: the automatic one (100 ms of the rate, 2-3 MiB here) lets
# the first download to arrive at an idle replica take that much at once,
# 0.2 MiB/s more over this test's 15 s, which is the single replica's
# behaviour, not the cluster's.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_redis
head -c $((32 * 1024 * 1024)) /dev/urandom >"$T/obj"
seed gshare obj "$T/obj"
urls=()
for n in a b c; do
	start_replica "replica-$n" --upstream "http://$S3RVER_ADDR" \
		--cluster-redis "$REDIS_URL" --cluster-replicas 3 --global-speed 30m \
		--bucket-depth 128k
	urls+=("$REPLICA_URL")
done
for n in a b c; do joined "replica-$n"; done
conns=(20 5 5)
for i in 0 1 2; do
	"$BENCH" --no-progress --cacert "$CERT" --format json -c "${conns[$i]}" \
		-d 15s --target 1m "${urls[$i]}/gshare/obj" >"$T/b.$i.json" 2>"$T/b.$i.err" &
	echo $! >"$T/b.$i.pid"
done
for i in 0 1 2; do wait "$(cat "$T/b.$i.pid")" || true; done
$PY - "$T" <<'PY'
import json, sys
t = sys.argv[1]
agg = 0.0
rates = []
for i in range(3):
    j = json.load(open("%s/b.%d.json" % (t, i)))
    if j["failed"]:
        print("cluster_global_speed: FAIL: bench %d: %d failed" % (i, j["failed"]), file=sys.stderr)
        sys.exit(1)
    agg += j["throughput_Bps"]
    rates += [c["rate_Bps"] / 2**20 for c in j["per_connection"]]
    print("cluster_global_speed: replica %d: %d downloads, %.2f MiB/s, each %.3f-%.3f" % (
        i, len(j["per_connection"]), j["throughput_Bps"] / 2**20,
        min(c["rate_Bps"] for c in j["per_connection"]) / 2**20,
        max(c["rate_Bps"] for c in j["per_connection"]) / 2**20))
agg /= 2**20
if not 28.5 <= agg <= 31.5:
    print("cluster_global_speed: FAIL: %.2f MiB/s in all, expected 30 +- 5 %%" % agg, file=sys.stderr)
    sys.exit(1)
bad = [r for r in rates if not 0.9 <= r <= 1.1]
if len(rates) != 30 or bad:
    print("cluster_global_speed: FAIL: %d rates, outside 1 MiB/s +- 10 %%: %s" % (len(rates), bad), file=sys.stderr)
    sys.exit(1)
print("cluster_global_speed: ok: %.2f MiB/s in all over 30 downloads, each %.3f-%.3f MiB/s" % (agg, min(rates), max(rates)))
PY
