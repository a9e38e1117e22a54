#!/bin/bash
# The floor under storage-proxy: what libmicrohttpd with GnuTLS and
# libcurl cost by themselves, beside nginx, interleaved in one run with the
# order rotated every round.  Targets, all over TLS with the same
# certificate, in front of the same nginx backend (static files; PUTs under
# /sink/ answered 204):
#   bare      contrib/bench/bare_mhd.c: libmicrohttpd + GnuTLS answering
#             from memory, no backend at all (what the client side alone
#             costs)
#   proto     contrib/bench/proto_loop.c: the least proxy on libmicrohttpd
#             and libcurl (one loop per core, no limits, deadlines, logs
#             or checks)
#   storage-proxy
#   nginx     as compare.sh configures it (upstream keep-alive)
# Scenarios:
#   small     4 KiB GETs, 64 kept-alive connections, 5 s: requests/s, p99
#             first byte, server CPU microseconds per request
#   put1g     one 1 GiB upload (curl): MB/s, server CPU seconds per GiB
# Usage: contrib/bench/floor.sh [ROUNDS]   (default 3; needs nginx, curl,
# openssl, Debian's python3 and a C compiler; run from a built tree)
set -eu
rounds=${1:-3}
top=$(cd "$(dirname "$0")/../.." && pwd)
proxy=${STORAGE_PROXY:-$top/src/storage-proxy}
bench=${STORAGE_PROXY_BENCH:-$top/src/storage-proxy-bench}
py=/usr/bin/python3
for b in "$proxy" "$bench"; do
	[ -x "$b" ] || { echo "build first: $b not found" >&2; exit 1; }
done
for t in nginx curl openssl cc $py; do
	command -v "$t" >/dev/null || { echo "$t not installed" >&2; exit 1; }
done
. "$top/contrib/bench/common.sh"
cc -O2 -o "$d/bare_mhd" "$top/contrib/bench/bare_mhd.c" -lmicrohttpd &&
	cc -O2 -o "$d/proto_loop" "$top/contrib/bench/proto_loop.c" \
	    -lmicrohttpd -lcurl -lpthread ||
	{ echo "could not build bare_mhd or proto_loop" >&2; exit 1; }

