#!/bin/bash
# A backend that answers an upload at once, without 100 Continue and before
# reading the body, then reads and drops the body, closes, or half-closes:
# the client gets the 403 within a second, PUT and POST, with and without
# "Expect: 100-continue".  With it, the client gets no 100 and sends
# little of its body.  A 200 before the end keeps the body flowing.  No
# connection is left behind in the proxy.
. "$(dirname "$0")/lib.sh"
. "$HERE/hostile_lib.sh"

make_cert "$T/cert"
start_hostile_backend
start_proxy --upstream "http://127.0.0.1:$BACKEND_PORT" --stall-timeout 5s
random_file "$T/body" 3

n=0
for mode in drain close halfclose; do
	for method in PUT POST; do
		for expect in "Expect: 100-continue" "Expect:"; do
			name=$mode-$method-${expect#Expect: }
			name=${name%-}
			out=$(curl -sS --cacert "$CERT" --max-time 20 \
				-X "$method" -H "$expect" -T "$T/body" \
				-o "$T/$name.xml" -D "$T/$name.hdr" \
				-w '%{http_code} %{time_total} %{size_upload}' \
				"$PROXY_URL/early/$mode/$name" 2>"$T/$name.err") ||
				fail "$name: curl failed: $(cat "$T/$name.err")"
			read -r code secs sent <<<"$out"
			[ "$code" = 403 ] || fail "$name: status $code"
			$PY -c "import sys; sys.exit(float('$secs') >= 1.0)" ||
				fail "$name: answer after $secs s"
			grep -q '<Code>AccessDenied</Code>' "$T/$name.xml" ||
				fail "$name: not the backend's body"
			if [ "$expect" = "Expect: 100-continue" ]; then
				grep -q '^HTTP/1.1 100' "$T/$name.hdr" &&
					fail "$name: 100 Continue before the 403"
				[ "$sent" -lt 1048576 ] ||
					fail "$name: $sent body bytes sent"
			fi
			ok "$name: 403 in $secs s, $sent body bytes sent"
			n=$((n + 1))
		done
	done
done

sleep 1
no_connections_left "$BACKEND_PORT"
ok "$n uploads answered; no connection left: 0 client, 0 backend"

# A 2xx before the end is no refusal: libcurl keeps sending, the backend
# gets the whole body, and the client its chunked 200 at once (it waited
# for stall-timeout when the proxy stopped the body here too).
out=$(curl -sS --cacert "$CERT" --max-time 20 -H 'Expect:' -T "$T/body" \
	-o "$T/ok.out" -w '%{http_code} %{time_total}' \
	"$PROXY_URL/early/ok/put") || fail "early 200: curl failed"
read -r code secs <<<"$out"
[ "$code" = 200 ] && [ "$(cat "$T/ok.out")" = ok ] ||
	fail "early 200: $code $(cat "$T/ok.out")"
$PY -c "import sys; sys.exit(float('$secs') >= 1.0)" ||
	fail "early 200: answer after $secs s"
# The backend logs the body once it has read it all.
i=0
until grep -q "PUT /early/ok/put body=3145728 early" "$BACKEND_DIR/requests.log"; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || fail "early 200: the backend did not get the whole body"
	sleep 0.1
done
ok "early 200: whole body upstream, chunked 200 in $secs s"
