#!/bin/bash
# early_reset.sh [BINARY] [N] [MODES]: N uploads of 3 MiB per case through
# BINARY (default src/storage-proxy) to the hostile backend's /early/MODE
# (tests/integration/hostile.py; MODES default "close", also halfclose,
# drain, ok), PUT and POST, with and without Expect: 100-continue; prints
# the statuses per case and the access-log lines of other statuses.  The
# race of an early answer with the backend's reset (close mode without
# Expect) shows as 502 "Failed sending data to the peer"; a busy loop on
# another core (while :; do :; done &) widens it.  Run from the top of
# the source tree.
set -eu
B=$(realpath "${1:-src/storage-proxy}")
N=${2:-100}
MODES=${3:-close}
HERE=$(cd "$(dirname "$0")/.." && pwd)/tests/integration
D=$(mktemp -d -t early-reset.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait
	rm -rf "$D"
}
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$D/key.pem" \
	-out "$D/cert.crt" >/dev/null 2>&1
/usr/bin/python3 -u "$HERE/hostile.py" backend --dir "$D/backend" \
	>"$D/backend.log" 2>&1 &
PIDS="$PIDS $!"
until BPORT=$(head -n 1 "$D/backend.log" 2>/dev/null | grep -E '^[0-9]+$'); do
	sleep 0.1
done
PPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$B" --port "$PPORT" --bind 127.0.0.1 --cert "$D/cert.crt" \
	--key "$D/key.pem" --upstream "http://127.0.0.1:$BPORT" \
	--stall-timeout 5s >"$D/proxy.log" 2>"$D/proxy-err.log" &
PIDS="$PIDS $!"
until (exec 3<>"/dev/tcp/127.0.0.1/$PPORT") 2>/dev/null; do sleep 0.1; done
head -c 3145728 /dev/urandom >"$D/body"
for mode in $MODES; do
	for method in PUT POST; do
		for expect in "Expect: 100-continue" "Expect:"; do
			case $expect in
			*100*) name=$mode-$method-expect ;;
			*) name=$mode-$method-no-expect ;;
			esac
			printf '%-28s' "$name:"
			for _ in $(seq "$N"); do
				curl -sS --cacert "$D/cert.crt" --max-time 20 \
					-X "$method" -H "$expect" -T "$D/body" \
					-o /dev/null -w '%{http_code}\n' \
					"https://127.0.0.1:$PPORT/early/$mode/x" \
					2>/dev/null || true
			done | sort | uniq -c | tr -s ' \n' ' '
			echo
		done
	done
done
grep -Ev '" (403|200) ' "$D/proxy.log" || true
