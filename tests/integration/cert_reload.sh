#!/bin/bash
# SIGHUP reads the certificate and key again (a renewal written over the
# files, as an ACME client does): 50 downloads in flight and a kept-alive
# connection go on untouched and complete; a new connection gets the new
# certificate (its key of the other type, RSA or ECDSA).  A second SIGHUP with a key that does not match, then with a
# missing key file, is refused with the file named; the new pair stays in
# force and the process lives on.
. "$(dirname "$0")/lib.sh"

N=50
make_cert "$T/cert"
OLD_CA=$T/old-ca.crt
cp "$CERT" "$OLD_CA"
start_s3rver
# 512 KiB at 128 KiB/s: each download lasts about 4 s.
MP=$(free_port)
start_proxy --upstream "http://$S3RVER_ADDR" --download-speed 128k \
	--metrics-listen "127.0.0.1:$MP"
# expiry FILE: the certificate's notAfter, in seconds since the epoch.
expiry() { date -d "$(openssl x509 -noout -enddate -in "$1" | cut -d= -f2)" +%s; }
# The expiry the metrics show.
shown_expiry() {
	curl -sS "http://127.0.0.1:$MP/metrics" |
		awk '$1 == "storage_proxy_tls_certificate_expiry_seconds" { printf "%d\n", $2 }'
}
EXP_OLD=$(expiry "$T/cert/cert.crt")
[ "$(shown_expiry)" = "$EXP_OLD" ] ||
	fail "metrics show expiry $(shown_expiry), the certificate's is $EXP_OLD"
random_file "$T/obj" 1
head -c $((512 * 1024)) "$T/obj" >"$T/half"
SRC=$T/half s3py <<'PY'
s3.create_bucket(Bucket="certs")
with open(os.environ["SRC"], "rb") as f:
    s3.put_object(Bucket="certs", Key="obj", Body=f)
PY

fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }
# The fingerprint of the certificate a new connection gets.
served() {
	timeout 10 openssl s_client -connect "127.0.0.1:$PROXY_PORT" \
		-servername localhost </dev/null 2>/dev/null >"$T/s_client.out" || true
	openssl x509 -noout -fingerprint -sha256 <"$T/s_client.out" 2>/dev/null |
		cut -d= -f2
}
# wait_log PATTERN: until the proxy's log has PATTERN n times ($2, 1).
wait_log() {
	local i=0
	until [ "$(grep -c -- "$1" "$T/proxy-err.log")" -ge "${2:-1}" ]; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "not logged within 10 s: $1"
		sleep 0.1
	done
}

FP_OLD=$(fingerprint "$CERT")
[ "$(served)" = "$FP_OLD" ] || fail "start-up certificate not served"
grep -q "certificate: subject .*sha256 $FP_OLD" "$T/proxy-err.log" ||
	fail "start-up certificate not logged"

URL=$PROXY_URL/certs/obj
pids=""
for i in $(seq 1 $N); do
	curl -sS --cacert "$OLD_CA" -o "$T/got.$i" -w '%{http_code}' "$URL" \
		>"$T/code.$i" 2>"$T/curl.$i" &
	pids="$pids $!"
done
# One kept-alive connection: two requests, the second after the reload.
curl -sS --cacert "$OLD_CA" -o "$T/ka.1" -o "$T/ka.2" \
	-w '%{http_code} %{num_connects}\n' "$URL" "$URL" >"$T/ka.out" 2>"$T/ka.err" &
ka=$!
sleep 1

# The renewal: new files beside the old, moved over them (atomic), then
# SIGHUP.  Its key is of the other type (RSA and ECDSA), as when a
# deployment changes it at renewal.
OLD_TYPE=$CERT_KEY
[ "$CERT_KEY" = rsa ] && CERT_KEY=ecdsa || CERT_KEY=rsa
make_cert "$T/new"
FP_NEW=$(fingerprint "$T/new/cert.crt")
[ "$FP_NEW" != "$FP_OLD" ] || fail "the new certificate is the old one"
EXP_NEW=$(expiry "$T/new/cert.crt")
mv "$T/new/key.pem" "$T/cert/key.pem"
mv "$T/new/cert.crt" "$T/cert/cert.crt"
NEW_CA=$T/new-ca.crt
cp "$T/cert/cert.crt" "$NEW_CA"
running=0
for p in $pids; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
[ "$running" -eq "$N" ] || fail "only $running of $N downloads in flight at the reload"
kill -HUP "$PROXY_PID"
wait_log "SIGHUP: certificate reloaded"
grep "SIGHUP: certificate reloaded" "$T/proxy-err.log" | grep -q "sha256 $FP_NEW" ||
	fail "the reload log does not show the new fingerprint: $(grep 'certificate reloaded' "$T/proxy-err.log")"
