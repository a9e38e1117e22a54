#!/bin/bash
# The comparison: the same scenarios against (a) the backend directly,
# (b) storage-proxy and (c) nginx configured as the update server's storage
# proxy (TLS, limit_rate and limit_conn on GET, proxy_request_buffering
# off, HTTP/1.1 upstream with keep-alive), interleaved in one run, the
# order rotated every round.  The backend is an nginx of its own serving
# static files (raw speed; it also discards upload bodies), so that each
# proxy's CPU figures are its own.  Clients: storage-proxy-bench for
# downloads, curl for uploads.  Scenarios:
#   get1g   one unthrottled 1 GiB HTTPS download: MB/s, proxy CPU s/GiB
#   small   4 KiB GETs, keep-alive, 64 connections, 5 s: requests/s, p50/p99
#   rate20  20 clients at 1 MiB/s for 10 s: each one's rate / the limit
#   rate1k  1,000 clients at 64 KiB/s for 14 s: rate / limit, and the
#           proxy's CPU seconds in 10 s while all 1,000 stream, peak RSS
#   put1g   upload of a 1 GiB object: MB/s
#   s3get   realism: presigned GETs (SigV4, as devices get them) of a 4 MiB
#           artifact from s3rver, checked by sha256, 20 connections for
#           10 s: MB/s, first byte p50/p99
#   slow500 500 devices 150 ms away (round trip, through slowrelay.c, a
#           delaying relay built here) arriving over 5 s, each downloading
#           a 640 KiB object once at 64 KiB/s: the proxy's CPU seconds in
#           the 16 s from the first arrival, first byte p50/p99 (fresh
#           connections: TCP, TLS and request round trips included),
#           rate / limit; direct is the backend with the same limit,
#           plain HTTP, through the same relay (the relay's reference)
# Prints one line per measurement, then the table: per proxy the median
# over the rounds, storage-proxy/nginx per round and its median, and the
# spread of that ratio over the rounds (the noise of this run).  get1g
# runs three times a round, each a sample of its own.
# Loopback only; leaves nothing running; about 10 minutes with 3 rounds.
# CERT_KEY=ecdsa: both proxies get a P-256 certificate instead of RSA 2048.
# Usage: contrib/bench/compare.sh [ROUNDS]   (default 3; needs nginx, curl,
# openssl, s3rver, Debian's python3-boto3 and a C compiler; run from a
# built source tree)
# SCENARIOS="rate1k get1g" runs only those (default: all seven).
set -eu
rounds=${1:-3}
scenarios=${SCENARIOS:-get1g small put1g rate20 rate1k s3get slow500}
want() { case " $scenarios " in *" $1 "*) return 0 ;; esac; return 1; }
top=$(cd "$(dirname "$0")/../.." && pwd)
proxy=${STORAGE_PROXY:-$top/src/storage-proxy}
bench=${STORAGE_PROXY_BENCH:-$top/src/storage-proxy-bench}
py=/usr/bin/python3
for b in "$proxy" "$bench"; do
	[ -x "$b" ] || { echo "build first: $b not found" >&2; exit 1; }
done
for t in nginx curl openssl $py s3rver; do
	command -v "$t" >/dev/null || { echo "$t not installed" >&2; exit 1; }
done
want slow500 && { command -v cc >/dev/null || { echo "cc not installed" >&2; exit 1; }; }
. "$top/contrib/bench/common.sh"
b_port=$(port); s3_port=$(port); b64_port=$(port)
# slow500's relay stands for the network, so it runs ahead of the rest
# when it may (nice -10 needs root): with storage-proxy spinning on both
# cores it released chunks 10-12 ms late at p99 at equal priority, 3-7 ms
# ahead.
relay_nice=""
if want slow500; then
	cc -O2 -o "$d/slowrelay" "$top/contrib/bench/slowrelay.c" ||
		{ echo "could not build slowrelay" >&2; exit 1; }
	nice -n -10 true 2>/dev/null && relay_nice="nice -n -10"
fi

