#!/bin/bash
# The TLS variant of the old container added security headers to every
# response; clients and scanners of the deployment expect them.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
# Any answer will do, here s3rver's bucket listing.
curl -sS --cacert "$CERT" -D "$T/h" -o /dev/null "$PROXY_URL/" || fail "GET / failed"
tr -d '\r' <"$T/h" >"$T/hdrs"
for want in 'strict-transport-security: max-age=' 'x-frame-options: deny' \
	'x-content-type-options: nosniff'; do
	grep -qi "^$want" "$T/hdrs" || fail "response lacks '$want': $(cat "$T/hdrs")"
	ok "response has $(grep -i "^$want" "$T/hdrs")"
done
