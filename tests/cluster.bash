# Several rtcs-serve nodes on one etcd cluster, for tests/cluster*.bats.
#
#   setup_file()    { cluster_etcd_start; }     # 3 etcd members (tools/etcd-cluster)
#   teardown_file() { cluster_etcd_stop; }
#   setup()         { cluster_prefix; node_start 1; node_start 2; }
#   teardown()      { nodes_stop; }
#
# cluster_prefix         a fresh store prefix for this test ($CLUSTER_STORE)
# node_start N [ARGS]    starts node N (rtcs-serve --store $CLUSTER_STORE ARGS) in
#                        $CLUSTER_DIR/nodeN; returns once it is ready
# node_kill N            kill -9 node N;  node_stop N: SIGTERM and wait (status 0)
# on N CMD [ARGS]        runs CMD with RTCS_SOCKET of node N
# etcd_kill I / etcd_restart I   an etcd member, 1..3
: "${RTCS_TOP:?load lib first}"
: "${RTCS_SERVE:=$RTCS_BIN/rtcs-serve}"
. "$RTCS_TOP/tests/rtcs-testing/load.bash"

cluster_etcd_start() {
	command -v etcd >/dev/null 2>&1 || return 0
	CLUSTER_DIR=$(mktemp -d /tmp/rtcs-cl.XXXXXX)
	export CLUSTER_DIR
	CLUSTER_ETCD=$("$RTCS_TOP/tools/etcd-cluster" start "$CLUSTER_DIR/etcd" 3)
	export CLUSTER_ETCD
}

cluster_etcd_stop() {
	[ -n "${CLUSTER_DIR:-}" ] || return 0
	"$RTCS_TOP/tools/etcd-cluster" stop "$CLUSTER_DIR/etcd"
	[ "${RTCS_KEEP:-0}" = 1 ] || rm -rf "$CLUSTER_DIR"
}

cluster_prefix() {
	require_cmd etcd etcd-server
	CLUSTER_STORE="etcd://$CLUSTER_ETCD/t$BATS_TEST_NUMBER-$$"
	export CLUSTER_STORE
}

node_start() {
	local n=$1
	shift
	mkdir -p "$CLUSTER_DIR/node$n"
	RTCS_TEST_DIR=$CLUSTER_DIR/node$n RTCS_SOCKET=$CLUSTER_DIR/node$n/run/rtcs.sock \
	    RTCS_STORE=$CLUSTER_STORE rtcs_server_launch "$@" || return 1
	echo "$RTCS_SERVER_PID" >"$CLUSTER_DIR/node$n/pid"
	RTCS_SERVER_PID=
}

node_pid() {
	cat "$CLUSTER_DIR/node$1/pid"
}

node_kill() {
	kill -9 "$(node_pid "$1")"
	wait "$(node_pid "$1")" 2>/dev/null || true
	rm -f "$CLUSTER_DIR/node$1/pid"
}

node_stop() {
	local pid rc=0
	[ -f "$CLUSTER_DIR/node$1/pid" ] || return 0
	pid=$(node_pid "$1")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || rc=$?
	# Started by a background node_start: not this shell's child, so its end is waited for.
	if [ "$rc" -eq 127 ]; then
		rc=0
		timeout 10 tail --pid="$pid" -f /dev/null || rc=1
	fi
	rm -f "$CLUSTER_DIR/node$1/pid"
	return $rc
}

# Every node still running stops; fails (the log kept) unless each exited 0
# (a sanitizer's report makes the exit status non-zero).
nodes_stop() {
	local d p rc=0
	for d in "$CLUSTER_DIR"/node*; do
		[ -d "$d" ] || continue
		for p in "$d"/*.pid; do
			[ ! -e "$p" ] || kill "$(cat "$p")" 2>/dev/null || true
		done
		if ! node_stop "${d##*node}"; then
			echo "node ${d##*node} did not exit 0; its log:" >&2
			tail -n 30 "$d/server.log" >&2
			rc=1
		fi
		[ "${RTCS_KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ] || rm -rf "$d"
	done
	return $rc
}

on() {
	local n=$1
	shift
	RTCS_SOCKET=$CLUSTER_DIR/node$n/run/rtcs.sock "$@"
}

etcd_kill() {
	"$RTCS_TOP/tools/etcd-cluster" kill "$CLUSTER_DIR/etcd" "$1"
}

etcd_restart() {
	"$RTCS_TOP/tools/etcd-cluster" restart "$CLUSTER_DIR/etcd" "$1"
}
