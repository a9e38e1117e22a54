# shellcheck shell=bash disable=SC2034 # variables set here are for the tests
# Shared by the hostile_*.sh tests, sourced after lib.sh: the recording
# backend (hostile.py backend) and the runner of a table of raw requests
# (hostile.py case, one call per row).

HOSTILE=$HERE/hostile.py
CASES=0
FAILS=0

# start_hostile_backend: sets BACKEND_PORT and BACKEND_DIR (all.bin holds
# every byte the backend received, requests.log one line per request).
start_hostile_backend() {
	BACKEND_DIR=$T/backend
	start_py backend hostile.py backend --dir "$BACKEND_DIR"
	BACKEND_PORT=$PY_PORT
}

trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

# run_table [hostile.py case options]: runs the table on stdin against the
# proxy ($PROXY_PORT, TLS unless --plain) and the backend.  One row a line,
# "#" lines and blank lines skipped, columns separated by "|":
#   name | statuses | close | code | backend | client | request
# statuses: "400", "200,200" (two answers), "400/413" (either); close: yes,
# no or any (did the proxy close the connection); code: the S3 error Code
# of the last answer, "-" for no check; backend and client: the checks of
# hostile.py case --want-backend / --want-client ("nothing": the backend
# received no byte; "-": no check); request: the raw bytes, with Python's
# escapes (\r \n \xHH), everything after the sixth "|" up to the line's
# end (white space around it trimmed: write a space there as \x20).
# @NAME@ anywhere in a row is replaced by the value of the shell variable
# NAME.
# Each row prints "ok|FAIL NAME: got ... expected ...; backend got N
# bytes", then "ok|FAIL log NAME: ..." for its access-log line.
run_table() {
	local row name st cl code be cli req
	while IFS= read -r row; do
		case $(trim "$row") in '' | '#'*) continue ;; esac
		while [[ $row =~ @([A-Z][A-Z0-9_]*)@ ]]; do
			row=${row//"${BASH_REMATCH[0]}"/${!BASH_REMATCH[1]}}
		done
		IFS='|' read -r name st cl code be cli req <<<"$row"
		name=$(trim "$name"); st=$(trim "$st"); cl=$(trim "$cl")
		code=$(trim "$code"); be=$(trim "$be"); cli=$(trim "$cli")
		req=$(trim "$req")
		[ "$be" != - ] || be=any
		[ "$cli" != - ] || cli=any
		CASES=$((CASES + 1))
		$PY "$HOSTILE" case --port "$PROXY_PORT" --backend "$BACKEND_DIR" \
			--log "$T/proxy.log" --name "$name" --want-status "$st" \
			--want-close "$cl" --want-code "$code" --want-backend "$be" \
			--want-client "$cli" "$@" "$req" </dev/null ||
			FAILS=$((FAILS + 1))
	done
}

# report NAME GOOD GOT EXPECTED [DETAIL]: one line in the tables' format
# for a check done in the script itself.
report() {
	CASES=$((CASES + 1))
	if [ "$2" = 1 ]; then
		printf 'ok %s: got %s expected %s%s\n' "$1" "$3" "$4" "${5:+; $5}"
	else
		printf 'FAIL %s: got %s expected %s%s\n' "$1" "$3" "$4" "${5:+; $5}"
		FAILS=$((FAILS + 1))
	fi
}

# backend_bytes: the size of everything the backend received so far.
backend_bytes() {
	stat -c %s "$BACKEND_DIR/all.bin" 2>/dev/null || echo 0
}

# finish: the verdict over all cases; never a skip.
finish() {
	proxy_alive
	[ "$FAILS" -eq 0 ] || fail "$FAILS of $CASES cases failed"
	ok "all $CASES cases"
}
