#!/bin/bash
# Differential conformance run: the same client suites directly against a
# local S3 backend (s3rver, plain http) and through storage-proxy (https,
# self-signed certificate) in front of that same backend, then a report of
# the tests whose results differ.
#
# Usage:
#   contrib/conformance/run.sh [-s SUITES] [-o OUTDIR] [-k EXPR] [-t SECS] [-S]
#
#   -s SUITES  comma-separated, of: s3tests, clients, curl (default: all)
#   -o OUTDIR  report and logs (default: ./conformance-out; an earlier
#              report there is replaced)
#   -k EXPR    pytest -k expression: run part of s3-tests only
#   -t SECS    s3-tests' time limit per test (default 30; pytest-timeout)
#   -S         one suite after the other (by default they run at once:
#              s3-tests keeps its backend busy, the others mostly wait)
#
# Environment:
#   STORAGE_PROXY   the daemon (default: src/storage-proxy of the build
#                   tree: ./src/storage-proxy, then beside this script)
#   S3TESTS_DIR     an existing ceph/s3-tests checkout (any copy of the
#                   source); without it the script clones
#                   https://github.com/ceph/s3-tests into its temp dir
#                   and checks out S3TESTS_COMMIT
#   S3TESTS_COMMIT  default: the commit pinned below
#   CLIENTS         client suite subset (default: aws s3cmd-v4 s3cmd-v2 rclone)
#   KEEP_TMP=1      keep the temporary directory (servers' data, outputs)
#
# Suites:
#   s3tests  ceph/s3-tests s3tests/functional/test_s3.py with pytest,
#            one outcome per test (s3tests_plugin.py)
#   clients  awscli, s3cmd (SigV4 and --signature-v2) and rclone: a
#            scripted list of operations each, exit status and output hash
#            (clients.sh)
#   curl     edge-case requests: status, header names and chosen values,
#            body hash (curl_cases.py)
# Each suite runs its direct pass, then its proxied pass, each against a
# fresh, empty s3rver (--no-vhost-buckets) on the suite's loopback port;
# s3rver is restarted whenever it crashes (it does on some multipart
# requests; the restarts are logged beside the report).
# The proxy runs with its defaults but for port, certificate, backend and
# a short shutdown-timeout (hung transfers must not hold up the end).
#
# Output: OUTDIR/report.md (tables per suite: what passes directly and
# fails through the proxy, the reverse, totals), OUTDIR/report.json, and
# per suite the raw results (direct.jsonl, proxy.jsonl) and the proxy's
# access and error logs.  Differences listed in known-differences.md
# (backend behaviour, timing races) are marked and do not count.
#
# Exit status: 0 when nothing passes directly and fails through the proxy
# but what known-differences.md explains; 1 otherwise; 2 on a set-up error
# or a suite without results.
#
# Needs: s3rver (npm), openssl, curl, /usr/bin/python3 with Debian's
# python3-pytest, -pytest-timeout, -boto3, -munch, -gevent, -isodate,
# -lxml, -tz, -httplib2, -yaml, -requests and -dateutil; aws, s3cmd and
# rclone for the client suite.

[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

S3TESTS_COMMIT=${S3TESTS_COMMIT:-8f0ae7b404a3a2fcf7038bf1e6bf29544fe9b6a3}
S3TESTS_REPO=https://github.com/ceph/s3-tests
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
SUITES=s3tests,clients,curl
OUT=./conformance-out
KEXPR=
TEST_TIMEOUT=30
PARALLEL=1
CLIENTS=${CLIENTS:-aws s3cmd-v4 s3cmd-v2 rclone}

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while getopts s:o:k:t:Sh opt; do
	case $opt in
	s) SUITES=$OPTARG ;;
	o) OUT=$OPTARG ;;
	k) KEXPR=$OPTARG ;;
	t) TEST_TIMEOUT=$OPTARG ;;
	S) PARALLEL=0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

