#!/bin/bash
# One access line per request on stdout, naming method, path and status;
# errors go to stderr, not into the access log.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"
CURL="curl -sS --cacert $CERT -o /dev/null"
$CURL "$PROXY_URL/logged/get-one" || fail "GET failed"
$CURL -X PUT --data-binary hello "$PROXY_URL/logged/put-two" || fail "PUT failed"
$CURL -I "$PROXY_URL/logged/head-three" || fail "HEAD failed"
sleep 0.5 # the line may be written after the response
for r in "GET /logged/get-one" "PUT /logged/put-two" "HEAD /logged/head-three"; do
	path=${r#* }
	n=$(grep -c -- "$path" "$T/proxy.log" || true)
	[ "$n" = 1 ] || fail "'$path': $n access lines on stdout, want 1: $(cat "$T/proxy.log")"
	line=$(grep -- "$path" "$T/proxy.log")
	case $line in *"${r% *}"*) ;; *) fail "access line lacks the method: $line" ;; esac
	case $line in *" 200"*) ;; *) fail "access line lacks status 200: $line" ;; esac
	ok "access line: $line"
done
if grep -q /logged/ "$T/proxy-err.log"; then fail "requests logged on stderr"; fi
ok "no access lines on stderr"

# A presigned URL in the log would be usable by whoever reads it: the
# signature and token values are masked, the rest of the query is kept.
$CURL "$PROXY_URL/logged/presigned?X-Amz-Credential=AK%2F1&X-Amz-Signature=5ec7e7c0de&X-Amz-Security-Token=70ken&x=1" ||
	fail "presigned-style GET failed"
sleep 0.5
line=$(grep -- "/logged/presigned" "$T/proxy.log") || fail "no access line for the presigned GET"
case $line in *5ec7e7c0de* | *70ken*) fail "secret in the access log: $line" ;; esac
case $line in *"X-Amz-Credential=AK%2F1&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED&x=1"*) ;;
*) fail "query not logged as expected: $line" ;; esac
ok "signature and token masked: $line"
