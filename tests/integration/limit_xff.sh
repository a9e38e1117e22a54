#!/bin/bash
# Per-client limits behind a balancer: X-Forwarded-For names the client
# only when the peer is a trusted proxy.  With max-connections 1, two
# held GETs from different forwarded clients both get through when the
# peer (127.0.0.1) is trusted, and the same forwarded client gets 503 on
# its second.  Untrusted, the header is ignored: the peer is the client.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
random_file "$T/obj" 2
CURL="curl -sS --cacert $CERT"

# hold XFF: a GET at 64 KiB/s in the background, until it streams.
hold() {
	$CURL -H "X-Forwarded-For: $1" -o "$T/hold.$2" "$PROXY_URL/xff/obj" 2>/dev/null &
	HELD="$HELD $!"
	i=0
	while [ ! -s "$T/hold.$2" ]; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "held GET $2 did not start"
		sleep 0.05
	done
}
status() { $CURL -H "X-Forwarded-For: $1" -r 0-9 -o /dev/null -w '%{http_code}' "$PROXY_URL/xff/obj"; }
release() { { kill $HELD; wait $HELD; } 2>/dev/null || true; HELD=""; }

start_proxy --upstream "http://$S3RVER_ADDR" --max-connections 1 \
	--download-speed 64k --trusted-proxies "10.0.0.0/8, 127.0.0.1"
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="xff")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="xff", Key="obj", Body=f)
PY
HELD=""
hold "198.51.100.7" a
[ "$(status 198.51.100.8)" = 206 ] || fail "another forwarded client was refused"
ok "trusted peer: a second forwarded client gets its own slot"
[ "$(status 198.51.100.7)" = 503 ] || fail "the same forwarded client got a second slot"
ok "trusted peer: the same forwarded client gets 503 on a second GET"
# Recursive: a trusted hop (10.1.2.3) after the client is skipped.
[ "$(status '198.51.100.7, 10.1.2.3')" = 503 ] || fail "trusted hop not skipped"
ok "trusted hops in X-Forwarded-For are skipped"
release
stop_proxy_now() { kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true; }
stop_proxy_now

start_proxy --upstream "http://$S3RVER_ADDR" --max-connections 1 --download-speed 64k
hold "198.51.100.7" b
[ "$(status 198.51.100.8)" = 503 ] || fail "X-Forwarded-For believed from an untrusted peer"
ok "untrusted peer: X-Forwarded-For ignored, the peer is the client"
release
