# shellcheck shell=bash disable=SC2034 # variables set here are for the tests
# Shared helpers for the integration tests; sourced by each test script.
#
# Tests run from automake's harness with cwd = top build dir (where the
# binary is ./src/storage-proxy) and $srcdir pointing at the sources, which
# differ under `make distcheck`.  They also run standalone from anywhere
# if STORAGE_PROXY names the binary.

# The tests use bash (/dev/tcp, arrays of args); re-run under bash when a
# harness starts them with plain sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

# Debian's boto3/botocore belong to this interpreter; a pyenv python3 may
# come first on PATH and not see them.
PY=/usr/bin/python3
TESTNAME=$(basename "$0" .sh)
# Sibling helper scripts live next to the test script, in the source tree.
HERE=$(cd "$(dirname "$0")" && pwd)
S3_ACCESS_KEY=S3RVER
S3_SECRET_KEY=S3RVER
S3_REGION=us-east-1
S3_HOST=s3.docker.mender.io
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
export AWS_DEFAULT_REGION=$S3_REGION
# Keep a developer's own AWS settings out of the tests.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

log() { printf '%s: %s\n' "$TESTNAME" "$*"; }
fail() {
	printf '%s: FAIL: %s\n' "$TESTNAME" "$*" >&2
	exit 1
}
# Print what was checked, so a passing log shows what it proves.
ok() { printf '%s: ok: %s\n' "$TESTNAME" "$*"; }

# Locate the daemon: $STORAGE_PROXY, else the build tree (cwd when run by
# make check), else relative to a source tree that is also the build tree.
if [ -z "${STORAGE_PROXY:-}" ]; then
	for c in ./src/storage-proxy "$HERE/../../src/storage-proxy"; do
		if [ -x "$c" ]; then STORAGE_PROXY=$c; break; fi
	done
fi
[ -n "${STORAGE_PROXY:-}" ] && [ -x "$STORAGE_PROXY" ] ||
	fail "storage-proxy binary not found (set STORAGE_PROXY=path)"
STORAGE_PROXY=$(cd "$(dirname "$STORAGE_PROXY")" && pwd)/$(basename "$STORAGE_PROXY")

# The benchmark program is built next to the daemon.
BENCH=${STORAGE_PROXY_BENCH:-$(dirname "$STORAGE_PROXY")/storage-proxy-bench}

