#!/bin/bash
# Cluster mode: three storage-proxy replicas sharing their limits through
# one Redis, behind HAProxy in TCP mode (round robin), against the same
# three replicas each on its own limits (no --cluster-redis), in one run.
# The backend is an nginx serving static files.  Scenarios:
#   conns   MAX_CONNECTIONS=10: 30 throttled GETs from one address through
#           the balancer: how many are admitted (the limit is per address)
#   global  --global-speed 30m, 30 downloads spread 20 / 5 / 5 over the
#           replicas (by hand, as a balancer keeping old connections may
#           leave them): the cluster's MB/s and each download's rate
#   small   4 KiB GETs, 64 kept-alive connections, 5 s through the
#           balancer, MAX_CONNECTIONS=1000 (every GET asks Redis):
#           requests/s and first-byte p50/p99 with and without the cluster
#           (what admission costs)
# Loopback only; leaves nothing running; about 2 minutes.
# Usage: contrib/bench/cluster.sh   (needs nginx, haproxy, redis-server,
# curl, openssl, Debian's python3; run from a built source tree)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
proxy=${STORAGE_PROXY:-$top/src/storage-proxy}
bench=${STORAGE_PROXY_BENCH:-$top/src/storage-proxy-bench}
py=/usr/bin/python3
for b in "$proxy" "$bench"; do
	[ -x "$b" ] || { echo "build first: $b not found" >&2; exit 1; }
done
for t in nginx haproxy redis-server curl openssl $py; do
	command -v "$t" >/dev/null || { echo "$t not installed" >&2; exit 1; }
done
. "$top/contrib/bench/common.sh"

mkdir -p "$d/www"
chmod 755 "$d" "$d/www"
head -c $((32 * 1024 * 1024)) /dev/urandom >"$d/www/obj32m.bin"
head -c 4096 /dev/urandom >"$d/www/obj4k.bin"
chmod 644 "$d"/www/*
b_port=$(port)
backend_conf "  server {
    listen 127.0.0.1:$b_port;
    root $d/www;
    keepalive_requests 100000;
  }"
nginx -c "$d/nginx-backend.conf" -p "$d"
r_port=$(port)
redis-server --port "$r_port" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$d" >"$d/redis.log" 2>&1 &
pids="$pids $!"
wait_port "$r_port" "$!" || { echo "redis did not start" >&2; exit 1; }

# replicas MODE OPTIONS...: three replicas (MODE cluster or alone) and
# HAProxy in front; sets rports (their ports), rpids, h_port.
rpids=""
replicas() {
	local mode=$1 i p
	local -a extra=()
	shift
	stop_replicas
	[ "$mode" = cluster ] && extra=(--cluster-redis "redis://127.0.0.1:$r_port" \
	    --cluster-replicas 3)
	rports=""
	for i in 1 2 3; do
		p=$(port)
		"$proxy" --port "$p" --bind 127.0.0.1 --cert "$d/cert.crt" \
			--key "$d/key.pem" --upstream "http://127.0.0.1:$b_port" \
			--access-log off --shutdown-timeout 1s "$@" "${extra[@]}" \
			2>>"$d/replica-$i.log" &
		rpids="$rpids $!"
		wait_port "$p" "$!" || { echo "replica did not start" >&2; cat "$d/replica-$i.log" >&2; exit 1; }
		rports="$rports $p"
	done
	h_port=$(port)
	{
		echo "global"
		echo "  maxconn 4096"
		echo "defaults"
		echo "  mode tcp"
		echo "  timeout connect 5s"
		echo "  timeout client 60s"
		echo "  timeout server 60s"
		echo "frontend s3"
		echo "  bind 127.0.0.1:$h_port"
		echo "  default_backend replicas"
		echo "backend replicas"
		echo "  balance roundrobin"
		i=0
		for p in $rports; do
			i=$((i + 1))
			echo "  server r$i 127.0.0.1:$p"
		done
	} >"$d/haproxy.cfg"
	haproxy -f "$d/haproxy.cfg" -db >"$d/haproxy.log" 2>&1 &
	rpids="$rpids $!"
	wait_port "$h_port" "$!" || { echo "haproxy did not start" >&2; cat "$d/haproxy.log" >&2; exit 1; }
	# The replicas to have met Redis (one share round after).
	[ "$mode" = cluster ] && nap 1.5
	return 0
}
stop_replicas() {
	local p
	for p in $rpids; do kill "$p" 2>/dev/null || true; done
	for p in $rpids; do wait "$p" 2>/dev/null || true; done
	rpids=""
}
trap 'stop_replicas; cleanup' EXIT

B() { "$bench" --no-progress --cacert "$d/cert.crt" --format json "$@"; }
jget() { $py -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

conns() {	# MODE
	local i n200=0 n503=0 c
	replicas "$1" --max-connections 10 --download-speed 256k
	for i in $(seq 30); do
		curl -sS --cacert "$d/cert.crt" -o /dev/null -w '%{http_code}\n' \
			--max-time 3 "https://127.0.0.1:$h_port/obj32m.bin" >"$d/c.$i" 2>/dev/null &
	done
	wait_curls() { for i in $(seq 30); do while [ ! -s "$d/c.$i" ]; do nap 0.1; done; done; }
	wait_curls
	for i in $(seq 30); do
		c=$(cat "$d/c.$i")
		# Cut at 3 s while streaming: admitted (curl says 200 anyway).
		case $c in 503) n503=$((n503 + 1)) ;; *) n200=$((n200 + 1)) ;; esac
	done
	echo "conns $1 admitted=$n200 refused=$n503"
}

global() {	# MODE
	local i p ports bp
	replicas "$1" --global-speed 30m
	read -r -a ports <<<"$rports"
	i=0
	bp=""
	for c in 20 5 5; do
		B -c "$c" -d 10s --target 1m "https://127.0.0.1:${ports[$i]}/obj32m.bin" >"$d/g.$i.json" &
		bp="$bp $!"
		i=$((i + 1))
	done
	for p in $bp; do wait "$p" || true; done
	$py - "$d" "$1" <<'PY'
import json, sys
d, mode = sys.argv[1], sys.argv[2]
agg, rates, per = 0.0, [], []
for i in range(3):
    j = json.load(open("%s/g.%d.json" % (d, i)))
    agg += j["throughput_Bps"]
    r = [c["rate_Bps"] / 2**20 for c in j["per_connection"]]
    rates += r
    per.append("%.1f" % (j["throughput_Bps"] / 2**20))
print("global %s MiBps=%.2f per_replica=%s rate_min=%.3f rate_max=%.3f" % (
    mode, agg / 2**20, "/".join(per), min(rates), max(rates)))
PY
}

small() {	# MODE
	local j=$d/s.json
	replicas "$1" --max-connections 1000
	B -c 64 -d 5s --size 4096 "https://127.0.0.1:$h_port/obj4k.bin" >"$j" || true
	echo "small $1 rps=$(jget "$j" '"%.0f" % j["requests_per_s"]')" \
		"p50_ms=$(jget "$j" '"%.2f" % (j["ttfb_s"]["p50"] * 1e3)')" \
		"p99_ms=$(jget "$j" '"%.2f" % (j["ttfb_s"]["p99"] * 1e3)')" \
		"failed=$(jget "$j" 'j["failed"]')"
}

for m in alone cluster; do conns "$m"; done
for m in alone cluster; do global "$m"; done
for m in alone cluster cluster alone; do small "$m"; done
stop_replicas
