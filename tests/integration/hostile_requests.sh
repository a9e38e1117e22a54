#!/bin/bash
# Header sections the proxy cannot read exactly as the backend would are
# refused with 400 before anything reaches the backend: field names that
# are not tokens, obs-fold, NUL, bare CR or other control bytes in a value,
# an HTTP/1.1 request without Host or with two.  The positive controls show
# that valid requests still pass unchanged: HTTP/1.0 without Host,
# keep-alive, a Content-Length and a chunked PUT (body sha256 at the
# backend), and what only the backend may judge reaches it as sent ('#' or
# obs-text in the target, a 17,000-byte path, PATCH, Expect: 200-ok).
# Every request is in the access log with its status.
. "$(dirname "$0")/lib.sh"
. "$HERE/hostile_lib.sh"

make_cert "$T/cert"
start_hostile_backend
start_proxy --upstream "http://127.0.0.1:$BACKEND_PORT"

# sha256 of "hello world" and of the backend's "ok\n".
# shellcheck disable=SC2034 # the table reads them as @NAME@
HW=b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9
# shellcheck disable=SC2034
OK=$(printf 'ok\n' | sha256sum | cut -d' ' -f1)

run_table --timeout 2.5 <<'EOF'
# name           | statuses | close | code           | backend | client | request
# Field names that are not tokens.
name-space-colon | 400 | yes | InvalidRequest | nothing | - | PUT /bkt/name-space-colon HTTP/1.1\r\nHost: s3.test\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello
name-ctl         | 400 | yes | InvalidRequest | nothing | - | GET /bkt/name-ctl HTTP/1.1\r\nHost: s3.test\r\nX-A\x01b: v\r\n\r\n
name-non-ascii   | 400 | yes | InvalidRequest | nothing | - | GET /bkt/name-non-ascii HTTP/1.1\r\nHost: s3.test\r\nX-\xc3\xa9: v\r\n\r\n
# Field values: obs-fold, NUL, bare CR, a control byte.
obs-fold         | 400 | yes | InvalidRequest | nothing | - | GET /bkt/obs-fold HTTP/1.1\r\nHost: s3.test\r\nX-A: first\r\n second\r\n\r\n
value-nul        | 400 | yes | InvalidRequest | nothing | - | GET /bkt/value-nul HTTP/1.1\r\nHost: s3.test\r\nX-A: a\x00b\r\n\r\n
value-nul-end    | 400 | yes | InvalidRequest | nothing | - | GET /bkt/value-nul-end HTTP/1.1\r\nHost: s3.test\r\nX-A: a\x00\r\n\r\n
value-nul-nul    | 400 | yes | InvalidRequest | nothing | - | GET /bkt/value-nul-nul HTTP/1.1\r\nHost: s3.test\r\nX-A: a\x00\x00Transfer-Encoding: chunked\r\n\r\n
target-nul       | 400 | yes | InvalidRequest | nothing | - | GET /bkt/target\x00nul HTTP/1.1\r\nHost: s3.test\r\n\r\n
host-userinfo    | 400 | yes | InvalidRequest | nothing | - | GET /bkt/host-userinfo HTTP/1.1\r\nHost: u@s3.test\r\n\r\n
host-space       | 400 | yes | InvalidRequest | nothing | - | GET /bkt/host-space HTTP/1.1\r\nHost: s3 test\r\n\r\n
value-bare-cr    | 400 | yes | InvalidRequest | nothing | - | GET /bkt/value-bare-cr HTTP/1.1\r\nHost: a\rb\r\n\r\n
value-ctl        | 400 | yes | InvalidRequest | nothing | - | GET /bkt/value-ctl HTTP/1.1\r\nHost: s3.test\r\nX-A: a\x01b\r\n\r\n
# Host: one in HTTP/1.1, none needed in HTTP/1.0.
no-host-11       | 400 | yes | InvalidRequest | nothing | - | GET /bkt/no-host-11 HTTP/1.1\r\n\r\n
two-hosts        | 400 | yes | InvalidRequest | nothing | - | GET /bkt/two-hosts HTTP/1.1\r\nHost: s3.test\r\nHost: other.test\r\n\r\n
no-host-10       | 200 | any | - | requests=1;line=GET /bkt/no-host-10 HTTP/1.1 | body=@OK@ | GET /bkt/no-host-10 HTTP/1.0\r\n\r\n
# Positive controls: keep-alive, a PUT by Content-Length, a chunked PUT.
keep-alive       | 200,200 | yes | - | requests=2;line=GET /bkt/keep-alive-1 HTTP/1.1;line=GET /bkt/keep-alive-2 HTTP/1.1 | body=@OK@ | GET /bkt/keep-alive-1 HTTP/1.1\r\nHost: s3.test\r\n\r\nGET /bkt/keep-alive-2 HTTP/1.1\r\nHost: s3.test\r\nConnection: close\r\n\r\n
put-length       | 200 | any | - | requests=1;line=PUT /bkt/put-length HTTP/1.1;line=Host: s3.test;line=Content-Length: 11;sha256=@HW@ | body=@OK@ | PUT /bkt/put-length HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 11\r\n\r\nhello world
put-chunked      | 200 | any | - | requests=1;line=PUT /bkt/put-chunked HTTP/1.1;line=Host: s3.test;line=Transfer-Encoding: chunked;sha256=@HW@ | body=@OK@ | PUT /bkt/put-chunked HTTP/1.1\r\nHost: s3.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n
# Also valid (RFC 9110 5.5): HTAB and obs-text inside a value reach the backend as sent.
value-htab       | 200 | any | - | requests=1;line=X-A: a\tb | body=@OK@ | GET /bkt/value-htab HTTP/1.1\r\nHost: s3.test\r\nX-A: a\tb\r\n\r\n
value-obs-text   | 200 | any | - | requests=1;line=X-A: caf\xc3\xa9 | body=@OK@ | GET /bkt/value-obs-text HTTP/1.1\r\nHost: s3.test\r\nX-A: caf\xc3\xa9\r\n\r\n
# The backend decides, as it would directly: '#' and obs-text in the target,
# any method, any Expect (the hostile backend takes all of them).
target-fragment  | 200 | any | - | requests=1;line=GET /bkt/a#frag?x=%2F HTTP/1.1 | body=@OK@ | GET /bkt/a#frag?x=%2F HTTP/1.1\r\nHost: s3.test\r\n\r\n
target-obs-text  | 200 | any | - | requests=1;line=GET /bkt/caf\xc3\xa9 HTTP/1.1 | body=@OK@ | GET /bkt/caf\xc3\xa9 HTTP/1.1\r\nHost: s3.test\r\n\r\n
method-patch     | 200 | any | - | requests=1;line=PATCH /bkt/method-patch HTTP/1.1;sha256=@HW@ | body=@OK@ | PATCH /bkt/method-patch HTTP/1.1\r\nHost: s3.test\r\nContent-Length: 11\r\n\r\nhello world
expect-other     | 200 | any | - | requests=1;line=Expect: 200-ok;sha256=@HW@ | body=@OK@ | PUT /bkt/expect-other HTTP/1.1\r\nHost: s3.test\r\nExpect: 200-ok\r\nContent-Length: 11\r\n\r\nhello world
EOF

# A 17,000-byte path is the backend's to judge (s3rver answers 431): it
# arrives whole.
long=/bkt/$(head -c 17000 /dev/zero | tr '\0' a)
code=$(curl -sS --cacert "$CERT" -o /dev/null -w '%{http_code}' \
	"$PROXY_URL$long") || fail "long path: curl failed"
[ "$code" = 200 ] || fail "long path: $code"
grep -q "GET $long body=0" "$BACKEND_DIR/requests.log" ||
	fail "long path: not at the backend whole"
ok "a 17,000-byte path reached the backend whole"

finish
