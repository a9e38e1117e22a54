#!/bin/sh
# Install, as root on Debian 12, everything needed to build storage-proxy
# and run its unit and integration tests.  Safe to run again.
set -eu
export DEBIAN_FRONTEND=noninteractive

pkgs="build-essential autoconf automake libtool pkg-config
libmicrohttpd-dev libgnutls28-dev libcurl4-gnutls-dev libcriterion-dev
libhiredis-dev redis-server
curl openssl ca-certificates python3 python3-boto3 python3-botocore awscli
nginx-light gnuplot-nox afl++ prometheus systemd"
# Debian's nodejs can conflict with a node installed another way: keep
# whatever node/npm is already there.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	pkgs="$pkgs nodejs npm"
fi

apt-get update
# shellcheck disable=SC2086 # word splitting of the list is intended
apt-get install -y --no-install-recommends $pkgs

# s3rver: the S3 backend of the integration tests (Debian has no package).
if ! command -v s3rver >/dev/null; then
	npm install -g --no-audit --no-fund s3rver@3.7.1
fi
command -v s3rver >/dev/null || { echo "s3rver not on PATH after install" >&2; exit 1; }
echo "setup-debian: done"
