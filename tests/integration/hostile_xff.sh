#!/bin/bash
# X-Forwarded-For on two header lines is one list (RFC 9110 5.3): the
# client is its right-most untrusted entry across both lines, as nginx's
# real_ip_recursive finds it, whatever the first line says; the backend
# gets one X-Forwarded-For line with every entry and the peer appended.
# With max-connections 2 and the peer (127.0.0.1) trusted, five slow GETs
# whose second line names the same address get 2 x 200 and 3 x 503.
. "$(dirname "$0")/lib.sh"
. "$HERE/hostile_lib.sh"

make_cert "$T/cert"
start_hostile_backend
start_proxy --upstream "http://127.0.0.1:$BACKEND_PORT" \
	--trusted-proxies 127.0.0.1 --max-connections 2

run_table --timeout 3 <<'EOF'
# name          | statuses | close | code | backend | client | request
xff-two-lines   | 200 | any | - | requests=1;one=X-Forwarded-For:;line=X-Forwarded-For: 6.6.6.6, 10.0.0.9, 127.0.0.1 | - | GET /bkt/xff-two-lines HTTP/1.1\r\nHost: s3.test\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n
EOF

# batch NAME WANT TEMPLATE: five concurrent slow GETs (the backend's
# /resp/slow takes about 4 s), TEMPLATE's {i} replaced by 1..5; WANT the
# sorted statuses, then the number of requests the backend must see.
batch() {
	local name=$1 want=$2 want_reqs=$3 tmpl=$4 i pids="" off roff got reqs bytes
	off=$(backend_bytes)
	roff=$(wc -l <"$BACKEND_DIR/requests.log")
	for i in 1 2 3 4 5; do
		$PY "$HOSTILE" send --port "$PROXY_PORT" --timeout 8 --quiet 0.5 \
			"${tmpl//\{i\}/$i}" >"$T/$name.$i" 2>&1 </dev/null &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086 # the list of pids
	wait $pids || true
	sleep 0.3
	got=$(sed -n 's/^statuses=\([^ ]*\).*/\1/p' "$T/$name".[1-5] | sort | paste -sd, -)
	reqs=$(($(wc -l <"$BACKEND_DIR/requests.log") - roff))
	bytes=$(($(backend_bytes) - off))
	good=0
	[ "$got" = "$want" ] && [ "$reqs" = "$want_reqs" ] && good=1
	report "$name" "$good" "$got" "$want" \
		"backend got $bytes bytes ($reqs requests, want $want_reqs)"
}

# The first line varies, the second names the same client: 2 slots.
batch xff-same-second-line 200,200,503,503,503 2 \
	'GET /resp/slow HTTP/1.1\r\nHost: s3.test\r\nX-Forwarded-For: 6.6.6.{i}\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n'
# The first line is the same, the second varies: five clients, no 503.
batch xff-distinct-second-line 200,200,200,200,200 5 \
	'GET /resp/slow HTTP/1.1\r\nHost: s3.test\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 10.0.0.1{i}\r\n\r\n'
# Control: the same list on one line is read the same way.
batch xff-one-line 200,200,503,503,503 2 \
	'GET /resp/slow HTTP/1.1\r\nHost: s3.test\r\nX-Forwarded-For: 6.6.6.{i}, 10.0.0.9\r\n\r\n'

finish
