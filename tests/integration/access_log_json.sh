#!/bin/bash
# --access-log-format json: one JSON object per line with the combined
# line's fields and the request id, signatures masked, hostile bytes
# escaped; a client that leaves mid-download or mid-upload logs 499 and
# no error line.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_s3rver
start_proxy --upstream "http://$S3RVER_ADDR" --access-log-format json \
	--download-speed 1m
random_file "$T/obj" 4
SRC=$T/obj s3py <<'PY'
s3.create_bucket(Bucket="jsonlog")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="jsonlog", Key="obj", Body=f)
PY
CURL="curl -sS --cacert $CERT"
$CURL -o /dev/null -r 0-99 "$PROXY_URL/jsonlog/obj?X-Amz-Signature=5ec7e7c0de&x=1" ||
	fail "ranged GET failed"
$CURL -o /dev/null "$PROXY_URL/jsonlog/missing" || fail "GET of a missing key failed"
# A client that leaves after about 1 MiB of a throttled 4 MiB download.
$CURL -o /dev/null --max-time 1 "$PROXY_URL/jsonlog/obj" 2>/dev/null &&
	fail "the throttled download ended within 1 s"
# And one that leaves an upload after about 200 KiB.
$CURL -o /dev/null --max-time 1 --limit-rate 200k -T "$T/obj" \
	"$PROXY_URL/jsonlog/upload" 2>/dev/null && fail "the slow upload ended within 1 s"
# A request-target with a quote, a backslash and bytes over 0x7f: the
# proxy forwards it; the log must stay one valid JSON object.
$PY - "$PROXY_PORT" "$CERT" <<'PY' || fail "raw request failed"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.sendall(b'GET /jsonlog/q"uo\\te\xc3\xa9\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        while s.recv(65536):
            pass
PY
i=0
until [ "$(wc -l <"$T/proxy.log")" -ge 7 ]; do
	i=$((i + 1)); [ "$i" -lt 50 ] || fail "expected 7 access lines: $(cat "$T/proxy.log")"
	sleep 0.1
done

$PY - "$T/proxy.log" <<'PY' || fail "JSON access log check failed"
import json, sys
lines = open(sys.argv[1], "rb").read().decode("ascii").splitlines()
recs = [json.loads(l) for l in lines]      # every line parses alone
fields = ["time", "request_id", "client", "method", "target", "protocol",
          "status", "bytes_sent", "duration", "upstream_status",
          "upstream_header_time", "aborted", "upstream_error", "refused"]
ids = set()
for r in recs:
    missing = [f for f in fields if f not in r]
    assert not missing, ("missing", missing, r)
    assert len(r["request_id"]) == 16, r
    ids.add(r["request_id"])
    assert r["client"] == "127.0.0.1", r
assert len(ids) == len(recs), "request ids repeat"
by = {r["target"].split("?")[0]: r for r in recs if r["method"] == "GET"}
ranged = [r for r in recs if "x=1" in r["target"]][0]
assert ranged["status"] == 206 and ranged["bytes_sent"] == 100, ranged
assert ranged["target"] == "/jsonlog/obj?X-Amz-Signature=REDACTED&x=1", ranged
assert "5ec7e7c0de" not in open(sys.argv[1]).read()
miss = by["/jsonlog/missing"]
assert miss["status"] == 404 and miss["upstream_status"] == 404, miss
left = [r for r in recs if r["target"] == "/jsonlog/obj" and r["method"] == "GET"][0]
assert left["status"] == 499 and left["aborted"] is True, left
assert left["upstream_error"] is None, left
assert 500000 < left["bytes_sent"] < 3000000, left
up = [r for r in recs if r["target"] == "/jsonlog/upload"][0]
assert up["method"] == "PUT" and up["status"] == 499 and up["aborted"], up
odd = [r for r in recs if r["target"].startswith("/jsonlog/q")][0]
assert odd["target"] == '/jsonlog/q"uo\\te\u00c3\u00a9\u00ff', repr(odd["target"])
print("access_log_json: ok: %d lines parse; fields, 206, 404, 499 (%d bytes "
      "before the client left), escapes: %r" % (len(recs), left["bytes_sent"],
      odd["target"]))
PY
# The clients' departures are the access log's 499s, not errors.
if grep -E 'error|warning' "$T/proxy-err.log"; then
	fail "error or warning lines on stderr"
fi
ok "no error line on stderr for the clients that left (download, upload)"