mkdir -p "$d/www"
chmod 755 "$d" "$d/www"
head -c $((1024 * 1024 * 1024)) /dev/urandom >"$d/www/obj1g.bin"
head -c $((32 * 1024 * 1024)) /dev/urandom >"$d/www/obj32m.bin"
head -c $((1280 * 1024)) /dev/urandom >"$d/www/obj1280k.bin"
head -c $((640 * 1024)) /dev/urandom >"$d/www/obj640k.bin"
head -c 4096 /dev/urandom >"$d/www/obj4k.bin"
chmod 644 "$d"/www/*
sha1g=$(sha256sum "$d/www/obj1g.bin" | cut -d' ' -f1)

# The backend: static files; PUTs under /sink/ are read and discarded.
# On b64_port the same files at 64 KiB/s (slow500's direct reference).
backend_conf "  client_body_temp_path $d/body;
  server {
    listen 127.0.0.1:$b_port;
    root $d/www;
    client_max_body_size 0;
    location /sink/ { return 204; }
  }
  server {
    listen 127.0.0.1:$b64_port;
    root $d/www;
    limit_rate 64k;
  }"
# The deployment's proxy, with limit_rate \$speed by server (none, 1m, 64k)
# and limit_conn above the clients per address here (accounted, not hit).
# worker_connections 4096: 1,000 proxied downloads take 2,000 (the
# deployment's 1024 drops about 5 % of them, see limits.sh).
n0=$(port); n1=$(port); n2=$(port); n3=$(port)
proxy_conf "  map \$request_method \$speed_none { default 0; }
  map \$request_method \$speed_1m { GET 1m; default 0; }
  map \$request_method \$speed_64k { GET 64k; default 0; }
  upstream backend { server 127.0.0.1:$b_port; keepalive 32; }
  upstream s3 { server 127.0.0.1:$s3_port; keepalive 32; }
$(server_block "$n0" speed_none 1100)
$(server_block "$n3" speed_none 1100 s3)
$(server_block "$n1" speed_1m 1100)
$(server_block "$n2" speed_64k 1100)"
nginx -c "$d/nginx-backend.conf" -p "$d"
nginx -c "$d/nginx-proxy.conf" -p "$d"
wait_port "$n2" "$(cat "$d/nginx-proxy.pid")"
nworkers=$(pgrep -P "$(cat "$d/nginx-proxy.pid")" | tr '\n' ' ')
# The S3 server, path-style (else the Host reads as a bucket name), with
# a 4 MiB artifact.
mkdir -p "$d/s3data"
s3rver -d "$d/s3data" -a 127.0.0.1 -p "$s3_port" --silent --no-vhost-buckets \
	>"$d/s3rver.log" 2>&1 &
pids="$pids $!"
wait_port "$s3_port" "$!" || { echo "s3rver did not start" >&2; exit 1; }
head -c $((4 * 1024 * 1024)) /dev/urandom >"$d/artifact"
sha4m=$(sha256sum "$d/artifact" | cut -d' ' -f1)
AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null $py - "$s3_port" "$d/artifact" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url="http://127.0.0.1:" + sys.argv[1],
                  region_name="us-east-1", aws_access_key_id="S3RVER",
                  aws_secret_access_key="S3RVER")
s3.create_bucket(Bucket="artifacts")
with open(sys.argv[2], "rb") as f:
    s3.put_object(Bucket="artifacts", Key="update.mender", Body=f)
PY
presign() {	# SCHEME PORT: a URL list of 20 presigned GETs for s3.docker.mender.io:PORT
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null $py - "$1" "$2" "$sha4m" <<'PY'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1] + "://s3.docker.mender.io:" + sys.argv[2],
                  region_name="us-east-1", aws_access_key_id="S3RVER",
                  aws_secret_access_key="S3RVER",
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
for i in range(20):
    print(s3.generate_presigned_url("get_object", ExpiresIn=86400, Params={
        "Bucket": "artifacts", "Key": "update.mender",
        "ResponseContentDisposition": 'attachment; filename="update-%d.mender"' % i}),
        "sha256=" + sys.argv[3], "size=4194304")
PY
}
for f in obj1g.bin obj32m.bin obj1280k.bin obj640k.bin; do	# warm the page cache
	curl -sS -o /dev/null "http://127.0.0.1:$b_port/$f"
done

rss_kib() { for p in "$@"; do awk '/^VmRSS:/ {print $2}' "/proc/$p/status"; done | awk '{s += $1} END {print s + 0}'; }
B() { "$bench" --no-progress --cacert "$d/cert.crt" --format json "$@"; }
jget() { $py -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }
rec() { echo "$*" >>"$d/records"; echo "$*"; }	# SCENARIO TARGET ROUND KEY=VALUE...

# Each scenario against one target: "direct", "storage-proxy" or "nginx".
url_of() {	# TARGET SP_PORT NGINX_PORT PATH
	case $1 in
	direct) echo "http://127.0.0.1:$b_port/$4" ;;
	storage-proxy) echo "https://127.0.0.1:$2/$4" ;;
	nginx) echo "https://127.0.0.1:$3/$4" ;;
	esac
}
pids_of() { case $1 in storage-proxy) echo "$sproxy" ;; nginx) echo "$nworkers" ;; *) echo "" ;; esac; }

get1g() {	# ROUND TARGET [check]
	local p c0 c1 j=$d/j.json
	p=$(pids_of "$2")
	# Checked in full once a round (the digest costs the client CPU that
	# the timed runs leave to the proxy); timed with its size checked.
	if [ "${3:-}" = check ]; then
		B --sha256 "$sha1g" "$(url_of "$2" "$s_port" "$n0" obj1g.bin)" >"$j" ||
			{ echo "get1g $2: wrong bytes: $(cat "$j")" >&2; return 1; }
	fi
	[ -z "$p" ] || c0=$(cpu_ticks $p)
	B --size $((1 << 30)) "$(url_of "$2" "$s_port" "$n0" obj1g.bin)" >"$j" ||
		{ echo "get1g $2: $(cat "$j")" >&2; return 1; }
	local cpu=-
	[ -z "$p" ] || { c1=$(cpu_ticks $p); cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}'); }
	rec get1g "$2" "$1" "MBps=$(jget "$j" '"%.0f" % (j["throughput_Bps"] / 1e6)')" "cpu_s_per_GiB=$cpu"
}
small() {
	local j=$d/j.json
	B -c 64 -d 5s --size 4096 "$(url_of "$2" "$s_port" "$n0" obj4k.bin)" >"$j" || true
	rec small "$2" "$1" "rps=$(jget "$j" '"%.0f" % j["requests_per_s"]')" \
		"p50_ms=$(jget "$j" '"%.2f" % (j["ttfb_s"]["p50"] * 1e3)')" \
		"p99_ms=$(jget "$j" '"%.2f" % (j["ttfb_s"]["p99"] * 1e3)')" \
		"failed=$(jget "$j" 'j["failed"]')"
}
rate20() {
	local j=$d/j.json
	B -c 20 -d 10s --target 1m "$(url_of "$2" "$s_port" "$n1" obj32m.bin)" >"$j" || true
	rec rate20 "$2" "$1" "min=$(jget "$j" '"%.3f" % j["ratio"]["min"]')" \
		"median=$(jget "$j" '"%.3f" % j["ratio"]["median"]')" \
		"max=$(jget "$j" '"%.3f" % j["ratio"]["max"]')" "failed=$(jget "$j" 'j["failed"]')"
}
rate1k() {	# the CPU window: 10 s from 3.5 s after the launch
	local j=$d/j.json p b ca cb ta tb peak=0 r t
	p=$(pids_of "$2")
	B -c 1000 -d 14s --target 64k "$(url_of "$2" "$s_port" "$n2" obj1280k.bin)" >"$j" &
	b=$!
	pids="$pids $b"
	nap 3.5
	ca=$(cpu_ticks $p); ta=${EPOCHREALTIME/[.,]/}
	for t in $(seq 50); do
		r=$(rss_kib $p); [ "$r" -gt "$peak" ] && peak=$r
		nap 0.2
	done
	cb=$(cpu_ticks $p); tb=${EPOCHREALTIME/[.,]/}
	wait "$b" || true
	rec rate1k "$2" "$1" "min=$(jget "$j" '"%.3f" % j["ratio"]["min"]')" \
		"median=$(jget "$j" '"%.3f" % j["ratio"]["median"]')" \
		"max=$(jget "$j" '"%.3f" % j["ratio"]["max"]')" \
		"cpu_s_10s=$(awk -v a="$ca" -v b="$cb" -v t="$((tb - ta))" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz * 1e7 / t}')" \
		"rss_MiB=$((peak / 1024))" "failed=$(jget "$j" 'j["failed"]')"
}
s3get() {	# needs the storage-proxy in front of s3rver (s_port)
	local j=$d/j.json p
	case $2 in direct) p=$s3_port; presign http "$p" ;; storage-proxy) p=$s_port; presign https "$p" ;;
	nginx) p=$n3; presign https "$p" ;; esac >"$d/s3.list"
	B -c 20 -d 10s -i "$d/s3.list" --resolve "s3.docker.mender.io:$p:127.0.0.1" >"$j" || true
	rec s3get "$2" "$1" "MBps=$(jget "$j" '"%.0f" % (j["throughput_Bps"] / 1e6)')" \
		"p50_ms=$(jget "$j" '"%.2f" % (j["ttfb_s"]["p50"] * 1e3)')" \
		"p99_ms=$(jget "$j" '"%.2f" % (j["ttfb_s"]["p99"] * 1e3)')" \
		"failed=$(jget "$j" 'j["failed"]')"
}
slow500() {	# the CPU window: 16 s from the launch (5 s of arrivals, 10 s of download)
	local j=$d/j.json p b r rp tp url ca cb ta tb ra rb w=16 cpu=-
	p=$(pids_of "$2")
	case $2 in
	direct) tp=$b64_port ;; storage-proxy) tp=$s_port ;; nginx) tp=$n2 ;;
	esac
	# 75 ms each way between the devices and the target.
	rp=$(port)
	$relay_nice "$d/slowrelay" -d 75 "$rp" "$tp" 2>"$d/relay.log" &
	r=$!
	pids="$pids $r"
	wait_port "$rp" "$r" || { echo "slowrelay did not start: $(cat "$d/relay.log")" >&2; return 1; }
	case $2 in direct) url=http://127.0.0.1:$rp/obj640k.bin ;; *) url=https://127.0.0.1:$rp/obj640k.bin ;; esac
	nap 0.5		# the relay's own probe connection (wait_port) is gone
	ca=$(cpu_ticks $p); ra=$(cpu_ticks $r); ta=${EPOCHREALTIME/[.,]/}
	B -c 500 -n 500 --ramp 5s --timeout 40s --target 64k --size $((640 * 1024)) "$url" >"$j" &
	b=$!
	pids="$pids $b"
	nap $w
	cb=$(cpu_ticks $p); rb=$(cpu_ticks $r); tb=${EPOCHREALTIME/[.,]/}
	wait "$b" || true
	kill "$r"; wait "$r" 2>/dev/null || true
	[ -z "$p" ] || cpu=$(awk -v a="$ca" -v b="$cb" -v t="$((tb - ta))" -v hz="$hz" -v w=$w 'BEGIN {printf "%.2f", (b - a) / hz * w * 1e6 / t}')
	rec slow500 "$2" "$1" \
		"cpu_s=$cpu" \
		"p50_ms=$(jget "$j" '"%.0f" % (j["ttfb_s"]["p50"] * 1e3)')" \
		"p99_ms=$(jget "$j" '"%.0f" % (j["ttfb_s"]["p99"] * 1e3)')" \
		"median=$(jget "$j" '"%.3f" % j["ratio"]["median"]')" \
		"min=$(jget "$j" '"%.3f" % j["ratio"]["min"]')" \
		"max=$(jget "$j" '"%.3f" % j["ratio"]["max"]')" \
		"complete=$(jget "$j" 'j["complete"]')" "failed=$(jget "$j" 'j["failed"]')" \
		"relay_cpu_s=$(awk -v a="$ra" -v b="$rb" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')" \
		"relay_late_p99_ms=$(sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p' "$d/relay.log")" \
		"relay_late_max_ms=$(sed -n 's/.*max \([0-9.]*\) ms.*/\1/p' "$d/relay.log")"
}
put1g() {
	local s
	s=$(curl -sS --fail --cacert "$d/cert.crt" -T "$d/www/obj1g.bin" -o /dev/null \
		-w '%{speed_upload}' "$(url_of "$2" "$s_port" "$n0" sink/obj)") ||
		{ echo "put1g $2 failed" >&2; return 1; }
	rec put1g "$2" "$1" "MBps=$(awk -v s="$s" 'BEGIN {printf "%.0f", s / 1e6}')"
}

