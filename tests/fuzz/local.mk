# Fuzz harnesses, for the top-level Makefile.am:
#   include tests/fuzz/local.mk
#   check_PROGRAMS = ... $(fuzz_replay_tests)
#   TESTS = ... $(fuzz_replay_tests)
#   EXTRA_DIST = ... $(fuzz_extra)
# Each harness built with the ordinary compiler is a replay program: as a
# test it runs once on every file of its committed corpus,
# $(srcdir)/tests/fuzz/corpus/NAME, checking the same invariants as under
# afl-fuzz.  contrib/fuzz.sh builds the same sources with afl-clang-fast
# and the sanitizers and fuzzes them (keep its source lists in step).
fuzz_replay_tests = \
	tests/fuzz/fuzz_httpcheck \
	tests/fuzz/fuzz_headers \
	tests/fuzz/fuzz_target \
	tests/fuzz/fuzz_clientaddr \
	tests/fuzz/fuzz_units \
	tests/fuzz/fuzz_log_escape \
	tests/fuzz/fuzz_config

fuzz_cflags = $(AM_CFLAGS) -I$(top_srcdir)/src

tests_fuzz_fuzz_httpcheck_SOURCES = tests/fuzz/fuzz_httpcheck.c \
	tests/fuzz/fuzz.h src/httpcheck.c
tests_fuzz_fuzz_httpcheck_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_headers_SOURCES = tests/fuzz/fuzz_headers.c \
	tests/fuzz/fuzz.h src/headers.c
tests_fuzz_fuzz_headers_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_target_SOURCES = tests/fuzz/fuzz_target.c \
	tests/fuzz/fuzz.h src/target.c
tests_fuzz_fuzz_target_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_clientaddr_SOURCES = tests/fuzz/fuzz_clientaddr.c \
	tests/fuzz/fuzz.h src/clientaddr.c
tests_fuzz_fuzz_clientaddr_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_units_SOURCES = tests/fuzz/fuzz_units.c \
	tests/fuzz/fuzz.h src/units.c
tests_fuzz_fuzz_units_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_log_escape_SOURCES = tests/fuzz/fuzz_log_escape.c \
	tests/fuzz/fuzz.h src/log.c
tests_fuzz_fuzz_log_escape_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c \
	tests/fuzz/fuzz.h src/config.c src/clientaddr.c src/log.c src/redisurl.c \
	src/target.c src/units.c
tests_fuzz_fuzz_config_CFLAGS = $(fuzz_cflags)

# The corpus and dictionary directories go into the tarball whole, so an
# input added to them (a minimised find, a crash's reproducer) is replayed
# by make check and distcheck without further listing.
fuzz_extra = \
	tests/fuzz/local.mk \
	tests/fuzz/corpus \
	tests/fuzz/dict \
	contrib/fuzz.sh
