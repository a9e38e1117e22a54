#!/bin/bash
# Uploads with "Expect: 100-continue" (curl and the AWS SDKs send it): the
# expectation goes to the backend, which answers it; the client gets 100
# Continue once the backend has sent its own, and the body reaches the
# backend intact.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"
random_file "$T/obj" 3
curl -sS -v --cacert "$CERT" -H 'Expect: 100-continue' -T "$T/obj" \
	-o "$T/echo.json" "$PROXY_URL/b/k" 2>"$T/curl.err" || fail "PUT failed"
grep -q '< HTTP/1.1 100 Continue' "$T/curl.err" || fail "no 100 Continue: $(grep '^< HTTP' "$T/curl.err")"
ok "client got 100 Continue"
$PY - "$T/echo.json" "$(sha "$T/obj")" "$(stat -c %s "$T/obj")" <<'PY' || fail "body or headers wrong upstream"
import json, sys
e = json.load(open(sys.argv[1]))
h = {n.lower(): v for n, v in e["headers"]}
if e["method"] != "PUT" or e["body_sha256"] != sys.argv[2] or e["body_len"] != int(sys.argv[3]):
    sys.exit("backend got %s %d bytes %s" % (e["method"], e["body_len"], e["body_sha256"]))
if h.get("content-length") != sys.argv[3]:
    sys.exit("Content-Length upstream: %r" % h.get("content-length"))
if h.get("expect") != "100-continue":
    sys.exit("Expect upstream: %r" % h.get("expect"))
PY
ok "3 MiB body intact upstream with its Content-Length and Expect"
