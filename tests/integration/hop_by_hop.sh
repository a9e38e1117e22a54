#!/bin/bash
# RFC 9110 7.6.1: hop-by-hop fields (the fixed list and those named in
# Connection) stop at the proxy in both directions; end-to-end fields,
# x-amz-* included, pass unchanged.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"

curl -sS --cacert "$CERT" -o "$T/echo.json" -D "$T/resp.h" \
	-H 'Connection: keep-alive, X-Hop-One' -H 'X-Hop-One: secret' \
	-H 'Keep-Alive: timeout=5' -H 'TE: trailers' -H 'Upgrade: h2c' \
	-H 'Proxy-Connection: keep-alive' \
	-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -H 'X-End: kept' \
	-H 'x-amz-meta-empty;' \
	"$PROXY_URL/b/k" || fail "GET through the proxy failed"
$PY - "$T/echo.json" <<'PY' || fail "hop-by-hop handling upstream"
import json, sys
e = json.load(open(sys.argv[1]))
names = {n.lower(): v for n, v in e["headers"]}
for gone in ("x-hop-one", "keep-alive", "te", "upgrade", "proxy-connection"):
    if gone in names:
        sys.exit("hop-by-hop %s reached the backend" % gone)
if "close" in names.get("connection", "") or "x-hop-one" in names.get("connection", ""):
    sys.exit("client's Connection value reached the backend: %r" % names["connection"])
want = {"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-end": "kept", "x-amz-meta-empty": ""}
for k, v in want.items():
    if names.get(k) != v:
        sys.exit("end-to-end %s: got %r, want %r" % (k, names.get(k), v))
PY
ok "Connection-named, Keep-Alive, TE, Upgrade, Proxy-Connection dropped; x-amz-*, X-End and an empty field kept"
grep -qi '^Content-Length:' "$T/resp.h" || fail "no Content-Length in the response"
! grep -qi '^Transfer-Encoding:' "$T/resp.h" || fail "known length turned into chunked"
ok "response keeps a Content-Length, never chunked"
