#!/usr/bin/env bats
# Several nodes (design.md 11): three rtcs-serve nodes on a 3-member etcd
# cluster started from tools/etcd-cluster; every node serves every session.
bats_require_minimum_version 1.5.0
load lib
load server
load cluster

setup_file() { cluster_etcd_start; }
teardown_file() { cluster_etcd_stop; }

setup() {
	cluster_prefix
	T=$CLUSTER_DIR/t$BATS_TEST_NUMBER
	mkdir -p "$T"
	node_start 1
	node_start 2
	node_start 3
}

teardown() {
	nodes_stop
}

# follow NAME NODE SID DEVICE KEYS: the device's stream through NODE, in the background.
follow() {
	on "$2" rtcs-session --keys "$5" --json log "$3" --follow --as "$4" >"$T/$1.out" 2>"$T/$1.err" &
	echo $! >"$T/$1.pid"
}

@test "cluster: a session made on node 1 is served by all three: entries sent through 2 and 3 reach a stream on 1, in order, once" {
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	follow a1 1 "$SID" alice-phone "$T/ka"
	wait_grep "$T/a1.out" '"participant.joined"|"session.created"|"seq"' 10
	for i in 1 2 3 4 5; do
		on 2 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc "two-$i"
		on 3 rtcs-session --keys "$T/ka" send "$SID" --as alice-phone "three-$i"
	done
	wait_grep "$T/a1.out" 'three-5' 10
	run -0 jq -r 'select(.type == "message") | .body' "$T/a1.out"
	[ "$output" = "$(printf 'two-%s\nthree-%s\n' 1 1 2 2 3 3 4 4 5 5)" ]
	# Seqs: from 1, no gap, no repeat.
	run -0 jq -s '[.[] | select(.seq) | .seq] | . == [range(1; length + 1)]' "$T/a1.out"
	[ "$output" = true ]
	# Every node lists it, with both devices.
	for n in 1 2 3; do
		run -0 on "$n" rtcs-session --json show "$SID"
		[ "$(jq '.session.participants | length' <<<"$output")" = 2 ]
	done
}

@test "cluster: a token issued on node 1 works on node 3; unlinked on node 2, it is refused on every node and its stream on node 3 ends" {
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	on 3 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc hello
	follow b3 3 "$SID" bob-pc "$T/kb"
	wait_grep "$T/b3.out" '"hello"' 10
	on 2 rtcs-session unlink "$SID" bob-pc
	wait_grep "$T/b3.out" '"channel.closed".*"unlinked"|"unlinked".*"channel.closed"' 10
	for n in 1 2 3; do
		run -77 --separate-stderr on "$n" rtcs-session --keys "$T/kb" send "$SID" --as bob-pc again
		[[ $stderr == *"token"* || $stderr == *"revoked"* || $stderr == *"unlinked"* ]] || fail "node $n: $stderr"
	done
	on 1 rtcs-session --keys "$T/ka" send "$SID" --as alice-phone still-here
	run -0 on 2 rtcs-session --json log "$SID"
	[ "$(jq -r 'select(.type == "message") | .body' <<<"$output" | tr '\n' ' ')" = "hello still-here " ]
}

@test "cluster: an etcd member killed changes nothing for the nodes; a node restarted catches up with what the others wrote" {
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	etcd_kill 1
	for i in 1 2 3; do
		on 1 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc "during-$i"
	done
	node_stop 2
	on 3 rtcs-session --keys "$T/ka" send "$SID" --as alice-phone while-2-was-down
	etcd_restart 1
	node_start 2
	follow a2 2 "$SID" alice-phone "$T/ka"
	on 1 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc after
	wait_grep "$T/a2.out" '"after"' 10
	run -0 jq -r 'select(.type == "message") | .body' "$T/a2.out"
	[ "$output" = "$(printf '%s\n' during-1 during-2 during-3 while-2-was-down after)" ]
}

@test "cluster: rtcs-serve --fsck and rtcs-session --store read the etcd store" {
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	on 2 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc offline-read
	run -0 "$RTCS_SERVE" --fsck --store "$CLUSTER_STORE"
	run -0 rtcs-session --json log "$SID" --store "$CLUSTER_STORE"
	[[ $output == *offline-read* ]]
	run -0 rtcs-session list --store "$CLUSTER_STORE"
	[[ $output == *"$SID"* ]]
}
