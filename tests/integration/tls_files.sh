#!/bin/bash
# Certificate and key files: a chain (leaf + intermediate) is served whole,
# so a client trusting only the root verifies it; without --key the key is
# private.key beside the certificate when key.pem is absent; a key that
# does not match, or a missing file, stops start-up with the file named.
. "$(dirname "$0")/lib.sh"

D=$T/pki
mkdir -p "$D" "$T/mount"
ossl() { openssl "$@" 2>/dev/null || fail "openssl $1 failed"; }
ossl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=test-root \
	-addext basicConstraints=critical,CA:true -keyout "$D/root.key" -out "$D/root.crt"
ossl req -newkey rsa:2048 -nodes -subj /CN=test-intermediate \
	-keyout "$D/int.key" -out "$D/int.csr"
printf 'basicConstraints=critical,CA:true\nkeyUsage=keyCertSign,cRLSign\n' >"$D/int.ext"
ossl x509 -req -in "$D/int.csr" -CA "$D/root.crt" -CAkey "$D/root.key" \
	-CAcreateserial -days 30 -extfile "$D/int.ext" -out "$D/int.crt"
ossl req -newkey rsa:2048 -nodes -subj "/CN=$S3_HOST" -keyout "$D/leaf.key" -out "$D/leaf.csr"
printf 'subjectAltName=DNS:%s,IP:127.0.0.1\n' "$S3_HOST" >"$D/leaf.ext"
ossl x509 -req -in "$D/leaf.csr" -CA "$D/int.crt" -CAkey "$D/int.key" \
	-CAcreateserial -days 30 -extfile "$D/leaf.ext" -out "$D/leaf.crt"
# As mounted by a deployment that names the key private.key.
cat "$D/leaf.crt" "$D/int.crt" >"$T/mount/cert.crt"
cp "$D/leaf.key" "$T/mount/private.key"

start_py echo fault_server.py --mode echo
PORT=$(free_port)
spawn proxy "$STORAGE_PROXY" --port "$PORT" --bind 127.0.0.1 \
	--cert "$T/mount/cert.crt" --upstream "http://127.0.0.1:$PY_PORT"
wait_port "$PORT" "$SPAWNED" proxy
code=$(curl -sS --cacert "$D/root.crt" --resolve "$S3_HOST:$PORT:127.0.0.1" \
	-o /dev/null -w '%{http_code}' "https://$S3_HOST:$PORT/b/k") ||
	fail "client trusting only the root could not verify the chain"
[ "$code" = 200 ] || fail "got $code"
ok "leaf + intermediate served; client trusting only the root verified it"
ok "without --key, private.key beside the certificate was used"

rc=0
"$STORAGE_PROXY" --port "$(free_port)" --cert "$T/mount/cert.crt" \
	--key "$D/int.key" >"$T/mismatch" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a key that does not match the certificate was accepted"
grep -q "int.key" "$T/mismatch" && grep -qi "does not match" "$T/mismatch" ||
	fail "mismatch message does not name the key file: $(cat "$T/mismatch")"
ok "mismatched key refused (exit $rc): $(head -n 1 "$T/mismatch" | sed 's/.*fatal: //')"

rc=0
"$STORAGE_PROXY" --port "$(free_port)" --cert "$T/nowhere/cert.crt" >"$T/missing" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "a missing certificate was accepted"
grep -q "nowhere/cert.crt" "$T/missing" || fail "message does not name the certificate: $(cat "$T/missing")"
ok "missing certificate refused (exit $rc), file named"
