#!/bin/bash
# SIGTERM while a download is in flight (a rolling update of the
# container): the download completes intact, then the proxy exits 0.
. "$(dirname "$0")/lib.sh"

SIZE=$((64 * 1024 * 1024))
make_cert "$T/cert"
start_py serve fault_server.py --mode serve --size "$SIZE"
start_proxy --upstream "http://127.0.0.1:$PY_PORT" --shutdown-timeout 20s
# About 4 s at 16 MiB/s, so the signal lands mid-transfer.
curl -sS --cacert "$CERT" --limit-rate 16M -o "$T/out" "$PROXY_URL/b/k" 2>"$T/curl.err" &
DL=$!
sleep 1
kill -TERM "$PROXY_PID"
rc=0
wait "$DL" || rc=$?
[ "$rc" = 0 ] || fail "download in flight failed after SIGTERM (curl exit $rc): $(cat "$T/curl.err")"
[ "$(stat -c %s "$T/out")" = "$SIZE" ] || fail "download in flight got $(stat -c %s "$T/out") of $SIZE bytes"
ok "download in flight at SIGTERM completed ($SIZE bytes)"
i=0
while kill -0 "$PROXY_PID" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "proxy still running 10 s after its last transfer"
	sleep 0.1
done
prc=0
wait "$PROXY_PID" || prc=$?
[ "$prc" = 0 ] || fail "proxy exited $prc after SIGTERM"
ok "proxy exited 0 once the transfer was done"
