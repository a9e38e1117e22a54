#!/bin/bash
# A TLS 1.3 client whose one key share is X25519 (openssl, curl, Go) gets
# the handshake in one round trip: it sends exactly one ClientHello, and
# the server no HelloRetryRequest.  GnuTLS picks the group from the
# client's list before it reads the shares: with NORMAL's order (P-256
# first) and %SERVER_PRECEDENCE it asked these clients for a P-256 share.
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"

timeout 10 openssl s_client -connect "127.0.0.1:$PROXY_PORT" -CAfile "$CERT" \
	-tls1_3 -msg </dev/null >"$T/s_client.out" 2>&1 || true
grep -q '^New, TLSv1.3' "$T/s_client.out" ||
	fail "openssl -tls1_3: no handshake: $(grep -m 3 -iE 'error|alert' "$T/s_client.out")"
hellos=$(grep -c '^>>> .*, ClientHello$' "$T/s_client.out" || true)
[ "$hellos" -eq 1 ] ||
	fail "openssl -tls1_3 sent $hellos ClientHellos (a HelloRetryRequest)"
group=$(sed -n 's/^Server Temp Key: //p' "$T/s_client.out")
ok "openssl -tls1_3: 1 ClientHello, key exchange $group ($CERT_KEY certificate)"

out=$(curl -sS -v --max-time 10 --tlsv1.3 --cacert "$CERT" \
	--resolve "$S3_HOST:$PROXY_PORT:127.0.0.1" -o /dev/null \
	-w 'status=%{http_code}\n' "https://$S3_HOST:$PROXY_PORT/b/k" 2>&1) ||
	fail "curl --tlsv1.3 failed: $(printf '%s\n' "$out" | tail -n 3)"
printf '%s\n' "$out" | grep -q '^status=200$' || fail "curl --tlsv1.3: not 200"
hellos=$(printf '%s\n' "$out" | grep -c 'TLS handshake, Client hello' || true)
[ "$hellos" -eq 1 ] || fail "curl --tlsv1.3 sent $hellos ClientHellos"
ok "curl --tlsv1.3: 200 after 1 ClientHello"
