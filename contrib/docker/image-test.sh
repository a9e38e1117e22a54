#!/bin/bash
# Builds the container image from contrib/docker/Dockerfile and runs it, with
# no Docker engine and no image registry: buildah builds (chroot isolation),
# and where no registry answers, the Debian 12 base is made with debootstrap.
# The built image's ENTRYPOINT then runs as the image's USER, on the host's
# network, against s3rver on loopback, with a certificate mounted where the
# deployment mounts it; an object goes up and down through it and its
# sha256 is compared; the HEALTHCHECK command is run.
# Prints "image-test: PASS" or "image-test: FAIL: ..." (exit status 1).
#
# Usage, as root: contrib/docker/image-test.sh [SOURCE_DIR | TARBALL]
#   (default: the source tree this script is in; a git checkout gives its
#   files, tracked or not, without what .gitignore names: build outputs)
# Environment:
#   IMAGE_TEST_BASE   base image to build FROM (default: debian:12-slim from
#                     the registry, else a local one, made once)
#   IMAGE_TEST_CACHE  where the debootstrap tarball is kept
#                     (default: /var/cache/storage-proxy-image-test)
#   DEBIAN_MIRROR     for debootstrap (default: the one apt uses here)
set -eu

NAME=image-test
start=$(date +%s)
checks=0
log() { printf '%s: %s\n' "$NAME" "$*"; }
ok() {
	checks=$((checks + 1))
	printf '%s: ok: %s\n' "$NAME" "$*"
}
fail() {
	printf '%s: FAIL: %s\n' "$NAME" "$*" >&2
	exit 1
}

# A test that cannot run fails: it must not pass by skipping.
[ "$(id -u)" = 0 ] || fail "must run as root (buildah, debootstrap)"

here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/../..}
export DEBIAN_FRONTEND=noninteractive

# --- tools -------------------------------------------------------------------
need=""
for t in buildah:buildah debootstrap:debootstrap curl:curl openssl:openssl \
    ss:iproute2 python3:python3 sha256sum:coreutils; do
	command -v "${t%%:*}" >/dev/null || need="$need ${t#*:}"
done
if [ -n "$need" ]; then
	log "installing:$need"
	# shellcheck disable=SC2086 # a list of package names
	{ apt-get update -q && apt-get install -y -q --no-install-recommends \
	    $need; } >/dev/null || fail "apt-get could not install$need"
fi
if ! command -v s3rver >/dev/null; then
	command -v npm >/dev/null || { apt-get update -q &&
	    apt-get install -y -q --no-install-recommends nodejs npm; } >/dev/null ||
		fail "apt-get could not install npm"
	npm install -g --no-audit --no-fund s3rver@3.7.1 >/dev/null ||
		fail "npm could not install s3rver"
fi

W=$(mktemp -d -t sp-image-test.XXXXXX)
TAG=localhost/storage-proxy:image-test-$$
PIDS=""
CTRS=""
cleanup() {
	rc=$?
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	for c in $CTRS; do buildah rm "$c" >/dev/null 2>&1 || true; done
	buildah rmi "$TAG" >/dev/null 2>&1 || true
	if [ "$rc" -ne 0 ]; then
		for f in "$W"/*.log; do
			[ -s "$f" ] || continue
			echo "---- $(basename "$f") (last 30 lines)"
			tail -n 30 "$f"
		done
		printf '%s: FAIL (%ss)\n' "$NAME" "$(($(date +%s) - start))"
	fi
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build context -----------------------------------------------------------
mkdir "$W/ctx"
if [ -f "$src" ]; then
	tar -xzf "$src" -C "$W/ctx" || fail "cannot unpack $src"
	ctx=$(echo "$W"/ctx/*/)
elif [ -d "$src/.git" ] || [ -f "$src/.git" ]; then
	# Not the whole directory: an in-tree build's objects and configure
	# output would go into the image's build stage.
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
	    tar --null -T - -c) | tar -x -C "$W/ctx" ||
		fail "cannot copy the git checkout $src"
	ctx=$W/ctx
elif [ -d "$src" ]; then
	ctx=$(cd "$src" && pwd)
else
	fail "no source tree or tarball at $src"
fi
[ -f "$ctx/contrib/docker/Dockerfile" ] || fail "no contrib/docker/Dockerfile in $src"