: >"$d/records"
targets="direct storage-proxy nginx"
for r in $(seq "$rounds"); do
	# Rotate the order every round.
	set -- $targets
	case $((r % 3)) in
	1) order="$1 $2 $3" ;; 2) order="$2 $3 $1" ;; 0) order="$3 $1 $2" ;;
	esac
	if want get1g || want small || want put1g; then
		start_proxy
		# A single download is the noisiest figure: three, interleaved,
		# each its own sample (round r, sample k: r * 10 + k).
		if want get1g; then
			for t in $order; do get1g "${r}1" "$t" check; done
			for k in 2 3; do for t in $order; do get1g "$r$k" "$t"; done; done
		fi
		if want small; then for t in $order; do small "$r" "$t"; done; fi
		if want put1g; then for t in $order; do put1g "$r" "$t"; done; fi
		stop_proxy
	fi
	if want rate20; then
		start_proxy --download-speed 1m
		for t in $order; do [ "$t" = direct ] || rate20 "$r" "$t"; done
		stop_proxy
	fi
	if want rate1k; then
		start_proxy --download-speed 64k
		for t in $order; do [ "$t" = direct ] || rate1k "$r" "$t"; done
		stop_proxy
	fi
	if want s3get; then
		upstream=http://127.0.0.1:$s3_port start_proxy
		for t in $order; do s3get "$r" "$t"; done
		stop_proxy
	fi
	if want slow500; then
		start_proxy --download-speed 64k
		for t in $order; do slow500 "$r" "$t"; done
		stop_proxy
	fi
