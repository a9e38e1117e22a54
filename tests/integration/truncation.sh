#!/bin/bash
# A backend that dies mid-body must never look like a complete download:
# every GET must end in a client-visible error (curl exit non-zero, e.g. 18,
# or an error status), never a clean 2xx with a short body.  Both a
# Content-Length body cut short and a chunked body cut mid-chunk.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
SIZE=1048576
for mode in short chunked; do
	start_py "fault-$mode" fault_server.py --mode "$mode" --size "$SIZE"
	MP=$(free_port)
	start_proxy --upstream "http://127.0.0.1:$PY_PORT" --metrics-listen "127.0.0.1:$MP"
	errs=0 statuses=0
	for i in $(seq 20); do
		rc=0
		code=$(curl -sS --max-time 30 --cacert "$CERT" -o "$T/out" \
			-w '%{http_code}' "$PROXY_URL/b/k$i" 2>>"$T/curl.err") || rc=$?
		got=$(stat -c %s "$T/out" 2>/dev/null || echo 0)
		if [ "$rc" -ne 0 ]; then
			errs=$((errs + 1))
		elif [ "$code" -ge 500 ]; then
			statuses=$((statuses + 1))
		else
			fail "$mode #$i: clean $code with $got of $SIZE bytes"
		fi
	done
	ok "$mode: 20 truncated GETs, $errs curl errors ($(sort -u "$T/curl.err" |
		sed 's/ with .*//' | head -n 1)), $statuses 5xx answers, 0 clean"
	# Each is a backend error in the metrics, as truncated (or reset when
	# the connection dies before the body).
	n=$(curl -sS "http://127.0.0.1:$MP/metrics" | awk '
		/^storage_proxy_backend_errors_total\{kind="(truncated|reset)"\}/ { s += $2 }
		END { print s + 0 }')
	[ "$n" = 20 ] || fail "$mode: $n backend errors truncated or reset counted, not 20"
	ok "$mode: 20 backend errors counted ($(curl -sS "http://127.0.0.1:$MP/metrics" |
		grep -E '^storage_proxy_backend_errors_total.* [1-9]' | tr '\n' ' '))"
	proxy_alive
	kill "$PROXY_PID"
	: >"$T/curl.err"
done