# --- base image --------------------------------------------------------------
# The Debian mirror apt uses here, for debootstrap and the image's apt.
apt_uris() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^URIs:[[:space:]]*//p' \
		    -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\([^[:space:]]*\).*/\2/p' |
		tr ' ' '\n'
}
mirror=${DEBIAN_MIRROR:-$(apt_uris | grep -E '/debian/?$' | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}
security=$(apt_uris | grep -E '/debian-security/?$' | head -n 1 || true)
LOCAL_BASE=localhost/debian:12-slim

# make_base: Debian 12 minbase (what debian:12-slim is, less the trimming)
# from the debootstrap tarball, made once and kept in IMAGE_TEST_CACHE for
# 30 days; the image's apt-get update brings current packages anyway.
make_base() {
	cache=${IMAGE_TEST_CACHE:-/var/cache/storage-proxy-image-test}
	tarball=$cache/debian-12-minbase.tar
	mkdir -p "$cache"
	if [ -z "$(find "$tarball" -mtime -30 2>/dev/null)" ]; then
		log "debootstrap bookworm from $mirror (once; cached in $cache)"
		t0=$(date +%s)
		rootfs=$W/rootfs
		debootstrap --variant=minbase bookworm "$rootfs" "$mirror" \
		    >"$W/debootstrap.log" 2>&1 || fail "debootstrap failed"
		rm -rf "$rootfs"/var/cache/apt/archives/*.deb \
		    "$rootfs"/var/lib/apt/lists/*
		# Updates and security fixes, as debian:12-slim has them.
		{
			printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\n' "$mirror"
			printf 'Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
			if [ -n "$security" ]; then
				printf '\nTypes: deb\nURIs: %s\nSuites: bookworm-security\n' "$security"
				printf 'Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
			fi
		} >"$rootfs/etc/apt/sources.list.d/debian.sources"
		rm -f "$rootfs/etc/apt/sources.list"
		{ tar -C "$rootfs" -cf "$tarball.new" . &&
		    mv "$tarball.new" "$tarball"; } || fail "cannot write $tarball"
		rm -rf "$rootfs"
		log "debootstrap took $(($(date +%s) - t0))s"
	fi
	b=$(buildah from scratch) || fail "buildah from scratch failed"
	CTRS="$CTRS $b"
	mnt=$(buildah mount "$b") || fail "buildah mount failed"
	tar -xf "$tarball" -C "$mnt" || fail "cannot unpack $tarball"
	buildah umount "$b" >/dev/null
	buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    --cmd bash "$b"
	buildah commit -q "$b" "$LOCAL_BASE" >/dev/null || fail "buildah commit of the base failed"
	buildah rm "$b" >/dev/null
}

if [ -n "${IMAGE_TEST_BASE:-}" ]; then
	base=$IMAGE_TEST_BASE
elif timeout 30 buildah pull -q docker.io/library/debian:12-slim >/dev/null 2>&1; then
	base=docker.io/library/debian:12-slim
else
	base=$LOCAL_BASE
	if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
		make_base
	fi
	log "no registry reachable: base image $base (local, debootstrap)"
fi

# --- build -------------------------------------------------------------------
# Docker format: OCI image configs have no HEALTHCHECK.
t0=$(date +%s)
buildah build --isolation chroot --format docker --pull=false \
    --build-arg BASE="$base" -f "$ctx/contrib/docker/Dockerfile" -t "$TAG" \
    "$ctx" >"$W/build.log" 2>&1 || fail "buildah build failed"
ok "image built from $base in $(($(date +%s) - t0))s"

# --- the image's configuration -----------------------------------------------
cfg() { buildah inspect --type image --format "{{$1}}" "$TAG"; }
user=$(cfg .Docker.Config.User)
case ${user%%:*} in
'' | 0 | root) fail "the image runs as root (USER '$user')" ;;
esac
uid=${user%%:*}
mapfile -t entrypoint < <(buildah inspect --type image \
    --format '{{range .Docker.Config.Entrypoint}}{{.}}{{"\n"}}{{end}}' "$TAG")
[ "${#entrypoint[@]}" -gt 0 ] || fail "the image has no ENTRYPOINT"
mapfile -t hc < <(buildah inspect --type image \
    --format '{{if .Docker.Config.Healthcheck}}{{range .Docker.Config.Healthcheck.Test}}{{.}}{{"\n"}}{{end}}{{end}}' "$TAG")
case ${hc[0]:-} in
CMD) hc=("${hc[@]:1}") ;;
CMD-SHELL) hc=(/bin/sh -c "${hc[1]}") ;;
*) fail "the image has no HEALTHCHECK" ;;
esac
env=$(buildah inspect --type image \
    --format '{{range .Docker.Config.Env}}{{.}}{{"\n"}}{{end}}' "$TAG")
metrics=$(printf '%s\n' "$env" | sed -n 's/^STORAGE_PROXY_METRICS_LISTEN=//p')
[ -n "$metrics" ] || fail "the image sets no STORAGE_PROXY_METRICS_LISTEN"
# shellcheck disable=SC2016 # a Go template, not shell
ports=$(buildah inspect --type image \
    --format '{{range $p, $v := .Docker.Config.ExposedPorts}}{{$p}} {{end}}' "$TAG")
for p in 9000/tcp 9100/tcp; do
	case " $ports" in *" $p "*) ;;
	*) fail "the image does not expose $p (EXPOSE $ports)" ;;
	esac
done
ok "USER $user, ENTRYPOINT ${entrypoint[*]}, HEALTHCHECK ${hc[*]}, STORAGE_PROXY_METRICS_LISTEN=$metrics, EXPOSE $ports"

ctr=$(buildah from --pull-never "$TAG") || fail "buildah from $TAG failed"
CTRS="$CTRS $ctr"
# run_in CMD...: a command in the image, as its USER, on the host's network.
run_in() { buildah run --isolation chroot --network host "${RUN_OPTS[@]}" "$ctr" -- "$@"; }
RUN_OPTS=()

[ "$(run_in id -u)" = "$uid" ] || fail "commands in the image do not run as uid $uid"
missing=$(run_in ldd "${entrypoint[0]}" | grep 'not found' || true)
[ -z "$missing" ] || fail "libraries missing in the image: $missing"
ok "ldd ${entrypoint[0]}: every library resolves"
# Build-only packages: headers, compilers, make.
# shellcheck disable=SC2016 # dpkg-query's format, not shell
dev=$(run_in dpkg-query -W -f '${Package}\n' |
    grep -E -- '-dev$|^(gcc|g\+\+|cpp)(-[0-9]+)?$|^binutils|^make$|^autoconf|^automake|^pkg-config|^pkgconf' || true)
[ -z "$dev" ] || fail "build packages in the runtime image: ${dev//$'\n'/ }"
ok "no -dev package, compiler or make in the image"
version=$(run_in "${entrypoint[@]}" --version) || fail "${entrypoint[*]} --version failed"
ok "runs: $version"
# The HEALTHCHECK needs the metrics listener.
run_in "${entrypoint[@]}" --help | grep -q -- --metrics-listen ||
	fail "this storage-proxy has no --metrics-listen for the HEALTHCHECK"

# --- the health check command, against a stand-in /healthz ---------------------
# Checked with any binary: the script answers 0 for a 200 and fails for
# anything else.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() { # PORT PID WHAT
	i=0
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		kill -0 "$2" 2>/dev/null || fail "$3 exited during start-up (see its log)"
		i=$((i + 1))
		[ "$i" -lt 300 ] || fail "$3 did not listen on port $1 within 30s"
		sleep 0.1
	done
}
mkdir "$W/www"
echo ok >"$W/www/healthz"
hport=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$W/www" "$hport" \
    >"$W/standin.log" 2>&1 &
hpid=$!
PIDS="$PIDS $hpid"
wait_port "$hport" "$hpid" "stand-in health server"
RUN_OPTS=(-e "STORAGE_PROXY_METRICS_LISTEN=0.0.0.0:$hport")
run_in "${hc[@]}" >"$W/hc.log" 2>&1 ||
	fail "HEALTHCHECK fails against a /healthz that answers 200: $(cat "$W/hc.log")"
rm "$W/www/healthz"
! run_in "${hc[@]}" >"$W/hc.log" 2>&1 ||
	fail "HEALTHCHECK passes though /healthz answers 404"
ok "HEALTHCHECK: exit 0 for a 200, non-zero for a 404 ($(head -n 1 "$W/hc.log"))"
kill "$hpid"
RUN_OPTS=()

# --- the image against s3rver ----------------------------------------------------
mkdir -p "$W/cert" "$W/s3data"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
    -subj /CN=s3.docker.mender.io \
    -addext "subjectAltName=DNS:s3.docker.mender.io,DNS:localhost,IP:127.0.0.1" \
    -keyout "$W/cert/private.key" -out "$W/cert/cert.crt" >"$W/openssl.log" 2>&1 ||
	fail "openssl could not make a certificate"
# As an operator would: the key private to root and the image's group.
chown "0:${user#*:}" "$W/cert/private.key"
chmod 0640 "$W/cert/private.key"
chmod 0755 "$W" "$W/cert"

s3port=$(free_port)
s3rver -d "$W/s3data" -a 127.0.0.1 -p "$s3port" --silent --no-vhost-buckets \
    >"$W/s3rver.log" 2>&1 &
s3pid=$!
PIDS="$PIDS $s3pid"
wait_port "$s3port" "$s3pid" s3rver
curl -sSf -X PUT "http://127.0.0.1:$s3port/image-test" >/dev/null ||
	fail "cannot create a bucket in s3rver"

# The image's own ports, unless something here already holds them.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
RUN_OPTS=(-v "$W/cert:/var/www/storage-proxy/cert:ro"
	-e "STORAGE_PROXY_UPSTREAM=http://127.0.0.1:$s3port")
pport=9000
if port_busy 9000; then
	pport=$(free_port)
	RUN_OPTS+=(-e "STORAGE_PROXY_PORT=$pport")
	log "port 9000 is taken here: the proxy listens on $pport"
fi
mport=${metrics##*:}
if port_busy "$mport"; then
	mport=$(free_port)
	RUN_OPTS+=(-e "STORAGE_PROXY_METRICS_LISTEN=0.0.0.0:$mport")
	log "port ${metrics##*:} is taken here: metrics on $mport"
fi
run_in "${entrypoint[@]}" >"$W/proxy.log" 2>"$W/proxy-err.log" &
rpid=$!
PIDS="$PIDS $rpid"
wait_port "$pport" "$rpid" "the image's entrypoint"
# The listener's process: it must be the image's user, with no capability.
ppid=$(ss -Hltnp "sport = :$pport" | sed -n 's/.*pid=\([0-9]*\),.*/\1/p' | head -n 1)
[ -n "$ppid" ] || fail "no process found listening on port $pport"
PIDS="$ppid $PIDS"
read -r _ ruid euid _ < <(grep '^Uid:' "/proc/$ppid/status")
[ "$ruid" = "$uid" ] || fail "the proxy runs as uid $ruid, not $uid"
[ "$euid" = "$uid" ] ||
	fail "the proxy runs as uid $ruid/$euid, not $uid"
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$ppid/status")
[ "$capeff" = 0000000000000000 ] || fail "the proxy has capabilities $capeff"
ok "entrypoint listens on port $pport as uid $uid with no capabilities, key read from the mounted private.key"

head -c $((8 * 1024 * 1024)) /dev/urandom >"$W/object"
url=https://s3.docker.mender.io:$pport/image-test/object
copt=(-sS --fail --cacert "$W/cert/cert.crt"
	--resolve "s3.docker.mender.io:$pport:127.0.0.1")
curl "${copt[@]}" -T "$W/object" "$url" >"$W/put.log" ||
	fail "PUT through the image failed: $(cat "$W/put.log")"
curl "${copt[@]}" -o "$W/object.down" "$url" ||
	fail "GET through the image failed"
a=$(sha256sum <"$W/object" | cut -d' ' -f1)
b=$(sha256sum <"$W/object.down" | cut -d' ' -f1)
[ "$a" = "$b" ] || fail "downloaded object differs: sha256 $b, uploaded $a"
ok "8 MiB object up and down through the image over TLS: sha256 $a"

# The health check against the proxy itself, from inside the image.
hc_env=()
[ "$mport" = "${metrics##*:}" ] || hc_env=(-e "STORAGE_PROXY_METRICS_LISTEN=0.0.0.0:$mport")
RUN_OPTS=("${hc_env[@]}")
i=0
until run_in "${hc[@]}" >"$W/hc.log" 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 20 ] || fail "HEALTHCHECK fails on the running proxy: $(cat "$W/hc.log")"
	sleep 0.5
done
ready=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/readyz") || true
[ "$ready" = 200 ] || fail "/readyz answers '$ready', not 200"
ok "HEALTHCHECK passes on the running proxy; /readyz 200 (metrics on port $mport)"

kill "$ppid"
wait "$rpid" 2>/dev/null || true
RUN_OPTS=("${hc_env[@]}")
! run_in "${hc[@]}" >"$W/hc.log" 2>&1 || fail "HEALTHCHECK passes with the proxy stopped"
ok "HEALTHCHECK fails with the proxy stopped"

log "PASS ($checks checks, $(($(date +%s) - start))s)"
