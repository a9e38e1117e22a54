# shellcheck shell=bash
# Shared by limits.sh and compare.sh (sourced): scratch directory, clean-up
# of everything started, ports, the certificate, nginx as the deployment's
# proxy, storage-proxy start/stop and CPU ticks.  The caller sets `proxy`
# and `py` first; it appends the PIDs it starts to `pids` and sets
# `b_port` (the backend) before start_proxy.

# 1,000 client connections: a proxy holds 2 descriptors per download, the
# backend 1, a client 1.
nofile=8192
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $nofile ] || ulimit -n $nofile ||
	{ echo "need ulimit -n >= $nofile" >&2; exit 1; }

d=$(mktemp -d -t "sp-$(basename "$0" .sh).XXXXXX")
pids=""
# Kills what was started, nginx masters and their workers included, gives
# everything up to 3 s to exit, then SIGKILL; removes the scratch dir.
cleanup() {
	trap - EXIT INT TERM
	local p n left=""
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for n in backend proxy; do
		[ -f "$d/nginx-$n.pid" ] || continue
		p=$(cat "$d/nginx-$n.pid")
		left="$left $p $(pgrep -P "$p" | tr '\n' ' ')"
		kill "$p" 2>/dev/null || true
	done
	for _ in $(seq 30); do
		n=0
		for p in $pids $left; do kill -0 "$p" 2>/dev/null && n=1; done
		[ $n = 0 ] && break
		sleep 0.1
	done
	for p in $pids $left; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {	# PORT PID: until PORT accepts, while PID lives
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
nap() { sleep "$1" & wait $!; }		# sleep, but let signals end the script now

# $d/cert.crt and $d/key.pem for s3.docker.mender.io, localhost, 127.0.0.1:
# RSA 2048 as the update server's installation docs make it, or with
# CERT_KEY=ecdsa a P-256 key (one signature costs GnuTLS about a tenth of
# an RSA one; both proxies get the same certificate).
case ${CERT_KEY:-rsa} in
ecdsa) newkey="ec -pkeyopt ec_paramgen_curve:P-256" ;;
*) newkey=rsa:2048 ;;
esac
# shellcheck disable=SC2086 # $newkey is two words for ecdsa
openssl req -x509 -newkey $newkey -nodes -days 30 -subj /CN=s3.docker.mender.io \
	-addext subjectAltName=DNS:s3.docker.mender.io,DNS:localhost,IP:127.0.0.1 \
	-keyout "$d/key.pem" -out "$d/cert.crt" 2>/dev/null

# $d/nginx-backend.conf: the backend, an nginx of its own serving static
# files from $d/www; SERVERS: its http block's server lines.
backend_conf() {	# SERVERS
	cat >"$d/nginx-backend.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile $nofile;
pid $d/nginx-backend.pid;
error_log $d/nginx-backend-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
$1
}
CONF
}

# $d/nginx-proxy.conf: nginx as the deployment's proxy, 2 workers, a
# per-address connection zone (perip) for limit_conn; HTTP: its http
# block's maps, upstreams and servers (server_block).
proxy_conf() {	# HTTP
	cat >"$d/nginx-proxy.conf" <<CONF
worker_processes 2;
worker_rlimit_nofile $nofile;
pid $d/nginx-proxy.pid;
error_log $d/nginx-proxy-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  limit_conn_zone \$binary_remote_addr zone=perip:10m;
$1
}
CONF
}

# One server of the deployment's proxy: TLS on PORT, HTTP/1.1 upstream with
# keep-alive, no request buffering, no temp files, Host passed through,
# limit_rate from RATE_VARIABLE and limit_conn per client address (zone
# perip).  UPSTREAM: an nginx upstream name (default backend).
server_block() {	# PORT RATE_VARIABLE LIMIT_CONN [UPSTREAM]
	cat <<CONF
  server {
    listen 127.0.0.1:$1 ssl;
    ssl_certificate $d/cert.crt;
    ssl_certificate_key $d/key.pem;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_max_temp_file_size 0;
    limit_conn perip $3;
    location / {
      limit_rate \$$2;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_pass http://${4:-backend};
    }
  }
CONF
}

# storage-proxy with these options on a fresh port (s_port, sproxy), in
# front of $upstream (default: the backend on b_port).
sproxy=""
start_proxy() {
	s_port=$(port)
	"$proxy" --port "$s_port" --bind 127.0.0.1 --cert "$d/cert.crt" --key "$d/key.pem" \
		--upstream "${upstream:-http://127.0.0.1:$b_port}" --access-log off \
		--shutdown-timeout 1s "$@" 2>>"$d/proxy.log" &
	sproxy=$!
	pids="$pids $sproxy"
	wait_port "$s_port" "$sproxy" || {
		echo "storage-proxy $* did not start:" >&2; cat "$d/proxy.log" >&2; exit 1; }
}
stop_proxy() { kill "$sproxy"; wait "$sproxy" 2>/dev/null || true; }

hz=$(getconf CLK_TCK)
cpu_ticks() { for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat"; done | awk '{s += $1} END {print s + 0}'; }
