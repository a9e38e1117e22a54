#!/bin/bash
# PUT, GET, HEAD and DELETE of a 64 MiB object through the proxy (boto3):
# the body must stream both ways unchanged, HEAD must carry the object's
# length and ETag, and a deleted object must give 404.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
random_file "$T/obj" 64

SRC=$T/obj OUT=$T/got s3py <<'PY'
import hashlib
from botocore.exceptions import ClientError
src, out = os.environ["SRC"], os.environ["OUT"]
s3.create_bucket(Bucket="roundtrip")
ok("create bucket")
with open(src, "rb") as f:
    etag = s3.put_object(Bucket="roundtrip", Key="big.bin", Body=f)["ETag"]
ok("PUT 64 MiB, ETag %s" % etag)
# One plain GET (download_file would split it into ranged GETs).
body = s3.get_object(Bucket="roundtrip", Key="big.bin")["Body"]
with open(out, "wb") as f:
    for chunk in iter(lambda: body.read(1 << 20), b""):
        f.write(chunk)
h = s3.head_object(Bucket="roundtrip", Key="big.bin")
size = os.path.getsize(src)
if h["ContentLength"] != size:
    fail("HEAD Content-Length %d, want %d" % (h["ContentLength"], size))
want = '"%s"' % hashlib.md5(open(src, "rb").read()).hexdigest()
if h["ETag"] != etag or etag != want:
    fail("ETag: PUT %s, HEAD %s, md5 %s" % (etag, h["ETag"], want))
ok("HEAD Content-Length %d, ETag %s" % (size, h["ETag"]))
s3.delete_object(Bucket="roundtrip", Key="big.bin")
try:
    s3.get_object(Bucket="roundtrip", Key="big.bin")
    fail("GET after DELETE succeeded")
except ClientError as e:
    code = e.response["ResponseMetadata"]["HTTPStatusCode"]
    if code != 404:
        fail("GET after DELETE gave %d, want 404" % code)
ok("DELETE, then GET gives 404")
PY
same_sha "$T/obj" "$T/got" "GET of 64 MiB object"
proxy_alive
