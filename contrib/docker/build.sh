#!/bin/sh
# Build steps of the container image, shared by the Dockerfile and CI (which
# has no Docker engine): install build dependencies, build, check that the
# binary starts, install into DESTDIR (default: the root filesystem).
# Usage: contrib/docker/build.sh [SOURCE_DIR]
set -eu
src=${1:-.}
cd "$src"
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends build-essential autoconf \
	    automake pkg-config libmicrohttpd-dev libgnutls28-dev \
	    libcurl4-gnutls-dev libhiredis-dev ca-certificates
fi
autoreconf -fi
./configure --prefix=/usr --sysconfdir=/etc
make -j"$(nproc)" src/storage-proxy
./src/storage-proxy --version
make install-exec DESTDIR="${DESTDIR:-}"
