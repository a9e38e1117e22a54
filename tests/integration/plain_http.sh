#!/bin/bash
# --tls off (TLS terminated in front): a PUT/GET round trip over plain HTTP.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --tls off --upstream "http://$S3RVER_ADDR"
case $PROXY_URL in http://*) ;; *) fail "PROXY_URL is not http" ;; esac
random_file "$T/obj" 2

D=$T s3py <<'PY'
s3.create_bucket(Bucket="plain")
with open(os.environ["D"] + "/obj", "rb") as f:
    s3.put_object(Bucket="plain", Key="o", Body=f)
ok("PUT over plain HTTP")
with open(os.environ["D"] + "/got", "wb") as f:
    f.write(s3.get_object(Bucket="plain", Key="o")["Body"].read())
PY
same_sha "$T/obj" "$T/got" "GET over plain HTTP"
# And no TLS is spoken on that port.
if curl -sS --max-time 10 --cacert "$CERT" -o /dev/null "https://127.0.0.1:$PROXY_PORT/" 2>/dev/null; then
	fail "--tls off port accepted a TLS handshake"
fi
ok "the port does not speak TLS"
