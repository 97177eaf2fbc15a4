# A private rtcs-serve for client tests, and attached devices on FIFOs.
# Usage: load client_server; setup() { start_server; }; teardown() { stop_server; }
# The server binary: $RTCS_SERVE, else $RTCS_BIN/rtcs-serve.

: "${RTCS_SERVE:=$RTCS_BIN/rtcs-serve}"

have_server() {
	[ -x "$RTCS_SERVE" ]
}

# Starts rtcs-serve on a fresh socket and store; returns once it says "ready".
start_server() {
	have_server || skip "no rtcs-serve binary ($RTCS_SERVE)"
	T=$(rtcs_tmpdir)
	export RTCS_SOCKET="$T/sock" RTCS_KEYS="$T/keys"
	mkfifo "$T/ready"
	"$RTCS_SERVE" -S "$T/sock" -D "$T/store" --ready-fd 3 3>"$T/ready" 2>"$T/serve.log" &
	SERVE_PID=$!
	local line=""
	read -r -t 20 line <"$T/ready" || true
	if [ "$line" != "ready" ]; then
		cat "$T/serve.log" >&2
		false "rtcs-serve did not become ready"
	fi
}

stop_server() {
	local n
	for n in "${ATTACH_PIDS[@]}"; do
		kill "$n" 2>/dev/null || true
	done
	if [ -n "${SERVE_PID:-}" ]; then
		kill "$SERVE_PID" 2>/dev/null || true
		wait "$SERVE_PID" 2>/dev/null || true
	fi
	[ -n "${T:-}" ] && rm -rf "$T"
	return 0
}

# attach_start NAME SESSION DEVICE [ARGS...]: rtcs-session attach with stdin
# and stdout on FIFOs; the test writes lines with say NAME and reads with expect_line NAME.
ATTACH_PIDS=()
attach_start() {
	local name=$1 sid=$2 dev=$3 fd
	shift 3
	mkfifo "$T/$name.in" "$T/$name.out"
	rtcs-session attach "$sid" --as "$dev" "$@" <"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" 3>&- &
	ATTACH_PIDS+=($!)
	eval "PID_$name=$!"
	exec {fd}>"$T/$name.in"
	eval "IN_$name=$fd"
	exec {fd}<"$T/$name.out"
	eval "OUT_$name=$fd"
}

say() {
	local fd
	eval "fd=\$IN_$1"
	printf '%s\n' "$2" >&"$fd"
}

# Closes NAME's stdin (the attached device keeps receiving).
hang_up() {
	local fd
	eval "fd=\$IN_$1"
	exec {fd}>&-
}

# expect_line NAME PATTERN: reads NAME's output until a line matches the
# extended regex PATTERN (at most 200 lines, 10 s each); the line is in $LINE.
expect_line() {
	local fd i
	eval "fd=\$OUT_$1"
	for ((i = 0; i < 200; i++)); do
		if ! IFS= read -r -t 10 -u "$fd" LINE; then
			echo "attach $1: no line matching '$2' (stderr: $(cat "$T/$1.err"))" >&2
			return 1
		fi
		[[ $LINE =~ $2 ]] && return 0
	done
	return 1
}

# attach_wait NAME: waits for NAME's attach to exit; its status is in $STATUS.
attach_wait() {
	local pid
	eval "pid=\$PID_$1"
	STATUS=0
	wait "$pid" || STATUS=$?
}

# expect_all NAME PATTERN...: reads NAME's output until every PATTERN has
# matched some line, in any order.
expect_all() {
	local name=$1 fd i p left
	shift
	local -a want=("$@")
	eval "fd=\$OUT_$name"
	for ((i = 0; i < 500; i++)); do
		left=0
		for p in "${!want[@]}"; do
			[ -n "${want[$p]}" ] && left=1
		done
		[ "$left" -eq 0 ] && return 0
		if ! IFS= read -r -t 10 -u "$fd" LINE; then
			echo "attach $name: still waiting for: ${want[*]}" >&2
			return 1
		fi
		for p in "${!want[@]}"; do
			[ -n "${want[$p]}" ] && [[ $LINE =~ ${want[$p]} ]] && want[$p]=""
		done
	done
	return 1
}