say() { printf 'conformance: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 2; }

if [ -z "${STORAGE_PROXY:-}" ]; then
	for c in ./src/storage-proxy "$HERE/../../src/storage-proxy"; do
		if [ -x "$c" ]; then STORAGE_PROXY=$c; break; fi
	done
fi
[ -n "${STORAGE_PROXY:-}" ] && [ -x "$STORAGE_PROXY" ] ||
	die "storage-proxy binary not found (set STORAGE_PROXY=path)"
STORAGE_PROXY=$(cd "$(dirname "$STORAGE_PROXY")" && pwd)/$(basename "$STORAGE_PROXY")
command -v s3rver >/dev/null || die "s3rver not installed (npm install -g s3rver@3.7.1)"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# Empty it, but only if it holds nothing or an earlier report.
if [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/versions.txt" ]; then
	die "$OUT is not empty and holds no earlier report: give another -o"
fi
rm -rf "${OUT:?}"/*
T=$(mktemp -d -t sp-conformance.XXXXXX)
BACKEND_LOOPS=""
# killtree PID: the process and its descendants (this script's own: the
# servers, the suites' subshells and the clients they run).
killtree() {
	local c kids
	kids=$(pgrep -P "$1" 2>/dev/null) || true
	for c in $kids; do killtree "$c"; done
	kill "$1" 2>/dev/null || true
}
cleanup() {
	rc=$?
	trap - EXIT INT TERM
	for f in "$T"/s3rver-*.pid; do
		[ -f "$f" ] || continue
		f=${f##*/s3rver-}
		touch "$T/stop-${f%.pid}"
	done
	local kids c
	kids=$(pgrep -P $$ 2>/dev/null) || true
	for c in $kids; do killtree "$c"; done
	wait 2>/dev/null || true
	if [ "${KEEP_TMP:-}" = 1 ]; then say "kept $T"; else rm -rf "$T"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT PID NAME
wait_port() {
	local i=0
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		kill -0 "$2" 2>/dev/null || die "$3 exited during start-up"
		i=$((i + 1))
		[ "$i" -lt 300 ] || die "$3 did not listen on port $1 within 30s"
		sleep 0.1
	done
}

# --- backend: s3rver, restarted when it crashes ---------------------------
# start_backend NAME PORT LOGDIR: a fresh, empty s3rver for one pass (NAME
# SUITE-direct or SUITE-proxy) on PORT, restarted on the same port should
# it crash; its output and restarts go to LOGDIR/s3rver-PASS*.log.
start_backend() {
	local name=$1 port=$2 logdir=$3 pass=${1##*-}
	rm -rf "$T/s3data-$name" "$T/stop-$name"
	mkdir -p "$T/s3data-$name"
	(
		while :; do
			s3rver -d "$T/s3data-$name" -a 127.0.0.1 -p "$port" --silent \
				--no-vhost-buckets >>"$logdir/s3rver-$pass.log" 2>&1 &
			echo $! >"$T/s3rver-$name.pid"
			rc=0; wait $! || rc=$?
			[ -e "$T/stop-$name" ] && exit 0
			echo "$(date -u +%FT%TZ) s3rver exited ($rc), restarted" >>"$logdir/s3rver-$pass-restarts.log"
			sleep 0.3
		done
	) &
	BACKEND_LOOPS="$BACKEND_LOOPS $name=$!"
	sleep 0.2
	wait_port "$port" "$!" s3rver
}

stop_backend() {
	local loop
	touch "$T/stop-$1"
	kill "$(cat "$T/s3rver-$1.pid")" 2>/dev/null || true
	for loop in $BACKEND_LOOPS; do
		[ "${loop%%=*}" = "$1" ] && wait "${loop#*=}" 2>/dev/null
	done
	return 0
}

# --- the proxy -------------------------------------------------------------
# start_proxy BACKEND_PORT LOGDIR
start_proxy() {
	local logdir=$2
	PROXY_PORT=$(free_port)
	# Only this run's options: none from the environment.
	# shellcheck disable=SC2046 # one "-u NAME" pair per variable
	env $(compgen -e | grep -E '^(STORAGE_PROXY_|DOWNLOAD_SPEED$|MAX_CONNECTIONS$)' | sed 's/^/-u /') \
		"$STORAGE_PROXY" --port "$PROXY_PORT" --bind 127.0.0.1 \
		--cert "$CERT" --key "$KEY" --upstream "http://127.0.0.1:$1" \
		--shutdown-timeout 2s \
		>>"$logdir/proxy-access.log" 2>>"$logdir/proxy-err.log" &
	PROXY_PID=$!
	wait_port "$PROXY_PORT" "$PROXY_PID" storage-proxy
}

stop_proxy() {
	kill "$PROXY_PID" 2>/dev/null || true
	local i=0
	while kill -0 "$PROXY_PID" 2>/dev/null && [ "$i" -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -9 "$PROXY_PID" 2>/dev/null || true
	wait "$PROXY_PID" 2>/dev/null || true
}

# --- test material -----------------------------------------------------------
CERT=$T/cert/cert.crt
KEY=$T/cert/key.pem
mkdir -p "$T/cert"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	-keyout "$KEY" -out "$CERT" >"$T/openssl.out" 2>&1 ||
	die "openssl: $(cat "$T/openssl.out")"
DATA=$T/data
mkdir -p "$DATA/tree/sub dir/deeper"
head -c 1000 /dev/urandom >"$DATA/small"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$DATA/3m"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$DATA/20m"
echo "plain text" >"$DATA/tree/a.txt"
: >"$DATA/tree/empty"
head -c 3000 /dev/urandom >"$DATA/tree/sub dir/b+c=d.bin"
echo "unicode name" >"$DATA/tree/sub dir/caf$(printf '\303\251').txt"
head -c $((100 * 1024)) /dev/urandom >"$DATA/tree/sub dir/deeper/100k.bin"
head -c $((6 * 1024 * 1024)) /dev/urandom >"$DATA/tree/sub dir/deeper/6m.bin"
# Same modification times in both passes' uploads (rclone stores them).
find "$DATA" -exec touch -h -d '2024-01-01 00:00:00 UTC' {} +

# For the proxied pass: the test CA, whatever this machine sets globally.
proxy_env() {
	export AWS_CA_BUNDLE=$CERT REQUESTS_CA_BUNDLE=$CERT SSL_CERT_FILE=$CERT CURL_CA_BUNDLE=$CERT
}

# --- s3-tests ------------------------------------------------------------------
s3tests_source() {
	if [ -n "${S3TESTS_DIR:-}" ]; then
		[ -d "$S3TESTS_DIR" ] || die "S3TESTS_DIR=$S3TESTS_DIR is not a directory"
		S3TESTS_DIR=$(cd "$S3TESTS_DIR" && pwd)
		local head
		if head=$(git -C "$S3TESTS_DIR" rev-parse HEAD 2>/dev/null); then
			[ "$head" = "$S3TESTS_COMMIT" ] ||
				say "warning: S3TESTS_DIR is at $head, not the pinned $S3TESTS_COMMIT"
			S3TESTS_VERSION=$head
		else
			S3TESTS_VERSION="given source (not a git checkout; pinned: $S3TESTS_COMMIT)"
		fi
	else
		say "cloning $S3TESTS_REPO"
		git clone -q "$S3TESTS_REPO" "$T/s3-tests" || die "git clone failed; give S3TESTS_DIR"
		git -C "$T/s3-tests" checkout -q "$S3TESTS_COMMIT" || die "no commit $S3TESTS_COMMIT"
		S3TESTS_DIR=$T/s3-tests
		S3TESTS_VERSION=$S3TESTS_COMMIT
	fi
	if [ -f "$S3TESTS_DIR/s3tests/functional/test_s3.py" ]; then
		S3TESTS_PKG=s3tests.functional S3TESTS_FILE=s3tests/functional/test_s3.py
	elif [ -f "$S3TESTS_DIR/s3tests_boto3/functional/test_s3.py" ]; then
		S3TESTS_PKG=s3tests_boto3.functional S3TESTS_FILE=s3tests_boto3/functional/test_s3.py
	else
		die "no s3tests/functional/test_s3.py in $S3TESTS_DIR"
	fi
}

# s3tests_conf FILE PORT SECURE: s3rver knows one key, S3RVER/S3RVER; the
# alt and tenant users use it too.
s3tests_conf() {
	{
		printf '[DEFAULT]\nhost = 127.0.0.1\nport = %s\n' "$2"
		printf 'is_secure = %s\nssl_verify = %s\n' "$3" "$3"
		printf '[fixtures]\nbucket prefix = conf-{random}-\n'
		for s in 's3 main' 's3 alt' 's3 tenant' iam 'iam root' 'iam alt root'; do
			printf '[%s]\naccess_key = S3RVER\nsecret_key = S3RVER\n' "$s"
			printf 'display_name = S3rver\nuser_id = 123456789000\n'
			printf 'email = %s@example.com\n' "${s// /-}"
			if [ "$s" = 's3 tenant' ]; then printf 'tenant = testx\n'; fi
		done
	} >"$1"
}

# s3tests_pass PASS PORT SECURE CA
s3tests_pass() {
	local d=$OUT/s3tests conf=$T/s3tests-$1.conf
	s3tests_conf "$conf" "$2" "$3"
	local kargs=()
	if [ -n "$KEXPR" ]; then kargs=(-k "$KEXPR"); fi
	say "s3tests: $1 pass"
	# A per-test limit (a hanging request must not stall the run), and
	# one for the whole pass should pytest-timeout fail to interrupt.
	(cd "$S3TESTS_DIR" && env S3TEST_CONF="$conf" AWS_MAX_ATTEMPTS=1 \
		CONF_RESULTS="$d/$1.jsonl" CONF_S3TESTS_PKG="$S3TESTS_PKG" CONF_CA="$4" \
		PYTHONPATH="$HERE" PYTHONDONTWRITEBYTECODE=1 \
		timeout -k 10 1800 $PY -m pytest -p no:cacheprovider -p s3tests_plugin \
		-q --tb=line --timeout "$TEST_TIMEOUT" --junitxml "$d/$1-junit.xml" \
		"${kargs[@]}" "$S3TESTS_FILE") >"$d/$1-pytest.log" 2>&1 || true
	tail -n 1 "$d/$1-pytest.log" | sed 's/^/conformance: s3tests: /' >&2
}

# --- one suite: direct pass, emptied backend, proxied pass ---------------
run_pass() { # SUITE PASS(direct|proxy) URL
	local suite=$1 pass=$2 url=$3 tag=d ca=
	if [ "$pass" = proxy ]; then tag=p; ca=$CERT; fi
	local d=$OUT/$suite
	: >"$d/$pass.jsonl"
	case $suite in
	s3tests)
		local port=${url##*:} secure=False
		if [ "$pass" = proxy ]; then secure=True; fi
		s3tests_pass "$pass" "$port" "$secure" "$ca" ;;
	clients)
		# The clients at once (each has its own buckets): most of the
		# time goes to start-up and to waiting out hangs.
		say "clients: $pass pass: $CLIENTS"
		local pids=()
		for c in $CLIENTS; do
			TARGET_URL=$url CA=$ca TAG=$tag DATA=$DATA WORK=$T/clients-$pass \
				RESULTS=$T/clients-$pass-$c.jsonl bash "$HERE/clients.sh" "$c" &
			pids+=($!)
		done
		wait "${pids[@]}" || true
		for c in $CLIENTS; do cat "$T/clients-$pass-$c.jsonl" >>"$d/$pass.jsonl" 2>/dev/null || true; done ;;
	curl)
		say "curl: $pass pass"
		local logs=()
		if [ "$pass" = proxy ]; then
			logs=(--ca "$CERT" --proxy-log "$d/proxy-access.log" --proxy-err "$d/proxy-err.log")
		fi
		$PY "$HERE/curl_cases.py" "$url" "$tag" "$d/$pass.jsonl" --data "$DATA" \
			"${logs[@]}" || true ;;
	esac
}

# run_suite SUITE: the direct pass, then the proxied pass, each against
# a fresh, empty s3rver on the same port.
run_suite() {
	local suite=$1 d=$OUT/$1 port
	mkdir -p "$d"
	port=$(free_port)
	start_backend "$suite-direct" "$port" "$d"
	(run_pass "$suite" direct "http://127.0.0.1:$port")
	stop_backend "$suite-direct"
	start_backend "$suite-proxy" "$port" "$d"
	start_proxy "$port" "$d"
	(proxy_env; run_pass "$suite" proxy "https://127.0.0.1:$PROXY_PORT")
	kill -0 "$PROXY_PID" 2>/dev/null || say "warning: the proxy died during the $suite suite"
	stop_proxy
	stop_backend "$suite-proxy"
}

START=$(date +%s)
for suite in ${SUITES//,/ }; do
	case $suite in
	s3tests) s3tests_source ;;
	clients | curl) ;;
	*) die "unknown suite $suite" ;;
	esac
done
{
	echo "storage-proxy: $STORAGE_PROXY ($("$STORAGE_PROXY" -V 2>&1 | head -n 1))"
	echo "s3rver: $(s3rver --version 2>/dev/null || echo '?')"
	case ",$SUITES," in *,s3tests,*) echo "ceph/s3-tests: $S3TESTS_VERSION" ;; esac
	echo "suites: $SUITES"
	echo "started: $(date -u +%FT%TZ)"
} >"$OUT/versions.txt"
SUITE_PIDS=""
for suite in ${SUITES//,/ }; do
	say "suite $suite"
	if [ "$PARALLEL" = 1 ]; then
		# s3-tests keeps its backend busy, the others mostly wait
		# (client start-up, hangs).
		(trap - EXIT; run_suite "$suite") &
		SUITE_PIDS="$SUITE_PIDS $!"
	else
		run_suite "$suite"
	fi
done
for p in $SUITE_PIDS; do wait "$p" || true; done
rc=0
$PY "$HERE/compare.py" "$OUT" "$HERE/known-differences.md" ${SUITES//,/ } || rc=$?
echo "run time: $(($(date +%s) - START)) s" | tee -a "$OUT/versions.txt" >&2
exit "$rc"
