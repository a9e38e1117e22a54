#!/bin/bash
# Bodies stream with back-pressure (proxy_request_buffering off,
# proxy_max_temp_file_size 0 in the old container): a 512 MiB download to
# a client that stops reading, and a 512 MiB upload to a backend that
# stops reading, must not grow the proxy's memory by the body size.
. "$(dirname "$0")/lib.sh"

SIZE=$((512 * 1024 * 1024))
LIMIT_KB=$((128 * 1024)) # resident memory allowed, far below the body
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$PROXY_PID/status"; }
make_cert "$T/cert"

start_py serve fault_server.py --mode serve --size "$SIZE"
start_proxy --upstream "http://127.0.0.1:$PY_PORT"
base=$(rss_kb)
# The reader sleeps 4 s before draining: the backend is fast meanwhile.
{ curl -sS --cacert "$CERT" "$PROXY_URL/b/big" || echo "curl failed" >"$T/dl.err"; } |
	{ sleep 4; wc -c >"$T/dl.count"; } &
DL=$!
sleep 3
during=$(rss_kb)
wait "$DL"
[ ! -e "$T/dl.err" ] || fail "download failed"
[ "$(cat "$T/dl.count")" = "$SIZE" ] || fail "download got $(cat "$T/dl.count") of $SIZE bytes"
[ "$during" -lt "$LIMIT_KB" ] ||
	fail "proxy RSS ${during} KiB while a client stalled on a 512 MiB download (was $base KiB)"
ok "512 MiB download to a stalled client: proxy RSS $base -> $during KiB, body complete"
kill "$PROXY_PID"

start_py slow fault_server.py --mode echo --delay 4
start_proxy --upstream "http://127.0.0.1:$PY_PORT"
base=$(rss_kb)
head -c "$SIZE" /dev/zero | curl -sS --cacert "$CERT" -T - -o "$T/echo.json" \
	"$PROXY_URL/b/up" &
UP=$!
sleep 3
during=$(rss_kb)
wait "$UP" || fail "upload failed"
grep -q "\"body_len\": $SIZE," "$T/echo.json" || fail "backend did not get all $SIZE bytes: $(cat "$T/echo.json")"
[ "$during" -lt "$LIMIT_KB" ] ||
	fail "proxy RSS ${during} KiB while the backend stalled on a 512 MiB upload (was $base KiB)"
ok "512 MiB upload to a stalled backend: proxy RSS $base -> $during KiB, body complete"
