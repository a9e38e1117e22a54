#!/bin/sh
# Sets up and runs storage-proxy on port 9000 in front of a local S3 server
# (s3rver) on a fresh Debian 12 machine: installs what is missing, builds,
# makes a self-signed certificate for s3.docker.mender.io, creates a bucket
# with one object, and runs the proxy in the foreground until Ctrl-C.
# Usage (as root, from the source tree): sh contrib/demo.sh
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
work=${DEMO_DIR:-$top/demo}
port=${PORT:-9000}

sh contrib/setup-debian.sh
if [ ! -x src/storage-proxy ]; then
	autoreconf -fi
	./configure
	make -j"$(nproc)"
fi

rm -rf "$work/s3"
mkdir -p "$work/cert" "$work/s3"
if [ ! -f "$work/cert/cert.crt" ]; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
	    -subj /CN=s3.docker.mender.io \
	    -addext subjectAltName=DNS:s3.docker.mender.io,DNS:localhost,IP:127.0.0.1 \
	    -keyout "$work/cert/key.pem" -out "$work/cert/cert.crt" 2>/dev/null
fi

s3port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
s3rver --address 127.0.0.1 --port "$s3port" --directory "$work/s3" \
    --no-vhost-buckets --silent &
s3pid=$!
trap 'kill $s3pid 2>/dev/null' EXIT INT TERM
i=0
until curl -s -o /dev/null "http://127.0.0.1:$s3port/"; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "s3rver did not start" >&2; exit 1; }
	sleep 0.1
done
# A bucket and an artifact to download (s3rver takes any credentials).
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
head -c 1048576 /dev/urandom > "$work/artifact.bin"
aws --endpoint-url "http://127.0.0.1:$s3port" s3 mb s3://artifacts >/dev/null
aws --endpoint-url "http://127.0.0.1:$s3port" s3 cp "$work/artifact.bin" \
    s3://artifacts/artifact.bin >/dev/null
# A SigV4 presigned URL as devices get them (signed header: host).
url=$(/usr/bin/python3 - "$port" <<'PY'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url="https://s3.docker.mender.io:%s" % sys.argv[1],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
print(s3.generate_presigned_url("get_object", ExpiresIn=86400, Params={
    "Bucket": "artifacts", "Key": "artifact.bin",
    "ResponseContentType": "application/vnd.mender-artifact"}))
PY
)

cat <<MSG

storage-proxy listens on https://0.0.0.0:$port, backend s3rver on 127.0.0.1:$s3port.
Try a presigned download (sha256 of the artifact: $(sha256sum "$work/artifact.bin" | cut -d' ' -f1)):

  curl --resolve s3.docker.mender.io:$port:127.0.0.1 --cacert $work/cert/cert.crt \\
    '$url' | sha256sum

Or 20 devices downloading it at once for 10 s, each download checked:

  ./src/storage-proxy-bench -c 20 -d 10s --resolve s3.docker.mender.io:$port:127.0.0.1 \\
    --cacert $work/cert/cert.crt --sha256 $(sha256sum "$work/artifact.bin" | cut -d' ' -f1) '$url'

Stop with Ctrl-C.
MSG
./src/storage-proxy --port "$port" --cert "$work/cert/cert.crt" \
    --key "$work/cert/key.pem" --upstream "http://127.0.0.1:$s3port"