running=0
for p in $pids; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
[ "$running" -gt 0 ] || fail "every download ended before the reload was logged"
ok "$N downloads in flight at the reload ($running still after it); logged: $(grep -o 'certificate reloaded.*' "$T/proxy-err.log" | cut -c1-90)..."

[ "$(shown_expiry)" = "$EXP_NEW" ] ||
	fail "metrics show expiry $(shown_expiry), the new certificate's is $EXP_NEW"
ok "the metrics show the new certificate's expiry ($EXP_NEW; the old one's was $EXP_OLD)"
[ "$(served)" = "$FP_NEW" ] || fail "a new connection got $(served), not the new $FP_NEW"
ok "a new connection gets the new certificate ($OLD_TYPE key before, $CERT_KEY now; $FP_NEW)"
code=$(curl -sS --cacert "$NEW_CA" -o "$T/got.new" -w '%{http_code}' "$URL") ||
	fail "a client trusting only the new certificate failed"
[ "$code" = 200 ] || fail "new connection: status $code"
same_sha "$T/half" "$T/got.new" "download over a new connection"
if curl -sS --cacert "$OLD_CA" -o /dev/null "$URL" 2>/dev/null; then
	fail "a client trusting only the old certificate still connects"
fi
ok "a client trusting only the old certificate is refused by its own check"

failed=0
i=0
for p in $pids; do
	i=$((i + 1))
	wait "$p" || { failed=$((failed + 1)); log "download $i: $(cat "$T/curl.$i")"; }
done
[ "$failed" -eq 0 ] || fail "$failed of $N downloads in flight failed"
want=$(sha "$T/half")
for i in $(seq 1 $N); do
	[ "$(cat "$T/code.$i")" = 200 ] || fail "download $i: status $(cat "$T/code.$i")"
	[ "$(sha "$T/got.$i")" = "$want" ] || fail "download $i: sha256 differs"
done
ok "all $N downloads in flight completed: status 200, sha256 $want"
wait "$ka" || fail "kept-alive connection: $(cat "$T/ka.err")"
[ "$(sed -n 1p "$T/ka.out")" = "200 1" ] && [ "$(sed -n 2p "$T/ka.out")" = "200 0" ] ||
	fail "kept-alive connection: $(tr '\n' ' ' <"$T/ka.out") (status, new connections)"
same_sha "$T/half" "$T/ka.2" "second request on the kept-alive connection, after the reload"

# A key that does not match: the renewal's certificate with the old key.
make_cert "$T/third"
mv "$T/third/cert.crt" "$T/cert/cert.crt"
kill -HUP "$PROXY_PID"
wait_log "SIGHUP: certificate not reloaded"
grep "certificate not reloaded" "$T/proxy-err.log" | grep "$T/cert/key.pem" |
	grep -q "does not match" ||
	fail "the refusal does not name the key file: $(grep 'not reloaded' "$T/proxy-err.log")"
ok "mismatched key refused: $(grep -o 'certificate not reloaded.*' "$T/proxy-err.log" | sed "s|$T/||g")"
proxy_alive
[ "$(served)" = "$FP_NEW" ] || fail "after the refused reload a new connection got $(served)"
ok "the pair in force stayed ($FP_NEW)"

# A missing key file.
rm "$T/cert/key.pem"
kill -HUP "$PROXY_PID"
wait_log "SIGHUP: certificate not reloaded" 2
grep "certificate not reloaded" "$T/proxy-err.log" | tail -n 1 |
	grep -q "$T/cert/key.pem: No such file" ||
	fail "the refusal does not name the missing file: $(grep 'not reloaded' "$T/proxy-err.log" | tail -n 1)"
ok "missing key refused: $(grep -o 'certificate not reloaded.*' "$T/proxy-err.log" | tail -n 1 | sed "s|$T/||g")"
proxy_alive
[ "$(served)" = "$FP_NEW" ] || fail "after the refused reload a new connection got $(served)"
code=$(curl -sS --cacert "$NEW_CA" -o "$T/got.last" -w '%{http_code}' "$URL") ||
	fail "a client trusting the pair in force failed after the refusals"
[ "$code" = 200 ] || fail "after the refusals: status $code"
same_sha "$T/half" "$T/got.last" "download after the refused reloads"
ok "the process lives on with the pair in force"
