# shellcheck shell=bash disable=SC2034 # variables set here are for the tests
# Shared by the tests of slow and stalled clients (stalled_*.sh,
# slowloris.sh, address_cap.sh, client_limit.sh), sourced after lib.sh.

# cpu_seconds: the proxy's CPU time so far (utime + stime), in seconds.
cpu_seconds() {
	sed 's/.*) //' "/proc/$PROXY_PID/stat" |
		awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($12 + $13) / hz }'
}

# start_stall NAME PORT N MODE [stall_clients.py options]: runs
# stall_clients.py in the background and waits until it tried all N
# connections.  Sets STALL_PID, STALL_OPENED (connections made) and
# STALL_LIVE (of those, not closed by then); its result line goes to
# $T/NAME.out (stall_result NAME waits for it).
start_stall() {
	local name=$1 i=0
	shift
	$PY "$HERE/stall_clients.py" "$@" --ready "$T/$name.ready" \
		>"$T/$name.out" 2>"$T/$name.log" &
	STALL_PID=$!
	PIDS="$PIDS $STALL_PID"
	until [ -s "$T/$name.ready" ]; do
		kill -0 "$STALL_PID" 2>/dev/null ||
			fail "stall_clients.py ($name) exited: $(tail -n 3 "$T/$name.log")"
		i=$((i + 1))
		[ "$i" -lt 1200 ] || fail "stall_clients.py ($name) not done opening in 120 s"
		sleep 0.1
	done
	read -r _ STALL_OPENED _ STALL_LIVE <"$T/$name.ready"
}

# stall_result NAME: waits for stall_clients.py NAME and sets STALL_RESULT
# to its key=value line.
stall_result() {
	wait "$STALL_PID" || fail "stall_clients.py ($1) failed: $(tail -n 3 "$T/$1.log")"
	STALL_RESULT=$(cat "$T/$1.out")
}

# field KEY: the value of KEY in $STALL_RESULT.
field() {
	printf '%s\n' "$STALL_RESULT" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# elapsed_since T0: seconds since T0 (date +%s.%N).
elapsed_since() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f\n", b - a }'
}

# less_than A B: whether A < B (decimals).
less_than() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# stalled_window MODE WHAT: the body of stalled_handshake.sh and
# stalled_headers.sh.  Starts a backend serving 1 MiB and the proxy, holds
# 50 clients stalled in MODE (stall_clients.py) for 5 s, and fails unless
# all 50 stay open through the window, the proxy's CPU in it is under
# 0.5 s, and a GET made meanwhile gets 200 with every byte.  WHAT names
# the clients in messages.
stalled_window() {
	local mode=$1 what=$2 n=50 size=$((1024 * 1024)) window=5 code c0 t0 cpu
	make_cert "$T/cert"
	start_py serve fault_server.py --mode serve --size "$size"
	start_proxy --upstream "http://127.0.0.1:$PY_PORT"
	head -c "$size" /dev/zero | tr '\0' y >"$T/expected"

	start_stall stall "$PROXY_PORT" "$n" "$mode" --hold $((window + 1))
	[ "$STALL_OPENED" = "$n" ] || fail "only $STALL_OPENED of $n $what got that far"
	c0=$(cpu_seconds)
	t0=$(date +%s.%N)
	code=$(curl -sS --max-time 10 --cacert "$CERT" -o "$T/body" -w '%{http_code}' \
		"$PROXY_URL/b/k" 2>"$T/curl.err") || code="curl failed: $(cat "$T/curl.err")"
	sleep "$(awk -v e="$(elapsed_since "$t0")" -v w="$window" 'BEGIN { print (w > e ? w - e : 0) }')"
	cpu=$(awk -v a="$c0" -v b="$(cpu_seconds)" 'BEGIN { printf "%.2f", b - a }')
	stall_result stall
	# Else the window would have measured closed connections, not
	# stalled ones.
	[ "$(field open)" = "$n" ] ||
		fail "not all $n $what lasted the window: $STALL_RESULT"
	less_than "$cpu" 0.5 ||
		fail "proxy used $cpu CPU-s in $window s with $n $what (limit 0.5)"
	ok "$n $what: proxy CPU $cpu s in $window s (< 0.5)"
	[ "$code" = 200 ] || fail "GET during the stall: $code"
	same_sha "$T/expected" "$T/body" "GET during $n $what: 200"
	proxy_alive
}
