# rtcs-testing: bats helpers for testing with rtcs in CI (rtcs-testing(7)).
#
# Installed by "make install" as $PREFIX/lib/bats/rtcs-testing/load.bash;
# in a bats file:
#   bats_load_library rtcs-testing       # BATS_LIB_PATH=/usr/local/lib/bats:/usr/lib/bats
#   setup()    { rtcs_server_start; rtcs_session 2; }
#   teardown() { rtcs_server_stop; }
#
# rtcs_server_start [RTCS-SERVE-ARGS...]
#     A private directory ($RTCS_TEST_DIR, mktemp -d /tmp/rtcs.XXXXXX: a short
#     socket path), RTCS_SOCKET and RTCS_STORE exported into it, rtcs-serve
#     started there with --ready-fd; returns once it is ready (no sleeping),
#     or fails with its log (the directory removed). Its pid: $RTCS_SERVER_PID, its log:
#     $RTCS_TEST_DIR/server.log. The program: $RTCS_SERVE, else rtcs-serve on PATH.
# rtcs_server_launch [RTCS-SERVE-ARGS...]
#     The same on the directory already made (a restart).
# rtcs_session N [--kind KIND]
# rtcs_session NAME@DEVICE... [--kind KIND]
#     A new session of N devices (user1@device1 ... userN@deviceN) or of the
#     participants named; each device's token in a key directory of its own,
#     $RTCS_TEST_DIR/keys/DEVICE. Sets $RTCS_SID and the array RTCS_DEVICES.
# rtcs_keys DEVICE
#     Prints DEVICE's key directory (for --keys).
# rtcs_as DEVICE COMMAND [ARGS...]
#     Runs an rtcs program as DEVICE: "COMMAND --keys DIR ARGS... --as DEVICE".
# rtcs_wait_grep FILE PATTERN [SECONDS]
#     Waits (default 10 s) until a line of FILE matches the grep -E PATTERN.
# rtcs_server_stop
#     SIGTERM and wait: fails unless the server exited 0 and
#     "rtcs-serve --fsck" finds its store clean; then removes $RTCS_TEST_DIR
#     (kept when RTCS_KEEP=1 or when the check failed). Safe to call twice.

: "${RTCS_SERVE:=rtcs-serve}"

rtcs_server_start() {
	RTCS_TEST_DIR=$(mktemp -d /tmp/rtcs.XXXXXX) || return 1
	export RTCS_TEST_DIR RTCS_SOCKET="$RTCS_TEST_DIR/run/rtcs.sock" RTCS_STORE="$RTCS_TEST_DIR/store"
	rtcs_server_launch "$@" && return
	[ "${RTCS_KEEP:-0}" = 1 ] || rm -rf "$RTCS_TEST_DIR"
	return 1
}

# rtcs_server_launch [ARGS...]: the server again, on the socket and store of
# $RTCS_TEST_DIR (after rtcs_server_stop --keep, or a crash).
rtcs_server_launch() {
	local line=""
	rm -f "$RTCS_TEST_DIR/ready"
	mkfifo "$RTCS_TEST_DIR/ready"
	"$RTCS_SERVE" -S "$RTCS_SOCKET" -D "$RTCS_STORE" --ready-fd 3 "$@" \
	    3>"$RTCS_TEST_DIR/ready" 2>>"$RTCS_TEST_DIR/server.log" </dev/null &
	RTCS_SERVER_PID=$!
	# The fifo gives "ready", or nothing when the server exits before.
	if ! read -r -t 30 line <"$RTCS_TEST_DIR/ready" || [ "$line" != ready ]; then
		echo "rtcs-testing: rtcs-serve did not become ready:" >&2
		cat "$RTCS_TEST_DIR/server.log" >&2
		wait "$RTCS_SERVER_PID" 2>/dev/null
		RTCS_SERVER_PID=
		return 1
	fi
	rm -f "$RTCS_TEST_DIR/ready"
}

rtcs_keys() {
	printf '%s/keys/%s\n' "$RTCS_TEST_DIR" "$1"
}

rtcs_session() {
	local kind=chat specs=() args i p
	: "${RTCS_TEST_DIR:?rtcs_server_start first}"
	while [ $# -gt 0 ]; do
		case $1 in
		--kind) kind=$2; shift 2 ;;
		*@*) specs+=("$1"); shift ;;
		*[!0-9]*|'') echo "rtcs-testing: rtcs_session: '$1' is neither N nor NAME@DEVICE" >&2; return 64 ;;
		*) for ((i = 1; i <= $1; i++)); do specs+=("user$i@device$i"); done; shift ;;
		esac
	done
	RTCS_DEVICES=()
	args=()
	for p in "${specs[@]}"; do
		RTCS_DEVICES+=("${p#*@}")
		args+=("$p:$(rtcs_keys "${p#*@}")")	# NAME@DEVICE:KEYDIR
	done
	RTCS_SID=$(rtcs-session new --kind "$kind" "${args[@]}") || return
	export RTCS_SID
}

rtcs_as() {
	local dev=$1 cmd=$2
	shift 2
	"$cmd" --keys "$(rtcs_keys "$dev")" "$@" --as "$dev"
}

rtcs_wait_grep() {
	local file=$1 pat=$2 secs=${3:-10} end
	end=$((SECONDS + secs))
	until grep -qE -- "$pat" "$file" 2>/dev/null; do
		if [ $SECONDS -ge $end ]; then
			echo "rtcs-testing: no /$pat/ in $file after ${secs} s:" >&2
			cat "$file" >&2
			return 1
		fi
		# a short pause without sleep(1): a read that times out on a pipe nobody writes
		read -r -t 0.02 <> <(:) || true
	done
}

rtcs_server_stop() {
	local rc=0 fsck
	[ -n "${RTCS_SERVER_PID:-}" ] || return 0
	kill -TERM "$RTCS_SERVER_PID" 2>/dev/null || true
	wait "$RTCS_SERVER_PID" || rc=$?
	RTCS_SERVER_PID=
	if [ "$rc" != 0 ]; then
		echo "rtcs-testing: rtcs-serve exited $rc; its log ($RTCS_TEST_DIR kept):" >&2
		cat "$RTCS_TEST_DIR/server.log" >&2
		return 1
	fi
	if ! fsck=$("$RTCS_SERVE" --fsck -D "$RTCS_STORE" 2>&1); then
		echo "rtcs-testing: the store is not clean ($RTCS_TEST_DIR kept):" >&2
		echo "$fsck" >&2
		return 1
	fi
	[ "${RTCS_KEEP:-0}" = 1 ] || rm -rf "$RTCS_TEST_DIR"
}
