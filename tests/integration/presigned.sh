#!/bin/bash
# SigV4 signatures must survive the proxy: path, query and Host reach the
# backend byte for byte.  s3rver does not check V4 signatures, so
# sigv4_verify.py checks them in front of it; negative controls (other
# Host, altered signature) show that the check bites.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_sigv4_verify
start_proxy --upstream "http://$VERIFY_ADDR"
random_file "$T/obj" 3

# Header-signed requests (Authorization) through the proxy.
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="artifacts")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="artifacts", Key="dir/some artifact+1.mender", Body=f)
ok("header-signed create bucket and PUT verified by the backend")
PY
grep -q '^SIGV4 OK PUT' "$T/sigv4.log" || fail "verifier saw no signed PUT"

# A presigned GET as the deployments service makes it for devices.
URL=$($PY - "$S3_HOST:$PROXY_PORT" <<'PY'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url="https://" + sys.argv[1],
                  region_name="us-east-1", aws_access_key_id="S3RVER",
                  aws_secret_access_key="S3RVER",
                  config=Config(signature_version="s3v4",
                                s3={"addressing_style": "path"}))
print(s3.generate_presigned_url("get_object", ExpiresIn=86400, Params={
    "Bucket": "artifacts", "Key": "dir/some artifact+1.mender",
    "ResponseContentType": "application/vnd.mender-artifact",
    "ResponseContentDisposition": 'attachment; filename="some artifact.mender"'}))
PY
)
log "presigned URL: $URL"
for p in response-content-type= response-content-disposition= X-Amz-SignedHeaders=host X-Amz-Signature=; do
	case $URL in *"$p"*) ;; *) fail "presigned URL lacks $p" ;; esac
done
CURL="curl -sS --resolve $S3_HOST:$PROXY_PORT:127.0.0.1 --cacert $CERT"

code=$($CURL -D "$T/h" -o "$T/got" -w '%{http_code}' "$URL") || fail "curl failed"
[ "$code" = 200 ] || fail "presigned GET gave $code, want 200: $(head -c 300 "$T/got")"
same_sha "$T/obj" "$T/got" "presigned GET with Host $S3_HOST:$PROXY_PORT gives 200 and"
grep -qi '^content-type: application/vnd.mender-artifact' "$T/h" ||
	fail "response-content-type not applied"
ok "response-content-type honoured"

# Negative control 1: the same URL presented with another Host.
code=$($CURL -H "Host: other.example:$PROXY_PORT" -o "$T/neg1" -w '%{http_code}' "$URL") || true
[ "$code" = 403 ] || fail "other Host gave $code, want 403 (is the check biting?)"
grep -q SignatureDoesNotMatch "$T/neg1" || fail "other Host: no SignatureDoesNotMatch"
ok "same URL with Host other.example gives 403 SignatureDoesNotMatch"

# Negative control 2: one hex digit of the signature changed.
sig=${URL##*X-Amz-Signature=}
sig=${sig%%&*}
case $sig in 0*) alt=1${sig#?} ;; *) alt=0${sig#?} ;; esac
code=$($CURL -o "$T/neg2" -w '%{http_code}' "${URL/$sig/$alt}") || true
[ "$code" = 403 ] || fail "altered signature gave $code, want 403"
ok "altered signature gives 403"

# A presigned PUT, as the CLI uploads artifacts, with a streamed body.
PUT_URL=$($PY - "$S3_HOST:$PROXY_PORT" <<'PY'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url="https://" + sys.argv[1],
                  region_name="us-east-1", aws_access_key_id="S3RVER",
                  aws_secret_access_key="S3RVER",
                  config=Config(signature_version="s3v4",
                                s3={"addressing_style": "path"}))
print(s3.generate_presigned_url("put_object", ExpiresIn=3600,
      Params={"Bucket": "artifacts", "Key": "uploaded.mender"}))
PY
)
code=$($CURL -T "$T/obj" -o "$T/put" -w '%{http_code}' "$PUT_URL") || fail "presigned PUT: curl failed"
[ "$code" = 200 ] || fail "presigned PUT gave $code: $(head -c 300 "$T/put")"
SRC=$T/obj OUT=$T/got_put s3py <<'PY'
with open(os.environ["OUT"], "wb") as f:
    f.write(s3.get_object(Bucket="artifacts", Key="uploaded.mender")["Body"].read())
PY
same_sha "$T/obj" "$T/got_put" "presigned PUT through the proxy verified and stored"

grep -c '^SIGV4 FAIL' "$T/sigv4.log" | grep -qx 2 ||
	fail "verifier should have refused exactly the 2 negative controls"
ok "verifier refused exactly the 2 negative controls"
proxy_alive
