#!/bin/bash
# The HTTPS listener: TLS 1.2 and 1.3 work with the generated certificate
# for s3.docker.mender.io, TLS 1.1 and older are refused; IPv6 loopback
# binds work too.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"
CURL="curl -sS --max-time 10 --resolve $S3_HOST:$PROXY_PORT:127.0.0.1 --cacert $CERT -o /dev/null"
URL=https://$S3_HOST:$PROXY_PORT/b/k

for v in "--tlsv1.2 --tls-max 1.2" "--tlsv1.3"; do
	code=$($CURL $v -w '%{http_code}' "$URL") || fail "$v: handshake failed"
	[ "$code" = 200 ] || fail "$v: got $code"
	ok "$v: 200, certificate verified for $S3_HOST"
done
if $CURL --tlsv1 --tls-max 1.1 "$URL" 2>/dev/null; then
	fail "TLS 1.1 was accepted"
fi
ok "TLS 1.1 refused"

# The proxy's certificate and key given through the environment.
PORT6=$(free_port)
STORAGE_PROXY_CERT=$CERT STORAGE_PROXY_KEY=$KEY \
	"$STORAGE_PROXY" --port "$PORT6" --bind ::1 --upstream "http://127.0.0.1:$PY_PORT" \
	>"$T/proxy6.log" 2>&1 &
PIDS="$PIDS $!"
P6=$!
i=0
# The certificate names 127.0.0.1 but not ::1: reach ::1 by name.
until curl -sS --max-time 5 --resolve "$S3_HOST:$PORT6:[::1]" --cacert "$CERT" \
	-o /dev/null "https://$S3_HOST:$PORT6/b/k" 2>/dev/null; do
	kill -0 "$P6" 2>/dev/null || fail "proxy on ::1 exited: $(tail -n 3 "$T/proxy6.log")"
	i=$((i + 1))
	[ "$i" -lt 50 ] || fail "proxy on --bind ::1 does not answer"
	sleep 0.2
done
ok "--bind ::1 serves HTTPS on IPv6 loopback (cert and key from the environment)"
