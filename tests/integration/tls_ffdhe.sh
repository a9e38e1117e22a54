#!/bin/bash
# Key exchange is over elliptic curves only: a TLS 1.3 ClientHello that
# offers only finite-field groups (FFDHE, RFC 7919), and a TLS 1.2 client
# that offers only DHE cipher suites, both fail the handshake; a normal
# client still gets through.  (With CERT_KEY=ecdsa the TLS 1.2 case is
# refused twice over: no DHE suite signs with ECDSA.)
. "$(dirname "$0")/lib.sh"

make_cert "$T/cert"
start_py echo fault_server.py --mode echo
start_proxy --upstream "http://127.0.0.1:$PY_PORT"

# handshake NAME ARGS...: openssl s_client to the proxy, output in
# $T/NAME.out; succeeds if a session was made.
handshake() {
	local name=$1
	shift
	timeout 10 openssl s_client -connect "127.0.0.1:$PROXY_PORT" \
		-CAfile "$CERT" "$@" </dev/null >"$T/$name.out" 2>&1 || true
	grep -qE '^New, TLSv1\.[23], Cipher is [A-Z]' "$T/$name.out"
}

if handshake ffdhe13 -tls1_3 -groups ffdhe2048:ffdhe8192; then
	fail "TLS 1.3 with only FFDHE groups: $(grep -m 2 -E '^New|Temp Key' "$T/ffdhe13.out")"
fi
ok "TLS 1.3 offering only ffdhe2048 and ffdhe8192: handshake refused"

if handshake dhe12 -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384; then
	fail "TLS 1.2 with only DHE suites: $(grep -m 2 -E '^New|Temp Key' "$T/dhe12.out")"
fi
ok "TLS 1.2 offering only DHE-RSA suites: handshake refused"

handshake normal13 -tls1_3 || fail "a normal TLS 1.3 client failed"
handshake normal12 -tls1_2 || fail "a normal TLS 1.2 client failed"
ok "normal clients: TLS 1.3 $(sed -n 's/^Server Temp Key: //p' "$T/normal13.out"), TLS 1.2 $(sed -n 's/^New, TLSv1.2, Cipher is //p' "$T/normal12.out")"
proxy_alive
