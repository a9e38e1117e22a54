#!/bin/bash
# Security headers are added only where the backend sent none of the same
# name: a backend's own X-Frame-Options: SAMEORIGIN reaches the client
# alone (0.4.0 and before sent DENY beside it), the other two are added.
. "$(dirname "$0")/lib.sh"
. "$HERE/hostile_lib.sh"

make_cert "$T/cert"
start_hostile_backend
start_proxy --upstream "http://127.0.0.1:$BACKEND_PORT"

curl -sS --cacert "$CERT" -D "$T/h" -o /dev/null "$PROXY_URL/resp/own-xfo" ||
	fail "GET /resp/own-xfo failed"
tr -d '\r' <"$T/h" >"$T/hdrs"
n=$(grep -ci '^x-frame-options:' "$T/hdrs" || true)
[ "$n" = 1 ] || fail "$n X-Frame-Options lines: $(cat "$T/hdrs")"
grep -qi '^x-frame-options: SAMEORIGIN$' "$T/hdrs" ||
	fail "the backend's X-Frame-Options was replaced: $(cat "$T/hdrs")"
ok "one X-Frame-Options, the backend's: $(grep -i '^x-frame-options' "$T/hdrs")"
for want in 'strict-transport-security: max-age=' 'x-content-type-options: nosniff'; do
	grep -qi "^$want" "$T/hdrs" || fail "response lacks '$want': $(cat "$T/hdrs")"
	ok "response has $(grep -i "^$want" "$T/hdrs")"
done
