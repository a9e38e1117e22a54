#!/bin/bash
# Cluster mode shares client-speed by demand too: two replicas with
# --client-speed 2m, one client address with 3 downloads on the first and
# 1 on the second.  Alone, each replica would give the address 2 MiB/s (4
# in all); shared, the address gets 2 MiB/s in all, within 5 %, split
# 3 : 1, and each download 0.5 MiB/s within 10 %.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_redis
random_file "$T/obj" 16
seed cshare obj "$T/obj"
urls=()
for n in a b; do
	start_replica "replica-$n" --upstream "http://$S3RVER_ADDR" \
		--cluster-redis "$REDIS_URL" --cluster-replicas 2 --client-speed 2m
	urls+=("$REPLICA_URL")
done
for n in a b; do joined "replica-$n"; done
conns=(3 1)
for i in 0 1; do
	"$BENCH" --no-progress --cacert "$CERT" --format json -c "${conns[$i]}" \
		-d 12s --target 512k "${urls[$i]}/cshare/obj" >"$T/b.$i.json" 2>"$T/b.$i.err" &
	echo $! >"$T/b.$i.pid"
done
for i in 0 1; do wait "$(cat "$T/b.$i.pid")" || true; done
$PY - "$T" <<'PY'
import json, sys
t = sys.argv[1]
agg, rates = 0.0, []
for i in range(2):
    j = json.load(open("%s/b.%d.json" % (t, i)))
    if j["failed"]:
        print("cluster_client_speed: FAIL: bench %d: %d failed" % (i, j["failed"]), file=sys.stderr)
        sys.exit(1)
    agg += j["throughput_Bps"]
    rates += [c["rate_Bps"] / 2**20 for c in j["per_connection"]]
    print("cluster_client_speed: replica %d: %.3f MiB/s for the address" % (i, j["throughput_Bps"] / 2**20))
agg /= 2**20
if not 1.9 <= agg <= 2.1:
    print("cluster_client_speed: FAIL: the address got %.3f MiB/s, expected 2 +- 5 %%" % agg, file=sys.stderr)
    sys.exit(1)
bad = [r for r in rates if not 0.45 <= r <= 0.55]
if len(rates) != 4 or bad:
    print("cluster_client_speed: FAIL: rates outside 0.5 MiB/s +- 10 %%: %s" % rates, file=sys.stderr)
    sys.exit(1)
print("cluster_client_speed: ok: the address got %.3f MiB/s over 2 replicas, each download %.3f-%.3f" % (agg, min(rates), max(rates)))
PY
