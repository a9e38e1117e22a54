#!/bin/bash
# Clients that go away mid-download (devices lose their link) must not
# leak the proxy's descriptors or upstream connections, nor hurt it.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR"
random_file "$T/obj" 64
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="abort")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="abort", Key="big", Body=f)
PY
fds() { ls "/proc/$PROXY_PID/fd" | wc -l; }
CURL="curl -sS --cacert $CERT"
$CURL -o /dev/null "$PROXY_URL/abort/big" || fail "warm-up GET failed"
base=$(fds)
for i in $(seq 20); do
	# head exits after 1 MiB; curl then fails writing and hangs up.
	{ $CURL "$PROXY_URL/abort/big" 2>/dev/null || true; } | head -c 1048576 >/dev/null
done
ok "20 downloads aborted after 1 MiB"
proxy_alive
i=0
while [ "$(fds)" -gt $((base + 4)) ]; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "proxy holds $(fds) descriptors, $base before the aborts: leak"
	sleep 0.1
done
ok "descriptors back to $(fds) (baseline $base)"
$CURL -o "$T/got" "$PROXY_URL/abort/big" || fail "GET after the aborts failed"
same_sha "$T/obj" "$T/got" "full GET after the aborts"
