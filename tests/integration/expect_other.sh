#!/bin/bash
# An Expect other than 100-continue ("200-ok", or empty) is the backend's to
# answer: s3rver (node) refuses both with 417, directly and through the
# proxy alike; the proxy neither answers nor drops it.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
curl -sS -o /dev/null -X PUT -H "Host: $S3_HOST" "http://$S3RVER_ADDR/bkt" ||
	fail "cannot create the bucket"
printf 'hello\n' >"$T/body"
for expect in "Expect: 200-ok" "Expect;"; do
	direct=$(curl -sS --max-time 10 -H "$expect" -H "Host: $S3_HOST" \
		-T "$T/body" -o /dev/null -w '%{http_code}' \
		"http://$S3RVER_ADDR/bkt/k") || fail "direct: curl failed"
	proxied=$(curl -sS --cacert "$CERT" --max-time 10 -H "$expect" \
		-H "Host: $S3_HOST" -T "$T/body" -o /dev/null \
		-w '%{http_code}' "$PROXY_URL/bkt/k") || fail "proxy: curl failed"
	[ "$direct" = 417 ] || fail "'$expect': s3rver itself answered $direct"
	[ "$proxied" = "$direct" ] ||
		fail "'$expect': $proxied through the proxy, $direct directly"
	ok "'$expect': $proxied through the proxy as directly"
done
