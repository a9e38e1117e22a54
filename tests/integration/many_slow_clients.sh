#!/bin/bash
# 1,000 concurrent slow downloads: the proxy's thread count stays what it
# was at idle (no thread per request) and its resident memory stays under
# 150 MiB (buffers sized to what each client drains).
. "$(dirname "$0")/lib.sh"

N=1000
PER_CURL=250
LIMIT_KB=$((150 * 1024))
# AddressSanitizer's redzones and quarantine multiply heap use: a
# --enable-sanitizers build gets four times the bound (still checked).
if ldd "$STORAGE_PROXY" | grep -q libasan; then
	LIMIT_KB=$((4 * LIMIT_KB))
	log "AddressSanitizer build: RSS bound raised to $LIMIT_KB KiB"
fi
make_cert "$T/cert"
start_py serve fault_server.py --mode serve --size $((64 * 1024 * 1024))
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --access-log off
status() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$PROXY_PID/status"; }
threads_idle=$(status Threads)

args=()
for i in $(seq "$PER_CURL"); do args+=("$PROXY_URL/b/k$i" -o /dev/null); done
CURLS=""
for c in $(seq $((N / PER_CURL))); do
	curl -s --no-progress-meter -Z --parallel-immediate --parallel-max "$PER_CURL" \
		--limit-rate 20k --max-time 60 --cacert "$CERT" "${args[@]}" &
	CURLS="$CURLS $!"
	PIDS="$PIDS $!"
done
# Each proxied download holds two descriptors (client, backend).
i=0
while [ "$(ls "/proc/$PROXY_PID/fd" | wc -l)" -lt $((2 * N)) ]; do
	i=$((i + 1))
	[ "$i" -lt 300 ] || fail "only $(ls "/proc/$PROXY_PID/fd" | wc -l) descriptors open after 30 s"
	sleep 0.1
done
peak=0
for s in $(seq 10); do
	sleep 0.5
	rss=$(status VmRSS)
	[ "$rss" -gt "$peak" ] && peak=$rss
	[ "$(status Threads)" = "$threads_idle" ] ||
		fail "threads: $(status Threads) with $N downloads, $threads_idle at idle"
done
ok "$N slow downloads in flight: $threads_idle threads as at idle"
[ "$peak" -lt "$LIMIT_KB" ] || fail "RSS peaked at $peak KiB with $N slow downloads (limit $LIMIT_KB KiB)"
ok "$N slow downloads: peak RSS $peak KiB (< $LIMIT_KB KiB)"
kill $CURLS 2>/dev/null || true
proxy_alive