T=$(mktemp -d -t "sp-$TESTNAME.XXXXXX")
PIDS=""
cleanup() {
	rc=$?
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	# A daemon draining on SIGTERM gets 5 s, then SIGKILL.
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ "$i" -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# A sanitizer build reports memory and UB errors on the daemon's
	# stderr (leaks only at exit, hence after the kills above).
	if [ "$rc" -eq 0 ] && grep -qsE 'Sanitizer|runtime error:' "$T"/proxy*-err.log "$T"/*.log; then
		printf '%s: FAIL: sanitizer report in the daemon logs\n' "$TESTNAME" >&2
		rc=1
	fi
	# On failure show the servers' logs: the harness keeps only our output.
	if [ "$rc" -ne 0 ]; then
		for f in "$T"/*.log; do
			[ -s "$f" ] || continue
			echo "---- $(basename "$f") (last 30 lines)"
			tail -n 30 "$f"
		done
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port the kernel considers free right now (tiny race accepted).
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID NAME: until something accepts on PORT; fail if PID dies.
wait_port() {
	i=0
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		kill -0 "$2" 2>/dev/null || fail "$3 exited during start-up (see $3 log)"
		i=$((i + 1))
		[ "$i" -lt 200 ] || fail "$3 did not listen on port $1 within 20s"
		sleep 0.1
	done
}

# spawn NAME CMD...: run in background, output to $T/NAME.log; sets SPAWNED.
spawn() {
	name=$1; shift
	"$@" >"$T/$name.log" 2>&1 &
	SPAWNED=$!
	PIDS="$PIDS $SPAWNED"
}

# make_cert DIR: self-signed cert as in the installation docs, plus SANs.
# Its key is RSA 2048, or ECDSA P-256 with CERT_KEY=ecdsa (tls_ecdsa.sh
# reruns the TLS tests so).  Sets CERT, KEY and CERT_KEY.
make_cert() {
	local newkey
	case ${CERT_KEY:=rsa} in
	rsa) newkey=(-newkey rsa:2048) ;;
	ecdsa) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
	*) fail "CERT_KEY: '$CERT_KEY' is not rsa or ecdsa" ;;
	esac
	mkdir -p "$1"
	openssl req -x509 "${newkey[@]}" -nodes -days 3650 \
		-subj "/CN=$S3_HOST" \
		-addext "subjectAltName=DNS:$S3_HOST,DNS:localhost,IP:127.0.0.1" \
		-keyout "$1/key.pem" -out "$1/cert.crt" >"$T/openssl.out" 2>&1 ||
		fail "openssl could not make a certificate: $(cat "$T/openssl.out")"
	CERT=$1/cert.crt
	KEY=$1/key.pem
}

# start_s3rver: sets S3RVER_PORT, S3RVER_ADDR (host:port), S3RVER_PID.
start_s3rver() {
	command -v s3rver >/dev/null ||
		fail "s3rver not installed (npm install -g s3rver@3.7.1)"
	S3RVER_PORT=$(free_port)
	mkdir -p "$T/s3data"
	# Path-style only: else Host s3.docker.mender.io reads as a bucket name.
	spawn s3rver s3rver -d "$T/s3data" -a 127.0.0.1 -p "$S3RVER_PORT" \
		--silent --no-vhost-buckets
	S3RVER_PID=$SPAWNED
	wait_port "$S3RVER_PORT" "$S3RVER_PID" s3rver
	S3RVER_ADDR=127.0.0.1:$S3RVER_PORT
}

# start_py NAME SCRIPT ARGS...: a helper server that prints its port first.
# Sets PY_PORT.
start_py() {
	name=$1; script=$2; shift 2
	spawn "$name" $PY -u "$HERE/$script" "$@"
	i=0
	while ! PY_PORT=$(head -n 1 "$T/$name.log" 2>/dev/null | grep -E '^[0-9]+$'); do
		kill -0 "$SPAWNED" 2>/dev/null || fail "$name exited during start-up"
		i=$((i + 1))
		[ "$i" -lt 100 ] || fail "$name did not report its port"
		sleep 0.1
	done
	wait_port "$PY_PORT" "$SPAWNED" "$name"
}

# start_sigv4_verify: SigV4 checker in front of a running s3rver.
# Sets VERIFY_ADDR; its verdicts go to $T/sigv4.log.
start_sigv4_verify() {
	start_py sigv4 sigv4_verify.py --upstream "$S3RVER_ADDR" \
		--secret "$S3_SECRET_KEY"
	VERIFY_ADDR=127.0.0.1:$PY_PORT
}

# start_proxy ARGS...: the daemon on a fresh loopback port with the test
# certificate (make_cert first).  Sets PROXY_PORT, PROXY_URL, PROXY_PID.
# Its stdout goes to $T/proxy.log, stderr to $T/proxy-err.log.
start_proxy() {
	PROXY_PORT=$(free_port)
	# Access lines (stdout) and errors (stderr) apart, as the daemon means.
	"$STORAGE_PROXY" --port "$PROXY_PORT" --bind 127.0.0.1 \
		--cert "$CERT" --key "$KEY" "$@" >"$T/proxy.log" 2>"$T/proxy-err.log" &
	PROXY_PID=$!
	PIDS="$PIDS $PROXY_PID"
	wait_port "$PROXY_PORT" "$PROXY_PID" proxy
	PROXY_URL=https://127.0.0.1:$PROXY_PORT
	case " $* " in *" --tls off "*) PROXY_URL=http://127.0.0.1:$PROXY_PORT ;; esac
	export PROXY_PORT PROXY_URL
}

# start_redis: a redis-server of the test's own on a free loopback port,
# nothing saved to disk; sets REDIS_PORT, REDIS_PID, REDIS_URL.
start_redis() {
	command -v redis-server >/dev/null ||
		fail "redis-server not installed (apt-get install redis-server)"
	REDIS_PORT=${REDIS_PORT:-$(free_port)}
	spawn redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
		--save '' --appendonly no --dir "$T"
	REDIS_PID=$SPAWNED
	wait_port "$REDIS_PORT" "$REDIS_PID" redis
	REDIS_URL=redis://127.0.0.1:$REDIS_PORT
}

# start_replica NAME ARGS...: one more proxy (cluster tests), logs in
# $T/NAME.log and $T/NAME-err.log; sets REPLICA_PORT, REPLICA_PID and
# REPLICA_URL.
start_replica() {
	local name=$1
	shift
	REPLICA_PORT=$(free_port)
	"$STORAGE_PROXY" --port "$REPLICA_PORT" --bind 127.0.0.1 \
		--cert "$CERT" --key "$KEY" "$@" >"$T/$name.log" 2>"$T/$name-err.log" &
	REPLICA_PID=$!
	PIDS="$PIDS $REPLICA_PID"
	wait_port "$REPLICA_PORT" "$REPLICA_PID" "$name"
	REPLICA_URL=https://127.0.0.1:$REPLICA_PORT
}

# seed BUCKET KEY FILE [KEY FILE...]: makes BUCKET on s3rver and puts
# each FILE as KEY, straight to s3rver (cluster tests: no proxy of their
# own).
seed() {
	PROXY_URL=http://$S3RVER_ADDR s3py "$@" <<'PY'
a = sys.argv[1:]
s3.create_bucket(Bucket=a[0])
for key, path in zip(a[1::2], a[2::2]):
    with open(path, "rb") as f:
        s3.put_object(Bucket=a[0], Key=key, Body=f)
PY
}

# joined NAME [N]: until replica NAME (start_replica) has logged that
# redis answers N times (default 1: it joined; 2: it rejoined), 10 s at
# most.
joined() {
	local i=0
	until [ "$(grep -c "cluster: redis at .* answers" "$T/$1-err.log")" -ge "${2:-1}" ]; do
		i=$((i + 1)); [ "$i" -lt 100 ] || fail "replica $1 did not (re)join redis"
		sleep 0.1
	done
}

proxy_alive() {
	kill -0 "$PROXY_PID" 2>/dev/null || fail "the proxy died"
}

# no_connections_left [BACKEND_PORT]: fail unless the proxy is alive and
# holds no established client connection, nor (with a port) any to the
# backend; only the listening socket is left.
no_connections_left() {
	local est up=0
	proxy_alive
	est=$(ss -Htn state established "( sport = :$PROXY_PORT )" | wc -l)
	[ "$est" -eq 0 ] || fail "$est client connections still open"
	if [ -n "${1:-}" ]; then
		up=$(ss -Htnp state established "( dport = :$1 )" |
			grep -c "pid=$PROXY_PID," || true)
		[ "$up" -eq 0 ] || fail "$up backend connections still open"
	fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# same_sha FILE1 FILE2 WHAT: fail unless the two files are identical.
same_sha() {
	a=$(sha "$1"); b=$(sha "$2")
	[ "$a" = "$b" ] || fail "$3: sha256 differs ($a vs $b)"
	ok "$3: sha256 $a"
}

# random_file FILE MIB
random_file() {
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"
}

# s3py: run a python snippet (stdin) with boto3 pointed at the proxy.
# The snippet gets s3 (a client), fail(msg) and the environment.
s3py() {
	{
		cat <<-'EOF'
		import os, sys, boto3
		from botocore.config import Config
		def fail(msg):
		    print(os.environ["TESTNAME"] + ": FAIL: " + msg, file=sys.stderr)
		    sys.exit(1)
		def ok(msg):
		    print(os.environ["TESTNAME"] + ": ok: " + msg, flush=True)
		s3 = boto3.client("s3", endpoint_url=os.environ["PROXY_URL"],
		    verify=os.environ.get("CERT") if os.environ["PROXY_URL"].startswith("https") else None,
		    config=Config(s3={"addressing_style": "path"},
		                  retries={"max_attempts": 1}))
		EOF
		cat
	} >"$T/snippet.py"
	TESTNAME=$TESTNAME CERT=${CERT:-} $PY "$T/snippet.py" "$@" ||
		fail "python step failed"
}