mkdir -p "$d/www"
chmod 755 "$d" "$d/www"
head -c $((1024 * 1024 * 1024)) /dev/urandom >"$d/obj1g.bin"
head -c 4096 /dev/urandom >"$d/www/obj4k.bin"
chmod 644 "$d"/www/*
b_port=$(port)
backend_conf "  server {
    listen 127.0.0.1:$b_port;
    root $d/www;
    client_max_body_size 0;
    keepalive_requests 100000;
    location /sink/ { return 204; }
  }"
n_port=$(port)
proxy_conf "  map \$request_method \$speed_none { default 0; }
  upstream backend { server 127.0.0.1:$b_port; keepalive 32; }
$(server_block "$n_port" speed_none 1100)"
nginx -c "$d/nginx-backend.conf" -p "$d"
nginx -c "$d/nginx-proxy.conf" -p "$d"
wait_port "$n_port" "$(cat "$d/nginx-proxy.pid")"
nworkers=$(pgrep -P "$(cat "$d/nginx-proxy.pid")" | tr '\n' ' ')
start_proxy
bare_port=$(port)
"$d/bare_mhd" "$bare_port" "$d/cert.crt" "$d/key.pem" 2 4096 2>>"$d/bare.log" &
bare=$!
pids="$pids $bare"
wait_port "$bare_port" "$bare" || { echo "bare_mhd did not start" >&2; exit 1; }
proto_port=$(port)
"$d/proto_loop" --port "$proto_port" --bind 127.0.0.1 --cert "$d/cert.crt" \
	--key "$d/key.pem" --upstream "http://127.0.0.1:$b_port" 2>>"$d/proto.log" &
proto=$!
pids="$pids $proto"
wait_port "$proto_port" "$proto" || { echo "proto_loop did not start" >&2; exit 1; }

port_of() { case $1 in bare) echo "$bare_port" ;; proto) echo "$proto_port" ;; storage-proxy) echo "$s_port" ;; nginx) echo "$n_port" ;; esac; }
pids_of() { case $1 in bare) echo "$bare" ;; proto) echo "$proto" ;; storage-proxy) echo "$sproxy" ;; nginx) echo "$nworkers" ;; esac; }
rec() { echo "$*" >>"$d/records"; echo "$*"; }	# SCENARIO TARGET ROUND KEY=VALUE...
jget() { $py -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

small() {	# ROUND TARGET
	local j=$d/j.json c0 c1 p
	p=$(pids_of "$2")
	# shellcheck disable=SC2086 # a list of PIDs
	c0=$(cpu_ticks $p)
	"$bench" --no-progress --cacert "$d/cert.crt" --format json -c 64 -d 5s \
		--size 4096 "https://127.0.0.1:$(port_of "$2")/obj4k.bin" >"$j" || true
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $p)
	rec small "$2" "$1" "rps=$(jget "$j" '"%.0f" % j["requests_per_s"]')" \
		"p99_ms=$(jget "$j" '"%.2f" % (j["ttfb_s"]["p99"] * 1e3)')" \
		"cpu_us_per_req=$(jget "$j" '"%.1f" % (('"$c1"' - '"$c0"') / '"$hz"' * 1e6 / max(j["complete"], 1))')" \
		"failed=$(jget "$j" 'j["failed"]')"
}
put1g() {	# ROUND TARGET
	local r c0 c1 p
	p=$(pids_of "$2")
	# shellcheck disable=SC2086
	c0=$(cpu_ticks $p)
	r=$(curl -sS --cacert "$d/cert.crt" -T "$d/obj1g.bin" -o /dev/null \
		-w '%{http_code} %{speed_upload}' "https://127.0.0.1:$(port_of "$2")/sink/obj") ||
		{ echo "put1g $2: curl failed" >&2; return 1; }
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $p)
	[ "${r%% *}" = 204 ] || { echo "put1g $2: status ${r%% *}" >&2; return 1; }
	rec put1g "$2" "$1" "MBps=$(awk -v s="${r#* }" 'BEGIN {printf "%.0f", s / 1e6}')" \
		"cpu_s_per_GiB=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')"
}

cat "$d/obj1g.bin" >/dev/null	# into the page cache
targets="bare proto storage-proxy nginx"
for r in $(seq "$rounds"); do
	order=$(echo $targets | tr ' ' '\n' | awk -v r="$r" '{a[NR] = $0} END {for (i = 0; i < NR; i++) print a[(i + r - 1) % NR + 1]}')
	for t in $order; do small "$r" "$t"; done
	for t in $order; do put1g "$r" "$t"; done
done

echo
$py - "$d/records" <<'PY'
import sys, statistics
recs = {}
for line in open(sys.argv[1]):
    f = line.split()
    for kv in f[3:]:
        k, v = kv.split("=")
        recs.setdefault((f[0], k), {}).setdefault(f[1], []).append(float(v))
names = ["bare", "proto", "storage-proxy", "nginx"]
print("%-34s %9s %9s %9s %9s   %s" % ("median over rounds", *names, "s-proxy/nginx"))
for (sc, k), label in [(("small", "rps"), "4 KiB GETs, requests/s"),
                       (("small", "p99_ms"), "  first byte p99, ms"),
                       (("small", "cpu_us_per_req"), "  server CPU us per request"),
                       (("put1g", "MBps"), "1 GiB upload, MB/s"),
                       (("put1g", "cpu_s_per_GiB"), "  server CPU s per GiB")]:
    v = recs.get((sc, k), {})
    med = [statistics.median(v[n]) if n in v else float("nan") for n in names]
    print("%-34s %9.1f %9.1f %9.1f %9.1f   %.3f" % (label, *med, med[2] / med[3]))
PY
