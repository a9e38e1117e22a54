#!/bin/bash
# Command line and environment: -h, -V, -t (config check) and the
# STORAGE_PROXY_* variables.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
"$STORAGE_PROXY" -h >"$T/help" 2>&1 || fail "-h exited non-zero"
grep -q -- --upstream "$T/help" || fail "-h does not list --upstream"
ok "-h lists the options"
"$STORAGE_PROXY" -V >"$T/ver" 2>&1 || fail "-V exited non-zero"
grep -q '[0-9]\.[0-9]' "$T/ver" || fail "-V prints no version: $(cat "$T/ver")"
ok "-V: $(head -n 1 "$T/ver")"

"$STORAGE_PROXY" -t --cert "$CERT" --key "$KEY" >"$T/t" 2>&1 ||
	fail "-t with a valid setup failed: $(cat "$T/t")"
ok "-t accepts a valid setup"
if "$STORAGE_PROXY" -t --cert "$T/missing.crt" --key "$KEY" >"$T/t" 2>&1; then
	fail "-t accepted a missing certificate"
fi
ok "-t refuses a missing certificate: $(head -n 1 "$T/t")"
if "$STORAGE_PROXY" -t --no-such-option >"$T/t" 2>&1; then
	fail "an unknown option was accepted"
fi
ok "an unknown option is refused"
rc=0
"$STORAGE_PROXY" -t --cert "$CERT" --key "$KEY" --stall-timeout banana >"$T/t" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--stall-timeout banana: exit $rc, want 2"
grep -q -- "stall-timeout" "$T/t" || fail "message does not name the option: $(cat "$T/t")"
ok "a bad duration is refused with exit 2, option named: $(head -n 1 "$T/t")"

# Environment variables stand in for options.
start_py echo fault_server.py --mode echo
PORT=$(free_port)
STORAGE_PROXY_PORT=$PORT STORAGE_PROXY_BIND=127.0.0.1 STORAGE_PROXY_TLS=off \
STORAGE_PROXY_UPSTREAM=http://127.0.0.1:$PY_PORT STORAGE_PROXY_HOST=from-env.example \
	"$STORAGE_PROXY" >"$T/proxy.log" 2>"$T/proxy-err.log" &
PIDS="$PIDS $!"
wait_port "$PORT" "$!" proxy
curl -sS -o "$T/echo.json" "http://127.0.0.1:$PORT/env/k" || fail "GET via env-configured proxy failed"
grep -q '"Host", "from-env.example"' "$T/echo.json" ||
	fail "STORAGE_PROXY_HOST not applied: $(cat "$T/echo.json")"
ok "STORAGE_PROXY_PORT/BIND/TLS/UPSTREAM/HOST configure the daemon"

# A config file (name = value lines) works too.
PORT2=$(free_port)
cat >"$T/sp.conf" <<CONF
# comment
port = $PORT2
bind = 127.0.0.1
tls = off
upstream = http://127.0.0.1:$PY_PORT
host = from-file.example
CONF
"$STORAGE_PROXY" -t -c "$T/sp.conf" >"$T/t" 2>&1 || fail "-t -c with a valid file failed: $(cat "$T/t")"
"$STORAGE_PROXY" -c "$T/sp.conf" >>"$T/proxy.log" 2>>"$T/proxy-err.log" &
PIDS="$PIDS $!"
wait_port "$PORT2" "$!" proxy
curl -sS -o "$T/echo.json" "http://127.0.0.1:$PORT2/file/k" || fail "GET via file-configured proxy failed"
grep -q '"Host", "from-file.example"' "$T/echo.json" ||
	fail "config file host not applied: $(cat "$T/echo.json")"
ok "-c FILE configures the daemon"
