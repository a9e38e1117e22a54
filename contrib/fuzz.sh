#!/bin/sh
# AFL++ fuzzing of the pure parsers (tests/fuzz/fuzz_*.c).
# Usage: sh contrib/fuzz.sh [SECONDS] [NAME...]
#   Builds each harness with afl-clang-fast, AddressSanitizer and
#   UndefinedBehaviorSanitizer (persistent mode) into $FUZZ_BUILD
#   (default: fuzz-build/ in the source tree), then runs the named ones
#   (default: all), one after another, each for SECONDS (default 600)
#   from the committed corpus tests/fuzz/corpus/NAME with its dictionary.
#   Prints one line per harness from afl-fuzz's fuzzer_stats and exits 1
#   if any harness crashed (or could not run), listing the reproducers;
#   the last line then says how many: "fuzz.sh: FAILED: N harness(es) ...".
#   Replay one with the plain build: tests/fuzz/fuzz_NAME FILE (make check
#   builds them); a crash becomes a unit test in tests/unit/.
# Needs Debian's afl++ (contrib/setup-debian.sh installs it).  Works as
# root without touching /proc/sys settings; leaves no process running.
set -eu
cd "$(dirname "$0")/.."

all="httpcheck headers target clientaddr units log_escape config"
secs=600
if [ $# -gt 0 ]; then
	case $1 in
	*[!0-9]* | "") ;;
	*) secs=$1; shift ;;
	esac
fi
names=${*:-$all}

# The sources each harness is compiled with (as in tests/fuzz/local.mk).
sources() {
	case $1 in
	httpcheck) echo src/httpcheck.c ;;
	headers) echo src/headers.c ;;
	target) echo src/target.c ;;
	clientaddr) echo src/clientaddr.c ;;
	units) echo src/units.c ;;
	log_escape) echo src/log.c ;;
	config) echo src/config.c src/clientaddr.c src/log.c src/redisurl.c src/target.c \
	    src/units.c ;;
	*) return 1 ;;
	esac
}

for n in $names; do
	sources "$n" >/dev/null || { echo "fuzz.sh: no harness '$n' (have: $all)" >&2; exit 2; }
done
if ! command -v afl-fuzz >/dev/null || ! command -v afl-clang-fast >/dev/null; then
	echo "fuzz.sh: afl-fuzz/afl-clang-fast not found (apt-get install afl++)" >&2
	exit 2
fi

build=${FUZZ_BUILD:-fuzz-build}
mkdir -p "$build/out"

# Kill the running fuzzer if we are interrupted: nothing stays behind.
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}
trap 'cleanup; exit 130' INT TERM HUP
trap cleanup EXIT

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_QUIET=1

stat_of() {	# stat_of FILE KEY
	sed -n "s/^$2 *: *//p" "$1" | head -n 1
}

failed=0
report=
for n in $names; do
	bin=$build/fuzz_$n
	# shellcheck disable=SC2046 # the source list is split on purpose
	if ! AFL_USE_ASAN=1 AFL_USE_UBSAN=1 afl-clang-fast -g -O2 \
	    -D_GNU_SOURCE -DPACKAGE_VERSION='"fuzz"' -Isrc -Itests/fuzz \
	    -o "$bin" "tests/fuzz/fuzz_$n.c" $(sources "$n") \
	    >"$build/build_$n.log" 2>&1; then
		cat "$build/build_$n.log" >&2
		echo "fuzz.sh: building fuzz_$n failed" >&2
		exit 2
	fi

	out=$build/out/$n
	rm -rf "$out"
	set -- -i "tests/fuzz/corpus/$n" -o "$out" -V "$secs"
	[ -f "tests/fuzz/dict/$n.dict" ] && set -- "$@" -x "tests/fuzz/dict/$n.dict"
	echo "fuzz.sh: fuzz_$n for ${secs}s (log: $build/fuzz_$n.log)" >&2
	# The guard only matters if afl-fuzz ignored -V.
	timeout -k 10 $((secs + 300)) afl-fuzz "$@" -- "$bin" \
	    >"$build/fuzz_$n.log" 2>&1 &
	pid=$!
	rc=0
	wait "$pid" || rc=$?
	pid=

	st=$out/default/fuzzer_stats
	if [ ! -f "$st" ]; then
		tail -n 30 "$build/fuzz_$n.log" >&2
		echo "$n: afl-fuzz did not run (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	crashes=$(stat_of "$st" saved_crashes)
	[ -n "$crashes" ] || crashes=$(stat_of "$st" unique_crashes)
	hangs=$(stat_of "$st" saved_hangs)
	[ -n "$hangs" ] || hangs=$(stat_of "$st" unique_hangs)
	line="$n: run_time=$(stat_of "$st" run_time)s"
	line="$line execs_done=$(stat_of "$st" execs_done)"
	line="$line execs_per_sec=$(stat_of "$st" execs_per_sec)"
	line="$line corpus_count=$(stat_of "$st" corpus_count)"
	line="$line saved_crashes=${crashes:-?} saved_hangs=${hangs:-?}"
	echo "$line"
	report="$report$line
"
	if [ "${crashes:-0}" != 0 ] || [ $rc -ne 0 ]; then
		failed=$((failed + 1))
		[ $rc -eq 0 ] || echo "$n: afl-fuzz exited with status $rc"
		k=0
		for f in "$out"/default/crashes/id:*; do
			[ -f "$f" ] || continue
			k=$((k + 1))
			[ $k -le 10 ] && echo "$n: crash reproducer: $f"
		done
		[ $k -le 10 ] || echo "$n: ... $((k - 10)) more in $out/default/crashes"
	fi
	if [ "${hangs:-0}" != 0 ]; then
		for f in "$out"/default/hangs/id:*; do
			[ -f "$f" ] && echo "$n: hang (not counted as a failure; check it): $f"
		done | head -n 10
	fi
done

echo "fuzz.sh: summary (${secs}s each)"
printf '%s' "$report"
if [ $failed -ne 0 ]; then
	echo "fuzz.sh: FAILED: $failed harness(es) crashed or did not run"
	exit 1
fi
echo "fuzz.sh: no crash"
