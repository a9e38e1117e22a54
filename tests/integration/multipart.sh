#!/bin/bash
# Multipart upload through the proxy (3 parts of 5-6 MiB), then a GET must
# return exactly the concatenation of the parts.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
random_file "$T/p1" 5
random_file "$T/p2" 6
head -c 1234567 /dev/urandom >"$T/p3"
cat "$T/p1" "$T/p2" "$T/p3" >"$T/whole"

D=$T s3py <<'PY'
d = os.environ["D"]
s3.create_bucket(Bucket="multipart")
up = s3.create_multipart_upload(Bucket="multipart", Key="parts.bin")["UploadId"]
parts = []
for n in (1, 2, 3):
    with open(os.path.join(d, "p%d" % n), "rb") as f:
        r = s3.upload_part(Bucket="multipart", Key="parts.bin", UploadId=up,
                           PartNumber=n, Body=f)
    parts.append({"PartNumber": n, "ETag": r["ETag"]})
    ok("upload part %d, ETag %s" % (n, r["ETag"]))
s3.complete_multipart_upload(Bucket="multipart", Key="parts.bin", UploadId=up,
                             MultipartUpload={"Parts": parts})
ok("complete multipart upload")
body = s3.get_object(Bucket="multipart", Key="parts.bin")["Body"]
with open(os.path.join(d, "got"), "wb") as f:
    for chunk in iter(lambda: body.read(1 << 20), b""):
        f.write(chunk)
PY
same_sha "$T/whole" "$T/got" "GET of the 3-part object"
