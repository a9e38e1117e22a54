#!/bin/bash
# "Expect: 100-continue" to a backend that never sends 100 but reads the
# body: the client gets its 100 when libcurl stops waiting for the
# backend's (after about a second, as curl's own client does), and the
# body arrives intact.  The wait has an end without the backend.
. "$(dirname "$0")/lib.sh"
. "$HERE/hostile_lib.sh"

make_cert "$T/cert"
start_hostile_backend
start_proxy --upstream "http://127.0.0.1:$BACKEND_PORT"
random_file "$T/body" 3
out=$(curl -sS -v --cacert "$CERT" --max-time 20 -H 'Expect: 100-continue' \
	--expect100-timeout 30 -T "$T/body" -o "$T/out" \
	-w '%{http_code} %{time_total}' "$PROXY_URL/quiet/k" 2>"$T/curl.err") ||
	fail "PUT failed: $(tail -3 "$T/curl.err")"
read -r code secs <<<"$out"
[ "$code" = 200 ] || fail "status $code"
grep -q '< HTTP/1.1 100 Continue' "$T/curl.err" || fail "no 100 Continue"
$PY -c "import sys; sys.exit(not 0.5 <= float('$secs') < 10)" ||
	fail "answered after $secs s"
ok "100 Continue without the backend's, answer 200 after $secs s"
want="PUT /quiet/k body=3145728 sha256=$(sha "$T/body")"
grep -q "$want" "$BACKEND_DIR/requests.log" ||
	fail "backend got: $(cat "$BACKEND_DIR/requests.log")"
ok "the 3 MiB body reached the backend intact"
