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

# The version of the nodes' barrier key in etcd: how many times it was put.
barrier_version() {
	curl -sS "http://${CLUSTER_ETCD%%,*}/v3/kv/range" \
	    -d "{\"key\":\"$(printf '/%s/b' "${CLUSTER_STORE##*/}" | base64 -w0)\"}" |
	    jq -r '.kvs[0].version // 0'
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

@test "cluster: an append names the session's revision: a server whose memory predates another's change is refused at write time" {
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	rev=$(on 1 rtcs-session --json show "$SID" >/dev/null && echo 1)
	# What a node at revision 1 would write: taken while the session is still at 1.
	run -0 "$(rtcs_tool store-put)" "$CLUSTER_STORE" session "$SID" --append "$SID" "$rev" \
	    <<<'{"seq":2,"type":"message","from":"bob","device":"bob-pc","kind":"text","body":"at rev 1"}'
	[ "$output" = "seq 2" ]
	on 2 rtcs-session unlink "$SID" bob-pc
	# The same server, its memory still at revision 1, after bob was unlinked: refused.
	run -1 "$(rtcs_tool store-put)" "$CLUSTER_STORE" session "$SID" --append "$SID" "$rev" \
	    <<<'{"seq":4,"type":"message","from":"bob","device":"bob-pc","kind":"text","body":"stale"}'
	[[ $output == *"its session changed meanwhile"* ]] || fail "$output"
	run -0 on 3 rtcs-session --json log "$SID"
	[[ $output == *"at rev 1"* && $output != *stale* ]]
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

@test "cluster: a transfer asked for on node 1, scanned on node 2, confirmed on node 3: the switch is seen everywhere, the new token works on node 1" {
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	follow b1 1 "$SID" bob-pc "$T/kb"
	follow a3 3 "$SID" alice-phone "$T/ka"
	P=$(on 1 rtcs-transfer --keys "$T/ka" request "$SID" --as alice-phone --proof both --confirm origin)
	TID=$(cut -d: -f3 <<<"$P")
	rtcs-code -t png -o "$T/code.png" "$P"
	run -0 on 2 rtcs-scan --keys "$T/ka" --submit --as alice-phone --json "$T/code.png"
	[ "$(jq -r .role <<<"$output")" = displayer ]
	run -0 on 2 rtcs-scan --keys "$T/kt" --submit --as alice-tablet --json "$T/code.png"
	match=$(jq -r .match <<<"$output")
	[[ $match =~ ^[0-9]{6}$ ]]
	# Node 3 follows the record: the origin attached there is asked to confirm.
	wait_grep "$T/a3.out" '"event":"transfer.confirm".*"claimant":"alice-tablet"' 10
	run -0 on 3 rtcs-transfer --keys "$T/ka" confirm "$TID" --as alice-phone --match "$match"
	# The claimant collects its token through node 2, where it scanned.
	run -0 on 2 rtcs-transfer --keys "$T/kt" wait "$TID" --as alice-tablet
	for n in 1 2 3; do
		# a read answers from the node's memory: first its watch brings the end
		run -0 on "$n" rtcs-transfer --timeout 10 wait "$TID"
		run -0 on "$n" rtcs-transfer --json show "$TID"
		[ "$(jq -r .transfer.state <<<"$output")" = completed ] || fail "node $n: $output"
		run -0 on "$n" rtcs-session --json show "$SID"
		[ "$(jq -r '.session.participants[] | select(.name == "alice") | .device' <<<"$output")" = alice-tablet ]
	done
	wait_grep "$T/b1.out" '"event":"participant.moved".*"to":"alice-tablet"' 10
	wait_grep "$T/a3.out" '"event":"channel.closed".*"transferred"' 10
	on 1 rtcs-session --keys "$T/kt" send "$SID" --as alice-tablet "from the tablet"
	wait_grep "$T/b1.out" '"from the tablet"' 10
	run -77 on 2 rtcs-session --keys "$T/ka" send "$SID" --as alice-phone "old phone"
}

@test "cluster: two nodes scanning one code at once: exactly one claimant wins" {
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	P=$(on 1 rtcs-transfer --keys "$T/ka" request "$SID" --as alice-phone --proof scanner --confirm none)
	TID=$(cut -d: -f3 <<<"$P")
	rtcs-code -t png -o "$T/code.png" "$P"
	for n in 2 3; do
		on "$n" rtcs-scan --keys "$T/k$n" --submit --as "tablet-$n" --json "$T/code.png" \
		    >"$T/scan$n.out" 2>"$T/scan$n.err" &
		echo $! >"$T/scan$n.pid"
	done
	wins=0
	for n in 2 3; do
		if wait "$(cat "$T/scan$n.pid")"; then wins=$((wins + 1)); winner=tablet-$n; fi
	done
	[ "$wins" = 1 ] || fail "$wins winners: $(cat "$T"/scan*.out "$T"/scan*.err)"
	for n in 1 2 3; do
		run -0 on "$n" rtcs-session --json show "$SID"
		[ "$(jq -r '.session.participants[] | select(.name == "alice") | .device' <<<"$output")" = "$winner" ]
		[ "$(jq '[.session.channels[] | select(.state == "open")] | length' <<<"$output")" = 2 ]
	done
}

@test "cluster: a node that loses etcd answers 503 and ends its streams with stream.end unavailable; etcd back, it serves again and has missed nothing" {
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	follow a1 1 "$SID" alice-phone "$T/ka"
	wait_grep "$T/a1.out" '"session.created"' 10
	etcd_kill 2
	etcd_kill 3
	wait_grep "$T/a1.out" '"type":"stream.end","reason":"unavailable"' 20
	run -0 on 1 curl -s --unix-socket "$CLUSTER_DIR/node1/run/rtcs.sock" http://rtcs/v1/health
	[ "$(jq .store.available <<<"$output")" = false ]
	run on 1 curl -s -o /dev/null -w '%{http_code}' --unix-socket "$CLUSTER_DIR/node1/run/rtcs.sock" \
	    "http://rtcs/v1/sessions/$SID"
	[ "$output" = 503 ]
	etcd_restart 2 &
	etcd_restart 3
	wait $!
	# Back: the node says so in its log once etcd answers its probe and its watch.
	wait_grep "$CLUSTER_DIR/node1/server.log" 'etcd can be reached again' 20
	on 2 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc after-the-outage
	follow a1b 1 "$SID" alice-phone "$T/ka"
	wait_grep "$T/a1b.out" '"after-the-outage"' 10
}

# crash_on2 FAILPOINT: node 2 (restarted with the failpoint and --code-ttl 3)
# takes a push's scan and dies there (exit 99); sets $SID and $TID.
crash_on2() {
	node_stop 2
	RTCS_FAILPOINT=$1 node_start 2 --code-ttl 3
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka-$1" bob@bob-pc:"$T/kb-$1")
	P=$(on 2 rtcs-transfer --keys "$T/ka-$1" request "$SID" --as alice-phone --proof scanner --confirm none)
	TID=$(cut -d: -f3 <<<"$P")
	rtcs-code -t png -o "$T/code.png" "$P"
	on 2 rtcs-scan --keys "$T/kt-$1" --submit --as alice-tablet "$T/code.png" || true
	rc=0
	wait "$(node_pid 2)" || rc=$?
	rm -f "$CLUSTER_DIR/node2/pid"
	[ "$rc" -eq 99 ] || fail "node 2 exited $rc at $1"
}

# settled N WANT: transfer $TID as node N sees it once it ends ("completed", "failed REASON").
settled() {
	on "$1" rtcs-transfer --timeout 20 wait "$TID" >/dev/null 2>&1 || true
	run -0 on "$1" rtcs-transfer --json show "$TID"
	[ "$(jq -r '.transfer.state + " " + (.transfer.reason // "")' <<<"$output" | sed 's/ $//')" = "$2" ] ||
	    fail "node $1: $output"
}

@test "cluster: a node killed at each step of a switch: the others settle its transfer at the deadline, completed if the switch was written, else failed; never half" {
	for fp in transfer-committing handover-saved transfer-completed-doc; do
		crash_on2 "$fp"
		case $fp in
		transfer-committing) want="failed expired" dev=alice-phone ;;
		*) want=completed dev=alice-tablet ;;
		esac
		settled 1 "$want"
		settled 3 "$want"
		for n in 1 3; do
			run -0 on "$n" rtcs-session --json show "$SID"
			[ "$(jq -r '.session.participants[] | select(.name == "alice") | .device' <<<"$output")" = "$dev" ] ||
			    fail "$fp, node $n: $output"
			[ "$(jq '[.session.channels[] | select(.state == "open" and .participant == "alice")] | length' <<<"$output")" = 1 ]
		done
		run -0 on 1 rtcs-session --json log "$SID"
		[ "$(grep -c '"participant.moved"' <<<"$output")" -eq "$([ "$dev" = alice-tablet ] && echo 1 || echo 0)" ] ||
		    fail "$fp: $output"
	done
	node_start 2
}

@test "cluster: three nodes started at once on an empty prefix agree on one set of keys: a code from node 3 scans on node 1" {
	nodes_stop
	CLUSTER_STORE="$CLUSTER_STORE-fresh"
	for n in 1 2 3; do node_start "$n" & done
	for n in 1 2 3; do wait %"$n" || fail "node $n did not start: $(cat "$CLUSTER_DIR/node$n/server.log")"; done
	SID=$(on 2 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	P=$(on 3 rtcs-transfer --keys "$T/ka" request "$SID" --as alice-phone --proof scanner --confirm none)
	rtcs-code -t png -o "$T/code.png" "$P"
	run -0 on 1 rtcs-scan --keys "$T/kt" --submit --as alice-tablet "$T/code.png"
	[[ $output == *completed* ]]
}

@test "cluster: a token one node has just issued is taken at once by another (which first hears all etcd has)" {
	# node 3 hears what the watch brings 200 ms late (a loaded machine, a far
	# member): the second call comes right after the first's reply
	node_stop 3
	RTCS_FAILPOINT=etcd-watch-late=EAGAIN node_start 3
	run python3 - "$CLUSTER_DIR/node2/run/rtcs.sock" "$CLUSTER_DIR/node3/run/rtcs.sock" <<'PY'
import json, socket, sys
n2, n3 = sys.argv[1:]

def call(path, url, body, tok=None):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(path)
    data = json.dumps(body).encode()
    auth = "Authorization: Bearer %s\r\n" % tok if tok else ""
    s.sendall(("POST %s HTTP/1.1\r\nHost: rtcs\r\nConnection: close\r\n%s"
               "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
               % (url, auth, len(data))).encode() + data)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    head, _, rest = got.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(rest)

statuses = []
for i in range(20):
    st, out = call(n2, "/v1/sessions", {"participants": [{"name": "alice", "device": "alice-phone"},
                                                        {"name": "bob", "device": "bob-pc"}]})
    st, out = call(n3, "/v1/sessions/%s/messages" % out["session"]["id"], {"body": "at once"},
                   out["tokens"]["alice-phone"])
    statuses.append(st)
print(" ".join(sorted(set(map(str, statuses)))))
PY
	assert_success
	assert_output 201
	# a token no node issued is still refused, after the same catching up
	SID=$(on 1 rtcs-session new x@x-1 y@y-1)
	run curl -sS -o /dev/null -w '%{http_code}' --unix-socket "$CLUSTER_DIR/node1/run/rtcs.sock" \
	    -H 'Authorization: Bearer NOSUCHTOKENATALL' -H 'Content-Type: application/json' \
	    --data '{"body":"hi"}' "http://rtcs/v1/sessions/$SID/messages"
	assert_output 401
}

@test "cluster: a session and a transfer another node has just made are found at once (a code from node 3 scans on node 1 right away)" {
	# node 1 hears what the watch brings 200 ms late; each call below comes
	# within a few ms of the one that made what it names on another node
	node_stop 1
	RTCS_FAILPOINT=etcd-watch-late=EAGAIN node_start 1
	for r in 1 2 3 4 5; do
		SID=$(on 2 rtcs-session new alice@alice-phone:"$T/ka$r" bob@bob-pc:"$T/kb$r")
		run -0 on 1 rtcs-session --json show "$SID"
		P=$(on 3 rtcs-transfer --keys "$T/ka$r" request "$SID" --as alice-phone --proof scanner --confirm none)
		rtcs-code -t png -o "$T/code$r.png" "$P"
		run -0 on 1 rtcs-scan --keys "$T/kt$r" --submit --as alice-tablet "$T/code$r.png"
		[[ $output == *completed* ]] || fail "round $r: $output"
	done
	# what no node made is still unknown, after the same catching up
	run -66 --separate-stderr on 1 rtcs-session --json show SAAAAAAAAAAAAAAAA
	[[ $stderr == *"no such session"* ]] || fail "$stderr"
	# and a guess at an unknown transfer still counts: the eleventh is 429
	for g in 2 3 4 5 6 7 8 9 A B C; do
		run curl -sS -o /dev/null -w '%{http_code}' --unix-socket "$CLUSTER_DIR/node1/run/rtcs.sock" \
		    -H 'Content-Type: application/json' --data '{"device":"x","payload":"p"}' \
		    "http://rtcs/v1/transfers/TAAAAAAAAAAAAAAA$g/image"
		[ "$output" = "$([ "$g" = C ] && echo 429 || echo 404)" ] || fail "guess $g: $output"
	done
	# a budget spent by guessers stops no one else's catching up
	SID=$(on 2 rtcs-session new carol@carol-phone:"$T/kc" dave@dave-pc:"$T/kd")
	run -0 on 1 rtcs-session --json show "$SID"
	# a call that needs a token and has none costs no catching up (no put of PREFIX/b)
	b=$(barrier_version)
	for g in 2 3 4 5 6; do
		run curl -sS -o /dev/null -w '%{http_code}' --unix-socket "$CLUSTER_DIR/node1/run/rtcs.sock" \
		    -H 'Content-Type: application/json' --data '{"body":"hi"}' \
		    "http://rtcs/v1/sessions/SAAAAAAAAAAAAAAA$g/messages"
		assert_output 401
	done
	[ "$(barrier_version)" = "$b" ] || fail "PREFIX/b was put: $b -> $(barrier_version)"
}

@test "cluster: a change another node has just made is what a node decides on: a revoked invite, an unlinked device, a cancelled transfer are refused as such" {
	# node 1 knows each of them first, then hears another node's change of it
	# 200 ms late: each call below comes within a few ms of that change
	node_stop 1
	RTCS_FAILPOINT=etcd-watch-late=EAGAIN node_start 1
	run -0 on 1 rtcs-transfer --keys "$T/kc" invite --to carol-desk --name carol -o "$T/invite.png"
	IID=$(cut -d: -f4 <<<"$output")
	on 3 rtcs-transfer invite revoke "$IID"
	run -1 --separate-stderr on 1 rtcs-scan --keys "$T/ke" --submit --as erin-phone --name erin "$T/invite.png"
	[[ $stderr == *revoked* ]] || fail "invite: $stderr"

	SID=$(on 2 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	on 1 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc hello
	on 2 rtcs-session unlink "$SID" bob-pc
	run -77 --separate-stderr on 1 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc again
	[[ $stderr == *"revoked token"* ]] || fail "unlinked: $stderr"

	P=$(on 2 rtcs-transfer --keys "$T/ka" request "$SID" --as alice-phone --proof scanner --confirm none)
	TID=$(cut -d: -f3 <<<"$P")
	rtcs-code -t png -o "$T/code.png" "$P"
	run -0 on 1 rtcs-transfer --json show "$TID"
	on 2 rtcs-transfer --keys "$T/ka" cancel "$TID" --as alice-phone
	run -1 --separate-stderr on 1 rtcs-scan --keys "$T/kt" --submit --as alice-tablet "$T/code.png"
	[[ $stderr == *cancelled* ]] || fail "cancelled: $stderr"
	# two cancels, the second on a node that had not heard the first: cancelled, not a conflict
	P=$(on 2 rtcs-transfer --keys "$T/ka" request "$SID" --as alice-phone --proof scanner --confirm none)
	TID=$(cut -d: -f3 <<<"$P")
	run -0 on 1 rtcs-transfer --json show "$TID"
	on 2 rtcs-transfer --keys "$T/ka" cancel "$TID" --as alice-phone
	run --separate-stderr on 1 rtcs-transfer --keys "$T/ka" cancel "$TID" --as alice-phone
	[[ $stderr != *conflict* && $stderr != *"came first"* ]] || fail "second cancel: $status $stderr"
	run -0 on 1 rtcs-transfer --json show "$TID"
	[ "$(jq -r '.transfer.state + " " + .transfer.reason' <<<"$output")" = "failed cancelled" ] || fail "$output"
	# nothing of it was written: alice is still on her phone, bob's message is the last
	run -0 on 3 rtcs-session --json show "$SID"
	[ "$(jq -r '.session.participants[] | select(.name == "alice") | .device' <<<"$output")" = alice-phone ]
	run -0 on 3 rtcs-session --json log "$SID"
	[ "$(jq -r 'select(.type == "message") | .body' <<<"$output")" = hello ]
}

@test "cluster: a log stream whose client hangs up before its first page is read leaves the node serving" {
	SID=$(on 2 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	run -0 python3 - "$CLUSTER_DIR/node2/run/rtcs.sock" "$SID" <<'PY'
import socket, sys
for i in range(10):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(("GET /v1/sessions/%s/log HTTP/1.1\r\nHost: rtcs\r\n\r\n" % sys.argv[2]).encode())
    s.close()
PY
	# the pages those asked for are read (etcd answers them) before this one's
	run -0 on 2 rtcs-session --json log "$SID"
	[[ $output == *session.created* ]] || fail "$output"
	run -0 curl -sS -o /dev/null -w '%{http_code}' --unix-socket "$CLUSTER_DIR/node2/run/rtcs.sock" http://rtcs/v1/health
	assert_output 200
}

@test "cluster: a node stopped while calls wait to hear the other nodes exits 0" {
	node_stop 1
	RTCS_FAILPOINT=etcd-watch-late=EAGAIN node_start 1
	SID=$(on 2 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	# Calls on node 1 that name what it has not heard; "waiting" once etcd
	# holds their barrier's put (node 1's watch brings it 200 ms later).
	python3 - "$CLUSTER_DIR/node1/run/rtcs.sock" "$SID" "${CLUSTER_ETCD%%,*}" \
	    "${CLUSTER_STORE##*/}" >"$T/calls.out" 2>&1 <<'PY' &
import base64, json, socket, sys, time, urllib.request
node, sid, ep, prefix = sys.argv[1:]
def version():
    key = base64.b64encode(("/%s/b" % prefix).encode()).decode()
    req = urllib.request.Request("http://%s/v3/kv/range" % ep, json.dumps({"key": key}).encode())
    kvs = json.load(urllib.request.urlopen(req, timeout=5)).get("kvs", [])
    return int(kvs[0].get("version", 0)) if kvs else 0
before = version()
socks = []
for path in ("/v1/sessions/%s" % sid, "/v1/sessions/SAAAAAAAAAAAAAAAB", "/v1/sessions/%s/log" % sid):
    s = socket.socket(socket.AF_UNIX)
    s.connect(node)
    s.sendall(("GET %s HTTP/1.1\r\nHost: rtcs\r\n\r\n" % path).encode())
    socks.append(s)
for _ in range(500):
    if version() > before:
        print("waiting", flush=True)
        break
    time.sleep(0.002)
time.sleep(5)
PY
	calls=$!
	wait_grep "$T/calls.out" '^waiting' 10
	node_stop 1 || fail "node 1 did not exit 0: $(tail -n 30 "$CLUSTER_DIR/node1/server.log")"
	kill "$calls" 2>/dev/null || true
}

@test "cluster: an invite made on node 1 is scanned on node 2; revoked on node 3, node 1 refuses its next scan" {
	run -0 on 1 rtcs-transfer --keys "$T/kc" invite --to carol-desk --name carol -o "$T/invite.png"
	IID=$(cut -d: -f4 <<<"$output")
	run -0 on 2 rtcs-scan --keys "$T/kd" --submit --as dave-phone --name dave "$T/invite.png"
	SID=$output
	run -0 on 3 rtcs-session --json show "$SID"
	[ "$(jq -r '[.session.participants[] | .name + "@" + .device] | sort | join(" ")' <<<"$output")" = "carol@carol-desk dave@dave-phone" ]
	on 3 rtcs-transfer invite revoke "$IID"
	run -1 --separate-stderr on 1 rtcs-scan --keys "$T/ke" --submit --as erin-phone --name erin "$T/invite.png"
	[[ $stderr == *revoked* ]] || fail "$stderr"
}

@test "cluster: --retain 2: a session ended and its settled transfer leave etcd and every node's memory; a live one stays" {
	nodes_stop
	for n in 1 2 3; do node_start "$n" -v --retain 2; done
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	LIVE=$(on 2 rtcs-session new carol@carol-phone:"$T/kc" dave@dave-pc:"$T/kd")
	on 2 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc "soon gone"
	P=$(on 3 rtcs-transfer --keys "$T/ka" request "$SID" --as alice-phone)
	TID=$(cut -d: -f3 <<<"$P")
	on 3 rtcs-transfer cancel "$TID"
	on 1 rtcs-session end "$SID"
	for n in 1 2 3; do
		wait_grep "$CLUSTER_DIR/node$n/server.log" "retention: session $SID removed" 20
		wait_grep "$CLUSTER_DIR/node$n/server.log" "retention: transfer $TID removed" 20
	done
	for n in 1 2 3; do
		run -66 on "$n" rtcs-session show "$SID"
		run -66 on "$n" rtcs-transfer show "$TID"
		run -0 on "$n" rtcs-session show "$LIVE"
	done
	# etcd holds none of its keys: no document, no log record, no transfer.
	ep=${CLUSTER_ETCD%%,*} pfx=${CLUSTER_STORE##*/}
	b64() { printf %s "$1" | base64 -w0; }
	# The log's records: every key from /PFX/l/SID/ up to /PFX/l/SID0 ('/' + 1).
	run -0 curl -s "http://$ep/v3/kv/range" -d "{\"key\":\"$(b64 "/$pfx/l/$SID/")\",\"range_end\":\"$(b64 "/$pfx/l/${SID}0")\",\"count_only\":true}"
	[ "$(jq -r '.count // "0"' <<<"$output")" = 0 ] || fail "log: $output"
	for k in "/$pfx/d/session/$SID" "/$pfx/d/transfer/$TID"; do
		run -0 curl -s "http://$ep/v3/kv/range" -d "{\"key\":\"$(b64 "$k")\",\"count_only\":true}"
		[ "$(jq -r '.count // "0"' <<<"$output")" = 0 ] || fail "$k: $output"
	done
	# The check itself sees what is there: the live session's document.
	run -0 curl -s "http://$ep/v3/kv/range" -d "{\"key\":\"$(b64 "/$pfx/d/session/$LIVE")\",\"count_only\":true}"
	[ "$(jq -r '.count // "0"' <<<"$output")" = 1 ]
	run -64 rtcs-serve --retain 2 -D "$T/fs-store"
	[[ $output == *"flat-file store keeps everything"* ]]
}

@test "cluster: near etcd's quota (--etcd-quota), new sessions, transfers and invites get 503 store_full and the node says so; what is there goes on" {
	nodes_stop
	node_start 1 --etcd-quota 16
	SID=$(on 1 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	# 6 documents of 2 MiB each, written past the node: etcd's database passes 90% of 16 MiB.
	big=$(head -c 2000000 /dev/zero | tr '\0' x)
	for i in 1 2 3 4 5 6; do
		printf '{"id":"filler%s","pad":"%s"}' "$i" "$big" |
		    "$(rtcs_tool store-put)" "$CLUSTER_STORE" meta "filler$i" >/dev/null
	done
	wait_grep "$CLUSTER_DIR/node1/server.log" "503 store_full until etcd is compacted" 20
	sock=$CLUSTER_DIR/node1/run/rtcs.sock
	run -0 curl -s --unix-socket "$sock" -d '{"participants":[{"name":"c","device":"c1"}]}' http://rtcs/v1/sessions
	[ "$(jq -r .error.code <<<"$output")" = store_full ] || fail "$output"
	run -69 --separate-stderr on 1 rtcs-transfer --keys "$T/ka" request "$SID" --as alice-phone
	[[ $stderr == *"near its quota"* ]] || fail "$stderr"
	# What exists goes on: a message is still written.
	on 1 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc "still written"
	run -0 on 1 rtcs-session --json log "$SID"
	[[ $output == *"still written"* ]]
}

@test "cluster: --compact 1: one node compacts etcd's history and defragments the members one at a time" {
	node_stop 1
	node_start 1 -v --compact 1
	SID=$(on 2 rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	for i in 1 2 3; do on 3 rtcs-session --keys "$T/kb" send "$SID" --as bob-pc "m$i"; done
	wait_grep "$CLUSTER_DIR/node1/server.log" "member 3 of 3 defragmented" 20
	grep -q "etcd maintenance: compacted to revision" "$CLUSTER_DIR/node1/server.log"
	# The members' own logs: each defragmentation ends before the next begins.
	for i in 1 2 3; do
		jq -r 'select(.msg == "starting defragment" or .msg == "finished defragment") |
		    "\(.ts) '"$i"' \(.msg)"' \
		    "$CLUSTER_DIR/etcd/etcd$i.log"
	done | sort >"$T/defrag"
	[ "$(grep -c 'starting defragment' "$T/defrag")" -ge 3 ]
	run -0 awk '/starting defragment/ { if (open) bad = 1; open = 1 } /finished defragment/ { open = 0 }
	    END { exit bad }' "$T/defrag"
	# Nothing was lost: the session reads back through every node.
	for n in 1 2 3; do
		run -0 on "$n" rtcs-session --json log "$SID"
		[[ $output == *'"m3"'* ]]
	done
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

@test "cluster: make cluster-demo's script runs a transfer across three nodes and leaves nothing behind" {
	# its own TMPDIR: other runs' directories come and go in /tmp meanwhile
	local tmp
	tmp=$(mktemp -d /tmp/rtcs-t.XXXXXX)
	run -0 env RTCS_BIN="$RTCS_BIN" TMPDIR="$tmp" bash "$RTCS_TOP/tools/cluster-demo.sh"
	[[ $output == *"alice moved from alice-phone to alice-tablet"* ]]
	[[ $output == *"alice: on the tablet now"* ]]
	run ls -A "$tmp"
	assert_output ""
	rmdir "$tmp"
}
