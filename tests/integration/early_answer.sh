#!/bin/bash
# An upload the backend refuses before reading its body (a missing bucket,
# a bad presigned signature): the backend's 4xx reaches the client within
# a second, with or without "Expect: 100-continue", for PUT and POST, and
# the proxy holds no connection for it afterwards.  On 0.3.0 these hung
# until the client gave up.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
random_file "$T/body" 3

# put NAME EXPECT-HEADER METHOD URL-PATH WANT-STATUS
put() {
	local name=$1 expect=$2 method=$3 path=$4 want=$5 out
	out=$(curl -sS --cacert "$CERT" --max-time 20 -X "$method" \
		-H "$expect" -H "Host: $S3_HOST" -T "$T/body" -o "$T/$name.xml" \
		-w '%{http_code} %{time_total} %{size_upload}' \
		-D "$T/$name.hdr" "$PROXY_URL$path" 2>"$T/$name.err") ||
		fail "$name: curl failed: $(cat "$T/$name.err")"
	read -r code secs sent <<<"$out"
	[ "$code" = "$want" ] || fail "$name: status $code, want $want"
	$PY -c "import sys; sys.exit(0 if float('$secs') < 1.0 else 1)" ||
		fail "$name: answer after $secs s"
	grep -q '<Code>' "$T/$name.xml" || fail "$name: no S3 error body"
	# s3rver (node) sends 100 Continue at once and refuses mid-body:
	# the proxy reads and drops the rest.
	ok "$name: $code in $secs s, $sent body bytes sent"
}

put put-missing-expect "Expect: 100-continue" PUT /no-such-bucket/obj 404
put put-missing-noexpect "Expect:" PUT /no-such-bucket/obj 404
put post-missing-expect "Expect: 100-continue" POST /no-such-bucket/obj 404
put post-missing-noexpect "Expect:" POST /no-such-bucket/obj 404
# s3rver checks SigV2 query signatures for its own key.
curl -sS -o /dev/null -X PUT -H "Host: $S3_HOST" \
	"http://$S3RVER_ADDR/bkt" || fail "cannot create the bucket"
exp=$(($(date +%s) + 600))
bad="/bkt/obj?AWSAccessKeyId=S3RVER&Expires=$exp&Signature=AAAAbad%3D"
put presigned-expect "Expect: 100-continue" PUT "$bad" 403
put presigned-noexpect "Expect:" PUT "$bad" 403

# Nothing is left behind: no client and no backend connection (only the
# listening socket) a moment after the last answer.
sleep 1
no_connections_left "$S3RVER_PORT"
ok "no connection left: 0 client, 0 backend"

# The access log names the backend's answer for each.
n=$(grep -cE '" (403|404) [0-9]+ .* upstream=(403|404) ' "$T/proxy.log" || true)
[ "$n" -eq 6 ] || fail "access log: $n of 6 refusals logged: $(cat "$T/proxy.log")"
ok "six refusals in the access log"
