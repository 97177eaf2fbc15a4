# A private rtcs-serve for one bats file or test, and curl on its socket.
#
# Usage (after "load lib"):
#   load server
#   setup()    { start_server; }             # or start_server --sync batch ...
#   teardown() { stop_server; }
#
# start_server [ARGS...]
#   Makes a fresh directory (mktemp -d /tmp/rtcs.XXXXXX) in $RTCS_TEST_DIR,
#   exports RTCS_SOCKET=$RTCS_TEST_DIR/run/rtcs.sock and
#   RTCS_STORE=$RTCS_TEST_DIR/store (etcd://$RTCS_TEST_ETCD/NAME, a prefix of its
#   own, when RTCS_TEST_ETCD names an etcd cluster's endpoints), starts "rtcs-serve --ready-fd 3 ARGS" in
#   the background (stderr to $RTCS_TEST_DIR/server.log, pid in $SERVER_PID)
#   and blocks until the server writes "ready" (no sleeping); fails if the
#   server exits first.
# restart_server [ARGS...]   stop_server, then start again on the same directory.
# stop_server [--keep]       SIGTERM and wait; returns the server's exit status
#                            (0 for a clean stop). Safe to call twice. Kills the
#                            stream_open readers and removes the directory, unless
#                            --keep or RTCS_KEEP=1. Do not call it under "run"
#                            (a subshell cannot wait for the server).
# api METHOD PATH [JSON] [TOKEN]
#   One request; prints the response body. Exit status 0 for 2xx, else 1.
#   JSON "" or "-" means no body. PATH starts with /v1.
# api_code METHOD PATH [JSON] [TOKEN]
#   Same, but prints "STATUS BODY" and always succeeds (for error tests).
# stream_open NAME SESSION TOKEN [QUERY] [CURL-ARGS...]
#   curl -N on .../stream?QUERY in the background, output to
#   $RTCS_TEST_DIR/NAME.out (pid in $RTCS_TEST_DIR/NAME.pid).
# wait_lines FILE N [SECONDS]
#   Waits (default 10 s, without sleep(1)) until FILE has at least N
#   non-empty lines; fails with the file's content otherwise.
# wait_grep FILE PATTERN [SECONDS]   Same for a grep -E pattern.
# session_new [--kind K] NAME@DEVICE...
#   Creates a session; sets $SID, saves each device's token for "token DEVICE".
# token DEVICE                       prints the saved token of DEVICE.
# json_get FILTER                    jq -r FILTER on stdin (jq is in tools/packages).
#
# The server binary is $RTCS_SERVE, else $RTCS_BIN/rtcs-serve (to run these
# tests against a server built in another tree).

: "${RTCS_BIN:?load lib first}"
: "${RTCS_SERVE:=$RTCS_BIN/rtcs-serve}"

# The launch itself is the installed helper's (rtcs-testing(7)).
. "$RTCS_TOP/tests/rtcs-testing/load.bash"
_server_launch() {
	rtcs_server_launch "$@"
	SERVER_PID=$RTCS_SERVER_PID
	[ -n "$SERVER_PID" ]
}

start_server() {
	RTCS_TEST_DIR=$(mktemp -d /tmp/rtcs.XXXXXX)
	export RTCS_TEST_DIR
	export RTCS_SOCKET="$RTCS_TEST_DIR/run/rtcs.sock"
	export RTCS_STORE="$RTCS_TEST_DIR/store"
	# RTCS_TEST_ETCD=HOST:PORT,...: the same test on an etcd cluster (make check-etcd).
	[ -z "${RTCS_TEST_ETCD:-}" ] || RTCS_STORE="etcd://$RTCS_TEST_ETCD/${RTCS_TEST_DIR##*/}"
	_server_launch "$@"
}

restart_server() {
	stop_server --keep || return 1
	_server_launch "$@"
}

stop_server() {
	local rc=0 p
	if [ -n "${SERVER_PID:-}" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" || rc=$?
		SERVER_PID=
	fi
	if [ "${1:-}" != --keep ] && [ -n "${RTCS_TEST_DIR:-}" ]; then
		for p in "$RTCS_TEST_DIR"/*.pid; do
			[ ! -e "$p" ] || kill "$(cat "$p")" 2>/dev/null || true
		done
		[ "${RTCS_KEEP:-0}" = 1 ] || rm -rf "$RTCS_TEST_DIR"
	fi
	return $rc
}

_api() {
	local method=$1 path=$2 json=${3:-} token=${4:-}
	local args=(-sS --unix-socket "$RTCS_SOCKET" -X "$method" -w '%{http_code}')
	[ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
	if [ -n "$json" ] && [ "$json" != - ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$json")
	fi
	curl "${args[@]}" "http://rtcs$path"
}

api() {
	local out code
	out=$(_api "$@") || return 1
	code=${out: -3}
	out=${out%???}
	out=${out%$'\n'}
	printf '%s\n' "$out"
	[ "${code:0:1}" = 2 ]
}

api_code() {
	local out code
	out=$(_api "$@") || return 1
	code=${out: -3}
	out=${out%???}
	out=${out%$'\n'}
	printf '%s %s\n' "$code" "$out"
}

stream_open() {
	local name=$1 sid=$2 token=$3 query=${4:-}
	shift 4 2>/dev/null || shift $#
	curl -sS -N --unix-socket "$RTCS_SOCKET" -H "Authorization: Bearer $token" "$@" \
	    "http://rtcs/v1/sessions/$sid/stream${query:+?$query}" \
	    >"$RTCS_TEST_DIR/$name.out" 2>"$RTCS_TEST_DIR/$name.err" 3>&- &
	echo $! >"$RTCS_TEST_DIR/$name.pid"
}

# A short pause without sleep(1): read with a timeout on a pipe nobody writes.
_tick() {
	read -r -t 0.02 <> <(:) || true
}

wait_lines() {
	local file=$1 n=$2 secs=${3:-10} end have
	end=$((SECONDS + secs))
	# A file not made yet (the background writer's redirection not opened) has 0 lines.
	while have=$(grep -c . "$file" 2>/dev/null); [ "${have:-0}" -lt "$n" ]; do
		if [ $SECONDS -ge $end ]; then
			echo "timed out waiting for $n lines in $file:" >&2
			cat "$file" >&2
			return 1
		fi
		_tick
	done
}

wait_grep() {
	local file=$1 pat=$2 secs=${3:-10} end
	end=$((SECONDS + secs))
	until grep -qE -- "$pat" "$file" 2>/dev/null; do
		if [ $SECONDS -ge $end ]; then
			echo "timed out waiting for /$pat/ in $file:" >&2
			cat "$file" >&2
			return 1
		fi
		_tick
	done
}

json_get() {
	jq -r "$1"
}

session_new() {
	local kind=chat p parts="" out dev
	if [ "${1:-}" = --kind ]; then kind=$2; shift 2; fi
	for p in "$@"; do
		parts="$parts${parts:+,}{\"name\":\"${p%@*}\",\"device\":\"${p#*@}\"}"
	done
	out=$(api POST /v1/sessions "{\"kind\":\"$kind\",\"participants\":[$parts]}") || {
		echo "$out" >&2; return 1; }
	SID=$(jq -r .session.id <<<"$out")
	for p in "$@"; do
		dev=${p#*@}
		jq -r --arg d "$dev" '.tokens[$d]' <<<"$out" >"$RTCS_TEST_DIR/$dev.token"
	done
}

token() {
	cat "$RTCS_TEST_DIR/$1.token"
}
