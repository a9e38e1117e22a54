#!/bin/bash
# An HTTPS backend with a private CA (AWS or another S3 store behind the
# proxy): --upstream-ca as a file or as PEM text makes it trusted; without
# it the proxy must refuse the backend (502), not skip verification, unless
# told to with --upstream-verify off.
. "$(dirname "$0")/lib.sh"

make_cert "$T/backend"            # the backend's own self-signed cert
BCERT=$CERT BKEY=$KEY
make_cert "$T/cert"               # the proxy's
command -v s3rver >/dev/null || fail "s3rver not installed (npm install -g s3rver@3.7.1)"
BPORT=$(free_port)
mkdir -p "$T/s3data"
spawn s3rver s3rver -d "$T/s3data" -a 127.0.0.1 -p "$BPORT" --silent \
	--no-vhost-buckets --cert "$BCERT" --key "$BKEY"
wait_port "$BPORT" "$SPAWNED" s3rver
UP=https://localhost:$BPORT
CURL="curl -sS --max-time 30 --cacert $CERT"

for how in file pem; do
	if [ "$how" = file ]; then ca=$BCERT; else ca=$(cat "$BCERT"); fi
	start_proxy --upstream "$UP" --upstream-ca "$ca"
	code=$($CURL -X PUT -o "$T/out" -w '%{http_code}' "$PROXY_URL/tls-$how") ||
		fail "CA as $how: curl failed"
	[ "$code" = 200 ] || fail "CA as $how: create bucket gave $code: $(head -c 300 "$T/out")"
	ok "--upstream-ca as $how: PUT to the HTTPS backend gives 200"
	kill "$PROXY_PID"
done

start_proxy --upstream "$UP"
code=$($CURL -o "$T/out" -w '%{http_code}' "$PROXY_URL/tls-file") || fail "curl failed"
[ "$code" = 502 ] || fail "untrusted backend certificate gave $code, want 502"
ok "without --upstream-ca the untrusted backend gives 502"
kill "$PROXY_PID"

start_proxy --upstream "$UP" --upstream-verify off
code=$($CURL -o "$T/out" -w '%{http_code}' "$PROXY_URL/tls-file") || fail "curl failed"
[ "$code" = 200 ] || fail "--upstream-verify off: got $code, want 200"
ok "--upstream-verify off accepts the untrusted backend"