done

echo
$py - "$d/records" <<'PY'
import statistics, sys
recs = {}
for line in open(sys.argv[1]):
    f = line.split()
    scn, tgt, rnd = f[0], f[1], int(f[2])
    for kv in f[3:]:
        k, v = kv.split("=")
        try:
            v = float(v)
        except ValueError:
            continue
        recs.setdefault((scn, k), {}).setdefault(tgt, {})[rnd] = v
rows = [("get1g", "MBps", "1 GiB HTTPS download, MB/s", "up"),
        ("get1g", "cpu_s_per_GiB", "  proxy CPU s per GiB", "down"),
        ("small", "rps", "4 KiB GETs, 64 conns, requests/s", "up"),
        ("small", "p50_ms", "  first byte p50, ms", "down"),
        ("small", "p99_ms", "  first byte p99, ms", "down"),
        ("rate20", "median", "20 at 1 MiB/s, rate/limit median", "exact"),
        ("rate20", "min", "  min", "exact"),
        ("rate20", "max", "  max", "exact"),
        ("rate1k", "median", "1,000 at 64 KiB/s, rate/limit median", "exact"),
        ("rate1k", "min", "  min", "exact"),
        ("rate1k", "max", "  max", "exact"),
        ("rate1k", "cpu_s_10s", "  proxy CPU s per 10 s", "down"),
        ("rate1k", "rss_MiB", "  proxy peak RSS, MiB", "down"),
        ("put1g", "MBps", "1 GiB upload, MB/s", "up"),
        ("s3get", "MBps", "s3rver: presigned 4 MiB GETs x 20, MB/s", "up"),
        ("s3get", "p50_ms", "  first byte p50, ms", "down"),
        ("s3get", "p99_ms", "  first byte p99, ms", "down"),
        ("slow500", "cpu_s", "500 at 64 KiB/s, RTT 150 ms: CPU s", "down"),
        ("slow500", "p50_ms", "  first byte p50, ms", "down"),
        ("slow500", "p99_ms", "  first byte p99, ms", "down"),
        ("slow500", "median", "  rate/limit median", "exact"),
        ("slow500", "complete", "  downloads complete (of 500)", "up")]
