#!/bin/bash
# The access log cannot be forged from a request line: in the request
# field, bytes outside printable ASCII, '"' and '\' are written as \xHH
# (as nginx escapes its log), so a '"' in the target cannot end the field
# early.  Whatever the proxy answers, the request's one log line shows the
# request field escaped exactly so.
. "$(dirname "$0")/lib.sh"
. "$HERE/hostile_lib.sh"

make_cert "$T/cert"
start_hostile_backend
start_proxy --upstream "http://127.0.0.1:$BACKEND_PORT"

# name | the request field as logged | request
while IFS='|' read -r name field req; do
	case $(trim "$name") in '' | '#'*) continue ;; esac
	CASES=$((CASES + 1))
	$PY "$HOSTILE" case --port "$PROXY_PORT" --backend "$BACKEND_DIR" \
		--log "$T/proxy.log" --name "$(trim "$name")" --want-status any \
		--want-log-field "$(trim "$field")" --timeout 2.5 "$(trim "$req")" \
		</dev/null || FAILS=$((FAILS + 1))
done <<'EOF'
# name          | logged request field              | request
log-plain       | GET /bkt/plain HTTP/1.1           | GET /bkt/plain HTTP/1.1\r\nHost: s3.test\r\n\r\n
log-quote       | GET /bkt/a\x22b HTTP/1.1          | GET /bkt/a"b HTTP/1.1\r\nHost: s3.test\r\n\r\n
log-quote-forge | GET /bkt/x\x22 200 0 HTTP/1.1     | GET /bkt/x" 200 0 HTTP/1.1\r\nHost: s3.test\r\n\r\n
log-backslash   | GET /bkt/back\x5Cslash HTTP/1.1   | GET /bkt/back\\slash HTTP/1.1\r\nHost: s3.test\r\n\r\n
log-non-ascii   | GET /bkt/caf\xC3\xA9 HTTP/1.1     | GET /bkt/caf\xc3\xa9 HTTP/1.1\r\nHost: s3.test\r\n\r\n
log-del         | GET /bkt/del\x7F HTTP/1.1         | GET /bkt/del\x7f HTTP/1.1\r\nHost: s3.test\r\n\r\n
log-method-ctl  | G\x01T /bkt/method-ctl HTTP/1.1   | G\x01T /bkt/method-ctl HTTP/1.1\r\nHost: s3.test\r\n\r\n
log-method-quote| G\x22T /bkt/method-quote HTTP/1.1 | G"T /bkt/method-quote HTTP/1.1\r\nHost: s3.test\r\n\r\n
EOF

finish
