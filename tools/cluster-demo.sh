#!/bin/bash
# make cluster-demo: several nodes (design.md 11) on this machine. Starts a
# 3-member etcd cluster (tools/etcd-cluster) and three rtcs-serve nodes on
# it, each in a temporary directory; alice chats with bob through node 1,
# asks node 1 for a code, her tablet scans it through node 2, and bob, whose
# stream is on node 3, sees her move; then everything stops and is removed.
# Every step prints the command it runs. Exits non-zero if any step fails.
#
# Usage: tools/cluster-demo.sh   (RTCS_BIN: the programs, default build/bin;
#                                needs etcd: Debian package etcd-server)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PATH="${RTCS_BIN:-$here/../build/bin}:$PATH"
export NO_COLOR=1
command -v etcd >/dev/null || { echo "cluster-demo: etcd is not installed (apt-get install etcd-server)" >&2; exit 69; }

D=$(mktemp -d "${TMPDIR:-/tmp}/rtcs-cl.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	"$here/etcd-cluster" stop "$D/etcd" || true
	cd /
	rm -rf "$D"
}
trap cleanup EXIT
trap 'echo "cluster-demo: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; }
# on N CMD...: a command against node N, printed first.
on() {
	local n=$1
	shift
	show "RTCS_SOCKET=node$n/rtcs.sock $*" >&2
	RTCS_SOCKET=$D/node$n/run/rtcs.sock "$@"
}
# wait_for FILE PATTERN: a line of FILE matches (tail -F: no polling), 10 s at most.
wait_for() {
	timeout 10 sh -c 'tail -n +1 -F "$1" 2>/dev/null | grep -q -m1 -E -- "$2"' sh "$1" "$2" || {
		echo "cluster-demo: timed out waiting for /$2/ in $1:" >&2; cat "$1" >&2; return 1; }
}

step "a 3-member etcd cluster"
show "tools/etcd-cluster start \$D/etcd 3"
EPS=$("$here/etcd-cluster" start "$D/etcd" 3)
echo "   endpoints: $EPS"
STORE="etcd://$EPS/demo"

step "three rtcs-serve nodes on it"
for n in 1 2 3; do
	mkdir -p "$D/node$n"
	mkfifo "$D/node$n/ready"
	show "rtcs-serve -S node$n/rtcs.sock --store $STORE --ready-fd 3"
	rtcs-serve -S "$D/node$n/run/rtcs.sock" --store "$STORE" --ready-fd 3 \
	    3>"$D/node$n/ready" 2>"$D/node$n/server.log" </dev/null &
	PIDS+=($!)
	read -r -t 30 line <"$D/node$n/ready"
	[ "$line" = ready ]
done

step "a session made through node 1; bob's stream on node 3"
SID=$(on 1 rtcs-session new alice@alice-phone:"$D/ka" bob@bob-pc:"$D/kb")
echo "   $SID"
RTCS_SOCKET=$D/node3/run/rtcs.sock rtcs-session --keys "$D/kb" log "$SID" --follow --as bob-pc \
    >"$D/bob.log" 2>&1 &
PIDS+=($!)
on 2 rtcs-session --keys "$D/ka" send "$SID" --as alice-phone "hi bob, from node 2"
wait_for "$D/bob.log" "from node 2"

step "alice asks node 1 for a code; her tablet scans it through node 2"
P=$(on 1 rtcs-transfer --keys "$D/ka" request "$SID" --as alice-phone --proof scanner --confirm none)
TID=$(cut -d: -f3 <<<"$P")
on 1 rtcs-code -t png -o "$D/code.png" "$P"
on 2 rtcs-scan --keys "$D/kt" --submit --as alice-tablet "$D/code.png"
on 3 rtcs-transfer show "$TID"

step "bob, on node 3, sees alice move; she talks from the tablet through node 1"
wait_for "$D/bob.log" "participant.moved|moved to alice-tablet|alice-tablet"
on 1 rtcs-session --keys "$D/kt" send "$SID" --as alice-tablet "on the tablet now"
wait_for "$D/bob.log" "on the tablet now"
sed 's/^/    /' "$D/bob.log"

step "done: stopping the nodes and etcd"
