#!/bin/sh
# The SigV4 verifier used by presigned.sh must accept botocore-signed
# requests and refuse altered ones, or presigned.sh proves nothing.
set -eu
exec /usr/bin/python3 "$(dirname "$0")/sigv4_verify.py" --self-test
