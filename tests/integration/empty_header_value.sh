#!/bin/bash
# Response headers with an empty value (x-amz-meta-empty:, an empty
# Content-Disposition:) reach the client as they do directly: present, with
# an empty value.  On the wire the proxy's line is "Name:  " (libmicrohttpd
# 0.9.75 refuses an empty value; white space around a value is not part of
# it, RFC 9110 5.5).  boto3 reads the same metadata both ways.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
printf 'hello\n' >"$T/body"
curl -sS -o /dev/null --data-binary '' -X PUT "http://$S3RVER_ADDR/emptyv" ||
	fail "bucket"
curl -sS -o /dev/null -T "$T/body" -H 'x-amz-meta-empty;' \
	-H 'x-amz-meta-full: yes' -H 'Content-Disposition;' \
	"http://$S3RVER_ADDR/emptyv/obj" || fail "put"
for how in GET HEAD; do
	args=(); [ "$how" = HEAD ] && args=(-I)
	curl -sS "${args[@]}" -D "$T/direct.h" -o /dev/null \
		"http://$S3RVER_ADDR/emptyv/obj" || fail "$how direct"
	curl -sS "${args[@]}" --cacert "$CERT" -D "$T/proxy.h" -o /dev/null \
		"$PROXY_URL/emptyv/obj" || fail "$how proxied"
	for name in x-amz-meta-empty content-disposition x-amz-meta-full; do
		d=$(tr -d '\r' <"$T/direct.h" | grep -i "^$name:" |
			sed 's/^[^:]*:[ \t]*//; s/[ \t]*$//' | od -c | head -2)
		p=$(tr -d '\r' <"$T/proxy.h" | grep -i "^$name:" |
			sed 's/^[^:]*:[ \t]*//; s/[ \t]*$//' | od -c | head -2)
		grep -qi "^$name:" "$T/direct.h" || fail "s3rver sent no $name"
		grep -qi "^$name:" "$T/proxy.h" || fail "$how: $name dropped"
		[ "$d" = "$p" ] || fail "$how: $name differs: '$d' vs '$p'"
	done
	ok "$how: x-amz-meta-empty, Content-Disposition (empty) and x-amz-meta-full as directly"
done
s3py <<'PY'
h = s3.head_object(Bucket="emptyv", Key="obj")
if h["Metadata"] != {"empty": "", "full": "yes"}:
    fail("boto3 metadata through the proxy: %r" % h["Metadata"])
ok("boto3 reads Metadata {'empty': '', 'full': 'yes'}")
PY
