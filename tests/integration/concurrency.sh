#!/bin/bash
# 200 simultaneous downloads through one proxy all complete intact.
. "$(dirname "$0")/lib.sh"

N=200
SIZE=$((4 * 1024 * 1024))
make_cert "$T/cert"
start_py serve fault_server.py --mode serve --size "$SIZE"
start_proxy --upstream "http://127.0.0.1:$PY_PORT"
args=()
for i in $(seq "$N"); do args+=("$PROXY_URL/b/k$i" -o /dev/null); done
curl -sS -Z --parallel-immediate --parallel-max "$N" --no-progress-meter \
	--max-time 120 --cacert "$CERT" -w '%{http_code} %{size_download}\n' \
	"${args[@]}" >"$T/results" 2>"$T/curl.err" || true
good=$(grep -cx "200 $SIZE" "$T/results" || true)
[ "$good" = "$N" ] || fail "$good of $N parallel downloads complete: $(sort "$T/results" | uniq -c | head) $(head -n 3 "$T/curl.err")"
ok "$N parallel 4 MiB downloads, all 200 with every byte"
proxy_alive
