#!/bin/bash
# Sets up a Debian 12 machine (as root) and runs the whole test suite:
# install dependencies, build, unit and integration tests, distcheck, a
# short fuzzing run of each parser, and the container image, built and run.
# The last line is "N passed, N failed".
# Usage: bash contrib/run-tests.sh   (CI runs it through .ci/run)
set -eu
cd "$(dirname "$0")/.."

bash contrib/setup-debian.sh

# Counts automake's per-test results (.trs files) under the build tree.
summary() {
	pass=0 fail=0 skip=0
	while IFS= read -r f; do
		while IFS= read -r line; do
			case $line in
			":test-result: PASS"* | ":test-result: XFAIL"*) pass=$((pass + 1)) ;;
			":test-result: SKIP"*) skip=$((skip + 1)) ;;
			":test-result: "*) fail=$((fail + 1)) ;; # FAIL, XPASS, ERROR
			esac
		done <"$f"
	done < <(find . -path ./storage-proxy-\* -prune -o -name '*.trs' -print)
	if [ "$skip" -gt 0 ]; then
		echo "$pass passed, $fail failed, $skip skipped"
	else
		echo "$pass passed, $fail failed"
	fi
}

show_logs() {
	find . -name test-suite.log -print | while IFS= read -r f; do
		echo "==== $f"
		cat "$f"
	done
}

autoreconf -fi
./configure
make -j2

if ! make -j2 check; then
	show_logs
	summary
	exit 1
fi
result=$(summary)

# distcheck repeats the tests in a clean VPATH build from the tarball;
# its failure counts as one more failed test.
if ! make -j2 distcheck; then
	show_logs
	echo "make distcheck failed"
	pass=${result%% passed*}
	failed=${result#*passed, }
	echo "$pass passed, $((${failed%% failed*} + 1)) failed"
	exit 1
fi

# Each fuzz harness for 30 s from the committed corpus (AFL++ with ASan and
# UBSan); a harness that crashes counts as one more failed test.
mkdir -p fuzz-build
if ! sh contrib/fuzz.sh 30 >fuzz-build/run-tests.log 2>&1; then
	cat fuzz-build/run-tests.log
	n=$(sed -n 's/^fuzz.sh: FAILED: \([0-9][0-9]*\) .*/\1/p' \
	    fuzz-build/run-tests.log)
	pass=${result%% passed*}
	failed=${result#*passed, }
	echo "$pass passed, $((${failed%% failed*} + ${n:-1})) failed"
	exit 1
fi
sed -n '/^fuzz.sh: summary/,$p' fuzz-build/run-tests.log

# The container image, built from the distribution tarball with buildah
# (no Docker engine here) and run against s3rver; its failure counts as
# one more failed test.
if ! bash contrib/docker/image-test.sh storage-proxy-*.tar.gz \
    >image-test.log 2>&1; then
	cat image-test.log
	pass=${result%% passed*}
	failed=${result#*passed, }
	echo "$pass passed, $((${failed%% failed*} + 1)) failed"
	exit 1
fi
grep '^image-test: ' image-test.log
echo "$result"
