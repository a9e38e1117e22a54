#!/bin/bash
# Rate limits, side by side: storage-proxy's --download-speed,
# --max-connections, --global-speed and --client-speed against nginx
# configured as the update server's storage proxy with limit_rate and
# limit_conn, both in front of the same backend (a separate nginx serving
# static files, so that the proxy nginx's CPU figures are its own), in one
# run.  Scenarios:
#   1  20 concurrent GETs at 1m, each read for 10 s (ratewatch.py)
#   2  1,000 concurrent GETs at 64k of a 1280 KiB object (curl -Z), about
#      20 s each; CPU in a 10 s window while all 1,000 are streaming, and
#      in total (with the 1,000 TLS handshakes); 2 interleaved rounds
#   3  storage-proxy only: --global-speed 10m, 10 GETs, 5 stop after 5 s
#   4  storage-proxy only: --client-speed 2m, 4 GETs from one address
# Prints one row per scenario and proxy (2: per round), then scenario 2's
# CPU figures per round; see the legends.
# Loopback only; leaves nothing running; takes about 2.5 minutes.
# Usage: contrib/bench/limits.sh [SCENARIO...]   (default: 1 2 3 4; needs
# nginx, curl, openssl, /usr/bin/python3; run from a built source tree)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
proxy=${STORAGE_PROXY:-$top/src/storage-proxy}
py=/usr/bin/python3
rw="$top/contrib/bench/ratewatch.py"
scenarios=${*:-1 2 3 4}
[ -x "$proxy" ] || { echo "build first: $proxy not found" >&2; exit 1; }
for t in nginx curl openssl $py; do
	command -v "$t" >/dev/null || { echo "$t not installed" >&2; exit 1; }
done
sp_ok=1
"$proxy" --help 2>&1 | grep -q -- --download-speed || {
	sp_ok=0
	echo "note: $proxy has no --download-speed yet; measuring nginx only" >&2
}
. "$top/contrib/bench/common.sh"
# The backend listens on b_port for storage-proxy and on nb_port for the
# proxy nginx, so that each proxy's connections to it can be counted.
b_port=$(port); nb_port=$(port); n1_port=$(port); n2_port=$(port)

