#!/bin/bash
# Unthrottled HTTPS download throughput: storage-proxy against nginx
# configured as the update server's storage proxy, both in front of the
# same backend (nginx serving a static file), interleaved in one run.
# Prints MB/s (10^6 B/s) per run, the means, the ratio, and each proxy's
# CPU seconds per GiB.  Loopback only; leaves nothing running.
# Usage: contrib/bench/throughput.sh [RUNS] [SIZE_MIB]   (needs nginx, curl,
# openssl; run from a built source tree)
set -eu
runs=${1:-5}
size_mib=${2:-1024}
top=$(cd "$(dirname "$0")/../.." && pwd)
proxy=${STORAGE_PROXY:-$top/src/storage-proxy}
[ -x "$proxy" ] || { echo "build first: $proxy not found" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx not installed" >&2; exit 1; }
d=$(mktemp -d -t sp-bench.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	[ -f "$d/nginx.pid" ] && kill "$(cat "$d/nginx.pid")" 2>/dev/null || true
	sleep 0.3
	rm -rf "$d"
}
trap cleanup EXIT INT TERM
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
b_port=$(port); n_port=$(port); s_port=$(port)

mkdir -p "$d/www"
chmod 755 "$d" "$d/www"   # nginx workers run unprivileged
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$d/www/obj.bin"
chmod 644 "$d/www/obj.bin"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=s3.docker.mender.io \
	-addext subjectAltName=DNS:s3.docker.mender.io,DNS:localhost,IP:127.0.0.1 \
	-keyout "$d/key.pem" -out "$d/cert.crt" 2>/dev/null
# The deployment's proxy: TLS on the proxy port, HTTP/1.1 upstream with
# keep-alive, no request buffering, no temp files, Host passed through.
cat >"$d/nginx.conf" <<CONF
worker_processes 2;
pid $d/nginx.pid;
error_log $d/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  server { listen 127.0.0.1:$b_port; root $d/www; }
  upstream backend { server 127.0.0.1:$b_port; keepalive 32; }
  server {
    listen 127.0.0.1:$n_port ssl;
    ssl_certificate $d/cert.crt;
    ssl_certificate_key $d/key.pem;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_max_temp_file_size 0;
    location / {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_pass http://backend;
    }
  }
}
CONF
nginx -c "$d/nginx.conf" -p "$d"
"$proxy" --port "$s_port" --bind 127.0.0.1 --cert "$d/cert.crt" --key "$d/key.pem" \
	--upstream "http://127.0.0.1:$b_port" --access-log off 2>"$d/proxy.log" &
pids="$pids $!"
sproxy=$!
sleep 0.5
nworkers=$(pgrep -P "$(cat "$d/nginx.pid")" | tr '\n' ' ')
cpu() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s}'; }
get() { curl -sS --fail --cacert "$d/cert.crt" -o /dev/null -w '%{speed_download}' "https://127.0.0.1:$1/obj.bin"; }
# Warm the page cache and both proxies.
get "$b_port" >/dev/null 2>&1 || curl -sS -o /dev/null "http://127.0.0.1:$b_port/obj.bin"
get "$s_port" >/dev/null; get "$n_port" >/dev/null

s_sum=0; n_sum=0; s_cpu=0; n_cpu=0
printf '%-4s %16s %16s\n' run storage-proxy nginx
for i in $(seq "$runs"); do
	c0=$(cpu "$sproxy"); s=$(get "$s_port"); c1=$(cpu "$sproxy")
	s_cpu=$((s_cpu + c1 - c0))
	c0=$(cpu $nworkers); n=$(get "$n_port"); c1=$(cpu $nworkers)
	n_cpu=$((n_cpu + c1 - c0))
	printf '%-4s %11.0f MB/s %11.0f MB/s\n' "$i" "$(echo "$s / 1000000" | bc -l)" "$(echo "$n / 1000000" | bc -l)"
	s_sum=$(echo "$s_sum + $s" | bc -l); n_sum=$(echo "$n_sum + $n" | bc -l)
done
hz=$(getconf CLK_TCK)
gib=$(echo "$runs * $size_mib / 1024" | bc -l)
printf 'mean %11.0f MB/s %11.0f MB/s   ratio storage-proxy/nginx %.2f\n' \
	"$(echo "$s_sum / $runs / 1000000" | bc -l)" "$(echo "$n_sum / $runs / 1000000" | bc -l)" \
	"$(echo "$s_sum / $n_sum" | bc -l)"
printf 'CPU  %9.2f s/GiB %9.2f s/GiB\n' "$(echo "$s_cpu / $hz / $gib" | bc -l)" "$(echo "$n_cpu / $hz / $gib" | bc -l)"