def med(d):
    return statistics.median(d.values()) if d else None
def fmt(x):
    return "-" if x is None else (f"{x:.3f}" if abs(x) < 10 else f"{x:.0f}")
print(f"{'measure':<38} {'direct':>8} {'s-proxy':>8} {'nginx':>8} {'s/n':>6} {'s/n per round':<24} spread")
for scn, key, label, _ in rows:
    d = recs.get((scn, key), {})
    dv, sv, nv = med(d.get("direct", {})), med(d.get("storage-proxy", {})), med(d.get("nginx", {}))
    per = []
    for rnd in sorted(d.get("storage-proxy", {})):
        s, n = d["storage-proxy"].get(rnd), d.get("nginx", {}).get(rnd)
        if s is not None and n:
            per.append(s / n)
    ratio = statistics.median(per) if per else None
    spread = (max(per) - min(per)) / ratio if per and ratio else None
    shown = " ".join(f"{x:.2f}" for x in per)
    if len(shown) > 24:
        shown = f"{len(per)} samples {min(per):.2f}-{max(per):.2f}"
    print(f"{label:<38} {fmt(dv):>8} {fmt(sv):>8} {fmt(nv):>8} {fmt(ratio):>6} "
          f"{shown:<24} {'-' if spread is None else f'{spread * 100:.0f} %'}")
print()
print("Medians over the rounds; s/n: storage-proxy / nginx, per round and its")
print("median; spread: (max - min) / median of the per-round ratios, the noise of")
print("this run.  Rates are each client's body bytes from its response's start")
print("to its last byte before the end, over the limit (1: exact).  direct is")
print("the backend nginx over plain HTTP, without a limit (in slow500: with")
print("the same 64 KiB/s limit, through the same relay).  slow500's CPU: in the")
print("16 s from the first device's arrival; its first byte: of each device's")
print("one download on a fresh connection (TCP, TLS and request round trips);")
print("its rate is of that whole 640 KiB download: nginx's first second of")
print("allowance gives it 1.05-1.11, storage-proxy's wait before its first body")
print("bytes about 0.95, the same without the relay.")
PY
