#!/bin/bash
# The container's HEALTHCHECK: GET /healthz on the metrics listener
# (STORAGE_PROXY_METRICS_LISTEN, ADDR:PORT) must answer 200.  Bash's
# /dev/tcp rather than curl, which the image does not have (Debian's curl
# package would bring OpenSSL's libcurl4).  Exit 0 healthy, 1 not.
set -eu
listen=${STORAGE_PROXY_METRICS_LISTEN:-0.0.0.0:9100}
port=${listen##*:}
host=${listen%:*}
host=${host#[}
host=${host%]}
# A wildcard listener is reached on loopback.
case $host in
'' | 0.0.0.0 | '*') host=127.0.0.1 ;;
::) host=::1 ;;
esac
if ! exec 3<>"/dev/tcp/$host/$port"; then
	echo "healthcheck: cannot connect to $host port $port" >&2
	exit 1
fi
printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
status=
IFS= read -r -t 4 status <&3 || true
case $status in
"HTTP/1."[01]" 200 "*) exit 0 ;;
esac
echo "healthcheck: /healthz answered: ${status%$'\r'}" >&2
exit 1