mkdir -p "$d/www"
chmod 755 "$d" "$d/www"   # nginx workers run unprivileged
head -c $((32 * 1024 * 1024)) /dev/urandom >"$d/www/obj32m.bin"
head -c $((1280 * 1024)) /dev/urandom >"$d/www/obj1280k.bin"
chmod 644 "$d"/www/*

# The backend: static files, in an nginx of its own.
backend_conf "  server { listen 127.0.0.1:$b_port; listen 127.0.0.1:$nb_port; root $d/www; }"
# The deployment's proxy (TLS on the proxy port, HTTP/1.1 upstream with
# keep-alive, no request buffering, no temp files, Host passed through)
# with its limits: limit_rate \$DOWNLOAD_SPEED on GET and limit_conn per
# client address.  One server per rate.  limit_conn 300 is above the 250
# connections per address of scenario 2, so it is accounted, not hit.
# worker_connections: the deployment has 1024.  Each proxied download
# takes two of a worker's connections (client and upstream), so 1,000 of
# them over 2 workers hit that limit: nginx logs "1024 worker_connections
# are not enough, reusing connections" (at warn) and closes about 5% of the
# downloads before their response (42 of 1,000 here, curl: "Empty reply
# from server").  Hence 4096, for scenario 2.  (server_block: common.sh.)
cat >"$d/nginx-proxy.conf" <<CONF
worker_processes 2;
worker_rlimit_nofile $nofile;
pid $d/nginx-proxy.pid;
error_log $d/nginx-proxy-error.log warn;   # warn: "worker_connections are not enough"
events { worker_connections 4096; }
http {
  access_log off;
  limit_conn_zone \$binary_remote_addr zone=perip:10m;
  map \$request_method \$speed_1m { GET 1m; default 0; }
  map \$request_method \$speed_64k { GET 64k; default 0; }
  upstream backend { server 127.0.0.1:$nb_port; keepalive 32; }
$(server_block "$n1_port" speed_1m 300)
$(server_block "$n2_port" speed_64k 300)
}
CONF
nginx -c "$d/nginx-backend.conf" -p "$d"
nginx -c "$d/nginx-proxy.conf" -p "$d"
wait_port "$n2_port" "$(cat "$d/nginx-proxy.pid")"
nworkers=$(pgrep -P "$(cat "$d/nginx-proxy.pid")" | tr '\n' ' ')
# Warm the page cache.
curl -sS -o /dev/null "http://127.0.0.1:$b_port/obj32m.bin"
curl -sS -o /dev/null "http://127.0.0.1:$b_port/obj1280k.bin"

sample_rss() {	# OUT PID...: peak of the summed VmRSS (KiB), every 0.2 s
	local out=$1 peak=0 cur f=()
	shift
	for p in "$@"; do f+=("/proc/$p/status"); done
	while cur=$(awk '/^VmRSS:/ {s += $2} END {print s + 0}' "${f[@]}" 2>/dev/null); do
		if [ "$cur" -gt "$peak" ]; then peak=$cur; echo "$peak" >"$out"; fi
		sleep 0.2
	done
}
measure_begin() {	# PID...
	mpids="$*"
	c0=$(cpu_ticks $mpids)
	echo 0 >"$d/rss"
	sample_rss "$d/rss" $mpids &
	spid=$!
	pids="$pids $spid"
}
measure_end() {	# sets cpu_s and rss_mib
	local c1
	c1=$(cpu_ticks $mpids)
	kill "$spid"; wait "$spid" 2>/dev/null || true
	cpu_s=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz}')
	rss_mib=$(awk '{printf "%.0f", $1 / 1024}' "$d/rss")
}
run_bg() {	# OUT CMD...: run in the background (so signals end the script now)
	local out=$1 p
	shift
	"$@" >"$out" &
	p=$!
	pids="$pids $p"
	wait "$p"
}

# Figures from the clients' records; prints one table row.
cat >"$d/row.py" <<'PY'
import glob, json, statistics, sys
scn, name, kind, src, cpu, rss = sys.argv[1:7]
M = 1024 * 1024
def fmt(x):
    return "-" if x is None else f"{x:.3f}"
def row(n, rates, win=None, total=None, errs=0):
    mn = md = mx = None
    if rates:
        mn, md, mx = min(rates), statistics.median(rates), max(rates)
    print(f"{scn:<28} {name:<13} {n:>5} {fmt(mn):>6} {fmt(md):>6} {fmt(mx):>6}"
          f" {fmt(win):>6} {fmt(total):>6} {errs:>5} {cpu:>6} {rss:>6}")
def steady(c, a, b):	# B/s from the per-second bins [a, b)
    bins = c.get("bins", []) + [0] * b
    return sum(bins[a:b]) / (b - a)
if kind == "s2":		# curl -w, see s2(); more arguments: see there
    cpu_total, ws, we, rnd, block = sys.argv[7:12]
    ws, we = float(ws), float(we)
    L = 64 * 1024
    recs = [l.split() for f in glob.glob(src + "*.out") for l in open(f)]
    # code speed_download exitcode appconnect starttransfer total size_download size_header
    ok = [[float(x) for x in r[1:]] for r in recs
          if len(r) == 8 and r[0] == "200" and r[2] == "0" and r[6] == str(1280 * 1024)]
    # main figure: response bytes (headers and body) / (first byte to last byte)
    rates = [(r[5] + r[6]) / (r[4] - r[3]) / L for r in ok if r[4] > r[3]]
    row(1000, rates, errs=1000 - len(ok))
    sd = sorted(r[0] / L for r in ok)
    # streaming through the whole window: first byte before it, last byte after
    held = sum(1 for r in ok if r[3] <= ws and r[4] >= we)
    q = (f"{fmt(sd[0])} {fmt(statistics.median(sd))} {fmt(sd[-1])}" if sd else "- - -")
    with open(block, "a") as b:
        print(f"{rnd:<5} {name:<13} {cpu:>7} {cpu_total:>9} {rss:>7} {ws:5.2f}-{we:5.2f}"
              f" {held:>4}/1000   {q}", file=b)
    if ok:
        med = lambda k: statistics.median(r[k] for r in ok)
        print(f"scenario 2, round {rnd}, {name}: medians: TLS done {med(2):.2f} s,"
              f" first byte {med(3):.2f} s (max {max(r[3] for r in ok):.2f} s),"
              f" last byte {med(4):.2f} s (min {min(r[4] for r in ok):.2f} s);"
              f" rate/limit below 0.95: {sum(x < 0.95 for x in rates)},"
              f" above 1.05: {sum(x > 1.05 for x in rates)}", file=sys.stderr)
    sys.exit()
j = json.load(open(src))
cs = j["connections"]
errs = j["errors"]
if kind == "s1":		# per GET, 1m: averages over the run
    row(j["n"], [c["rate"] / M for c in cs if c.get("rate")],
        max(c.get("max_window", 0) for c in cs) / M, errs=errs)
elif kind == "s3a":		# global 10m, 10 GETs, [1 s, 5 s)
    row(10, [steady(c, 1, 5) / M for c in cs], j["all"]["max_window"] / (10 * M),
        sum(steady(c, 1, 5) for c in cs) / (10 * M), errs)
elif kind == "s3b":		# the 5 left, [6 s, 10 s)
    left = [c for c in cs if c["id"] < 5]
    row(5, [steady(c, 6, 10) / (2 * M) for c in left], None,
        sum(steady(c, 6, 10) for c in left) / (10 * M), errs)
elif kind == "s4":		# client 2m, 4 GETs, [1 s, 10 s)
    row(4, [steady(c, 1, 10) / (M / 2) for c in cs], j["all"]["max_window"] / (2 * M),
        sum(steady(c, 1, 10) for c in cs) / (2 * M), errs)
PY
row() { $py "$d/row.py" "$@" "${cpu_s:--}" "${rss_mib:--}" >>"$d/table" 2>>"$d/notes"; }
none() { printf '%-28s %-13s %s\n' "$1" "$2" "$3" >>"$d/table"; }

# Scenario 1: 20 GETs at 1 MiB/s, each read for 10 s of a 32 MiB object.
s1() {	# PORT NAME PID...
	local port=$1 name=$2
	shift 2
	measure_begin "$@"
	run_bg "$d/s1-$name.json" $py "$rw" "https://127.0.0.1:$port/obj32m.bin" -n 20 \
		--cafile "$d/cert.crt" --duration 10 --skip 1 --no-bins
	measure_end
	row "1 GET 1m, 20 x 10 s" "$name" s1 "$d/s1-$name.json"
}
# Scenario 2: 1,000 GETs of 1280 KiB at 64 KiB/s (about 20 s each), from
# 4 curl processes with 250 transfers each, each from an address of its
# own.  The CPU window (cpu_10s) starts 0.5 s after the backend serves all
# 1,000 downloads on the proxy's backend port: every TLS handshake and
# request is then behind, and the response heads have reached the clients
# (checked afterwards against curl's times; at 8 s after the launch at the
# latest), and lasts 10 s, well before the first download ends.
now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
upstreams() { ss -Htn state established "( sport = :$1 )" | wc -l; }	# BACKEND_PORT
s2() {	# ROUND PORT BACKEND_PORT NAME PID...; sets cpu10 and cpu_s (total)
	local rnd=$1 port=$2 bport=$3 name=$4 k t0 ta tb ca cb n c=()
	shift 4
	for _ in $(seq 250); do
		printf 'url = "https://127.0.0.1:%s/obj1280k.bin"\noutput = "/dev/null"\n' "$port"
	done >"$d/s2.cfg"
	rm -f "$d"/s2-"$rnd-$name"-*
	measure_begin "$@"
	t0=$(now_us)
	for k in 0 1 2 3; do
		curl -Z --parallel-immediate --parallel-max 250 --no-progress-meter \
			--cacert "$d/cert.crt" --interface "127.0.0.$((11 + k))" \
			-w '%{http_code} %{speed_download} %{exitcode} %{time_appconnect} %{time_starttransfer} %{time_total} %{size_download} %{size_header}\n' \
			-K "$d/s2.cfg" >"$d/s2-$rnd-$name-$k.out" 2>"$d/s2-$rnd-$name-$k.err" &
		c+=($!)
		pids="$pids $!"
	done
	while n=$(upstreams "$bport"); [ "$n" -lt 1000 ] && [ $(($(now_us) - t0)) -lt 8000000 ]; do
		nap 0.1
	done
	[ "$n" -ge 1000 ] || echo "scenario 2, round $rnd, $name: only $n of 1,000 downloads at the backend 8 s after the launch; CPU window from then on" >>"$d/notes"
	nap 0.5
	ta=$(now_us); ca=$(cpu_ticks $mpids)
	nap 10
	cb=$(cpu_ticks $mpids); tb=$(now_us)
	wait "${c[@]}" || true
	measure_end
	# CPU seconds per 10 s of the window (it lasts 10 s and a few ms)
	cpu10=$(awk -v a="$ca" -v b="$cb" -v t="$((tb - ta))" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz * 1e7 / t}')
	$py "$d/row.py" "2 GET 64k, 1000x1280 KiB r$rnd" "$name" s2 "$d/s2-$rnd-$name-" "$cpu10" "$rss_mib" \
		"$cpu_s" "$(awk -v t="$((ta - t0))" 'BEGIN {print t / 1e6}')" \
		"$(awk -v t="$((tb - t0))" 'BEGIN {print t / 1e6}')" "$rnd" "$d/s2block" >>"$d/table" 2>>"$d/notes"
	k=$(cat "$d"/s2-"$rnd-$name"-*.err | grep -c . || true)
	[ "$k" = 0 ] || echo "scenario 2, round $rnd, $name: curl reported $k errors, e.g. $(head -c 200 "$d"/s2-"$rnd-$name"-*.err | grep -m1 curl)" >>"$d/notes"
}

: >"$d/table"
: >"$d/notes"
: >"$d/s2block"
: >"$d/s2ratio"
for s in $scenarios; do
	case $s in
	1)	if [ $sp_ok = 1 ]; then
			start_proxy --download-speed 1m --max-connections 300
			s1 "$s_port" storage-proxy "$sproxy"
			stop_proxy
		else none "1 GET 1m, 20 x 10 s" storage-proxy "(no rate options in this build)"; fi
		s1 "$n1_port" nginx $nworkers ;;
	2)	[ $sp_ok = 1 ] || none "2 GET 64k, 1000x1280 KiB" storage-proxy "(no rate options in this build)"
		# Interleaved rounds (ROUNDS, default 2), the order swapped
		# every round, so that the noise shows and order does not count.
		for r in $(seq "${ROUNDS:-2}"); do
			sp10=""
			if [ $((r % 2)) = 0 ]; then
				s2 $r "$n2_port" "$nb_port" nginx $nworkers
				ng10=$cpu10 ngtot=$cpu_s
			fi
			if [ $sp_ok = 1 ]; then
				start_proxy --download-speed 64k --max-connections 300
				s2 $r "$s_port" "$b_port" storage-proxy "$sproxy"
				stop_proxy
				sp10=$cpu10 sptot=$cpu_s
			fi
			if [ $((r % 2)) = 1 ]; then
				s2 $r "$n2_port" "$nb_port" nginx $nworkers
				ng10=$cpu10 ngtot=$cpu_s
			fi
			[ -z "$sp10" ] || awk -v r=$r -v a="$sp10" -v b="$ng10" -v c="$sptot" -v e="$ngtot" \
				'BEGIN {printf "round %s: storage-proxy / nginx: cpu_10s %s, cpu_total %s\n", r,
					(b > 0 ? sprintf("%.2f", a / b) : "-"), (e > 0 ? sprintf("%.2f", c / e) : "-")}' >>"$d/s2ratio"
		done
		[ -s "$d/s2ratio" ] && sort -t' ' -k7 -n "$d/s2ratio" | grep '^round' | awk '{v[NR] = $7 + 0} END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "median over %d rounds: storage-proxy / nginx: cpu_10s %.2f\n", NR, m}' >>"$d/s2ratio"
		k=$(grep -c 'worker_connections are not enough' "$d/nginx-proxy-error.log" || true)
		[ "$k" = 0 ] || echo "scenario 2, nginx: $k times 'worker_connections are not enough'" >>"$d/notes" ;;
	3)	if [ $sp_ok = 1 ]; then
			start_proxy --global-speed 10m
			measure_begin "$sproxy"
			run_bg "$d/s3.json" $py "$rw" "https://127.0.0.1:$s_port/obj32m.bin" -n 10 \
				--cafile "$d/cert.crt" --duration 10 --stop 5-9@5 --skip 1
			measure_end
			stop_proxy
			row "3 global 10m, 10 GETs 1-5 s" storage-proxy s3a "$d/s3.json"
			cpu_s=- rss_mib=-
			row "3 global 10m, 5 GETs 6-10 s" storage-proxy s3b "$d/s3.json"
		else none "3 global 10m" storage-proxy "(no rate options in this build)"; fi
		none "3 global 10m" nginx "(nginx has no global rate)" ;;
	4)	if [ $sp_ok = 1 ]; then
			start_proxy --client-speed 2m
			measure_begin "$sproxy"
			run_bg "$d/s4.json" $py "$rw" "https://127.0.0.1:$s_port/obj32m.bin" -n 4 \
				--cafile "$d/cert.crt" --duration 10 --skip 1 --source 127.0.0.21
			measure_end
			stop_proxy
			row "4 client 2m, 4 GETs 1-10 s" storage-proxy s4 "$d/s4.json"
		else none "4 client 2m" storage-proxy "(no rate options in this build)"; fi
		none "4 client 2m" nginx "(not compared: nginx has no per-address rate)" ;;
	*)	echo "unknown scenario $s" >&2; exit 2 ;;
	esac
	cpu_s=- rss_mib=-
done

printf '%-28s %-13s %5s %6s %6s %6s %6s %6s %5s %6s %6s\n' scenario proxy \
	GETs min median max max1s sum errs cpu_s rss_MiB
cat "$d/table"
cat <<'EOF'

min/median/max: each GET's rate as a ratio of its limit (1: exact).
  1: bytes / (request sent to last byte) over 10 s, limit 1 MiB/s;
  2: response bytes (head and body) / (its first byte to its last byte),
     from curl's -w: (size_header + size_download) / (time_total -
     time_starttransfer), limit 64 KiB/s (failed transfers excluded);
  3: rate from the per-second bins in the phase, limit = fair share
     (1 MiB/s of 10 MiB/s, then 2 MiB/s for the 5 left);
  4: rate in 1-10 s, fair share 0.5 MiB/s of the 2 MiB/s.
max1s: the most bytes any GET (3, 4: all GETs together) received in a
  sliding 1-second window starting 1 s or more after its first byte, as a
  ratio of the limit.  sum: all GETs together in the phase / shared limit.
errs: GETs without a 200 and a complete, error-free transfer.
cpu_s: CPU seconds (user + system) of the proxy process, or of the nginx
  proxy's workers (not the backend nginx), during the scenario (1, 3, 4:
  about 10 s); 2: cpu_10s, below.  rss_MiB: peak VmRSS during the
  scenario (nginx: its workers summed), sampled every 0.2 s.
EOF
if [ -s "$d/s2block" ]; then
	echo
	echo "Scenario 2, per round: 1,000 GETs of 1280 KiB at 64 KiB/s"
	printf '%-5s %-13s %7s %9s %7s %11s %9s   %s\n' round proxy cpu_10s cpu_total rss_MiB \
		window_s streaming "speed_download: min median max"
	cat "$d/s2block"
	cat "$d/s2ratio"
	cat <<'EOF'
cpu_10s: CPU seconds (as cpu_s) in a window of 10 s (scaled to exactly
  10 s) while the 1,000 downloads stream; window_s: its start and end, in
  s after the clients' launch (0.5 s after the backend serves all 1,000
  downloads).  streaming: downloads whose first byte came before the
  window and last byte after it (1000: the window saw nothing else).
cpu_total: from the clients' launch to the last one's exit: with the
  1,000 TLS handshakes (storage-proxy's GnuTLS, nginx's OpenSSL).
speed_download: curl's, body bytes / (transfer start to last byte), so
  with the connection and TLS set-up during the 1,000-handshake storm;
  as a ratio of 64 KiB/s.
EOF
fi
[ -s "$d/notes" ] && { echo; cat "$d/notes"; }
echo
echo "rerun: (cd $top && ${STORAGE_PROXY:+STORAGE_PROXY=$STORAGE_PROXY }contrib/bench/limits.sh $scenarios)"
