#!/bin/bash
# An ECDSA P-256 certificate serves as well as an RSA one: the handshake
# signs with ECDSA in TLS 1.2 (ECDHE-ECDSA suites) and 1.3, and the TLS
# tests pass again with CERT_KEY=ecdsa (make_cert then makes a P-256 key).
. "$(dirname "$0")/lib.sh"

CERT_KEY=ecdsa
make_cert "$T/cert"
openssl pkey -in "$KEY" -noout -text 2>/dev/null | grep -q 'NIST CURVE: P-256' ||
	fail "make_cert did not make a P-256 key"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"
for v in tls1_2 tls1_3; do
	timeout 10 openssl s_client -connect "127.0.0.1:$PROXY_PORT" -CAfile "$CERT" \
		-"$v" </dev/null >"$T/$v.out" 2>&1 || true
	if ! grep -q '^Peer signature type: ECDSA' "$T/$v.out" ||
		! grep -q '^Verification: OK' "$T/$v.out"; then
		fail "$v: no verified ECDSA handshake: $(grep -m 3 -E '^New|error|alert' "$T/$v.out")"
	fi
	ok "$v: $(sed -n 's/^New, //p' "$T/$v.out"), signed with ECDSA, verified"
done

for t in tls tls_one_hello tls_ffdhe tls_resumption; do
	STORAGE_PROXY=$STORAGE_PROXY CERT_KEY=ecdsa bash "$HERE/$t.sh" \
		>"$T/$t.log" 2>&1 || fail "$t.sh fails with an ECDSA certificate"
	sed -n "s/^$t: ok: /$t (ecdsa): /p" "$T/$t.log"
done
ok "tls, tls_one_hello, tls_ffdhe, tls_resumption pass with an ECDSA certificate"
