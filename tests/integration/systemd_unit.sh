#!/bin/bash
# contrib/systemd/storage-proxy.service: systemd-analyze verify finds
# nothing to say about it (a bad value is only a warning there, so any
# output fails), its hardening scores "OK" or better in systemd-analyze
# security, and its command line with the sample configuration passes -t.
. "$(dirname "$0")/lib.sh"

UNIT=$HERE/../../contrib/systemd/storage-proxy.service
[ -f "$UNIT" ] || fail "no unit file at $UNIT"
if ! command -v systemd-analyze >/dev/null; then
	# Counted as SKIP in the summary (contrib/setup-debian.sh installs it).
	log "SKIP: systemd-analyze not installed (Debian package systemd)"
	exit 77
fi

# The unit names the installed binary; verify checks that it is executable,
# so point it at the one under test.
mkdir "$T/unit" "$T/bad"
sed "s|/usr/bin/storage-proxy|$STORAGE_PROXY|g" "$UNIT" >"$T/unit/storage-proxy.service"
# --man=no: the man page is not installed here.
verify() {
	systemd-analyze verify --man=no "$1" >"$T/verify.out" 2>&1 &&
		! [ -s "$T/verify.out" ]
}
verify "$T/unit/storage-proxy.service" ||
	fail "systemd-analyze verify: $(cat "$T/verify.out")"
ok "systemd-analyze verify: no error, no warning"
# Negative controls: the check must bite on a warning and on an error.
sed 's/^ProtectSystem=strict/ProtectSystem=bogus/' \
    "$T/unit/storage-proxy.service" >"$T/bad/storage-proxy.service"
! verify "$T/bad/storage-proxy.service" || fail "verify passed ProtectSystem=bogus"
sed 's|^ExecStart=.*|ExecStart=/nonexistent/storage-proxy|' \
    "$T/unit/storage-proxy.service" >"$T/bad/storage-proxy.service"
! verify "$T/bad/storage-proxy.service" || fail "verify passed a missing binary"
ok "verify refuses ProtectSystem=bogus and a missing binary"

systemd-analyze security --offline=yes "$T/unit/storage-proxy.service" \
    >"$T/security.out" 2>&1 || fail "systemd-analyze security: $(tail -n 5 "$T/security.out")"
level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$T/security.out")
case $level in
*" OK") ;;
*) fail "exposure level '$level', want OK (see systemd-analyze security)" ;;
esac
ok "systemd-analyze security: exposure $level"

# ExecStart with the sample configuration and a certificate.
make_cert "$T/cert"
cmd=$(sed -n 's/^ExecStart=//p' "$T/unit/storage-proxy.service")
read -r -a argv <<<"${cmd//\/etc\/storage-proxy.conf/$HERE/../../etc/storage-proxy.conf}"
STORAGE_PROXY_CERT=$CERT STORAGE_PROXY_KEY=$KEY "${argv[@]}" --test \
    >"$T/t.out" 2>&1 || fail "ExecStart --test: $(cat "$T/t.out")"
ok "ExecStart with etc/storage-proxy.conf: $(head -n 1 "$T/t.out")"
