#!/usr/bin/env bats
# rtcs-serve's core (issue 9): state is written before it is believed,
# identity is the channel, a lost reply strands nobody, memory does not hold
# the logs, a bound pull offer is claimed once.
load lib
load server

teardown() { stop_server; }

# fault SPEC: the server's failpoints from now on (RTCS_FAILPOINT_FILE); "" clears them.
fault() {
	printf '%s\n' "$1" >"$RTCS_TEST_DIR/faults"
}

start_faulty() {
	RTCS_TEST_DIR=$(mktemp -d /tmp/rtcs.XXXXXX)
	export RTCS_TEST_DIR RTCS_SOCKET="$RTCS_TEST_DIR/run/rtcs.sock" RTCS_STORE="$RTCS_TEST_DIR/store"
	export RTCS_FAILPOINT_FILE="$RTCS_TEST_DIR/faults"
	: >"$RTCS_FAILPOINT_FILE"
	START_ARGS=("$@")
	_server_launch "$@"
}

# code METHOD PATH [JSON] [TOKEN]: the status only.
code() {
	api_code "$@" | cut -d' ' -f1
}

# The operator's view of everything that a failed write must leave alone.
snapshot() {
	{
		api GET /v1/sessions | jq -c '.sessions | map({id, state, last_seq, participants})'
		api GET /v1/transfers | jq -c '.transfers | map({id, state, reason, attempts_left, claimant})'
		for s in $(api GET /v1/sessions | jq -r '.sessions[].id'); do
			api GET "/v1/sessions/$s" | jq -c '.session.channels | map({id, state})'
		done
	}
}

# Runs a call with the write it makes failing: 500, nothing changed, before and
# after a restart (--live: no restart, which interrupts the transfers under way).
refused_write() {	# [--live] SPEC METHOD PATH [JSON] [TOKEN]
	local spec before after live=
	[ "$1" = --live ] && { live=1; shift; }
	spec=$1
	shift
	before=$(snapshot)
	fault "$spec"
	run code "$@"
	fault ""
	[ "$output" = 500 ] || { echo "$* with $spec: $output, not 500" >&2; return 1; }
	after=$(snapshot)
	[ "$before" = "$after" ] || { echo "$* changed memory: $before -> $after" >&2; return 1; }
	[ -n "$live" ] && return 0
	restart_server "${START_ARGS[@]}"
	after=$(snapshot)
	[ "$before" = "$after" ] || { echo "$* changed the store: $before -> $after" >&2; return 1; }
}

@test "every save of every endpoint that fails changes nothing: the API before and after a restart and fsck agree" {
	start_faulty --proof scanner --confirm origin
	session_new alice@alice-phone bob@bob-pc
	refused_write store-put=ENOSPC POST /v1/sessions '{"participants":[{"name":"c","device":"c1"}]}'
	refused_write store-put=ENOSPC POST "/v1/sessions/$SID/participants" '{"name":"carol","device":"carol-pc"}'
	refused_write store-append=ENOSPC POST "/v1/sessions/$SID/messages" '{"body":"lost"}' "$(token bob-pc)"
	refused_write store-put=EIO DELETE "/v1/sessions/$SID"
	refused_write store-put=ENOSPC POST /v1/invites '{"to":"kiosk"}'
	inv=$(api POST /v1/invites '{"to":"kiosk"}')
	iid=$(jq -r .invite.id <<<"$inv") ipay=$(jq -r .payload <<<"$inv")
	refused_write store-put=ENOSPC POST "/v1/invites/$iid/scan" '{"payload":"'"$ipay"'","device":"dave-phone"}'
	[ "$(api GET "/v1/invites/$iid/sessions" - "$(jq -r .owner <<<"$inv")" | jq '.sessions | length')" = 0 ]
	refused_write store-put=ENOSPC POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)"
	out=$(api POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)")
	tid=$(jq -r .transfer.id <<<"$out") payload=$(jq -r .payload <<<"$out")
	# A claim that could not be saved sticks nowhere: the retry claims it.
	refused_write --live store-put=ENOSPC POST "/v1/transfers/$tid/image" \
	    '{"device":"alice-tablet","payload":"'"$payload"'"}'
	out=$(api POST "/v1/transfers/$tid/image" '{"device":"alice-tablet","payload":"'"$payload"'"}')
	match=$(jq -r .match <<<"$out")
	refused_write --live store-put=ENOSPC DELETE "/v1/transfers/$tid"
	# Everything still works, and the store is whole.
	run api_code POST "/v1/transfers/$tid/confirm" '{"match":"'"$match"'"}' "$(token alice-phone)"
	assert_output --regexp "^200 "
	[ "$(api GET "/v1/transfers/$tid" | jq -r .transfer.state)" = completed ]
	stop_server --keep
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}

@test "a switch whose session document cannot be written: 500, the transfer failed internal, alice stays, a restart agrees" {
	start_faulty --proof scanner --confirm origin
	session_new alice@alice-phone bob@bob-pc
	out=$(api POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)")
	tid=$(jq -r .transfer.id <<<"$out") payload=$(jq -r .payload <<<"$out")
	match=$(api POST "/v1/transfers/$tid/image" '{"device":"alice-tablet","payload":"'"$payload"'"}' | jq -r .match)
	fault "store-put=ENOSPC@1"	# the switch is the first write of the confirmation
	run code POST "/v1/transfers/$tid/confirm" '{"match":"'"$match"'"}' "$(token alice-phone)"
	fault ""
	assert_output 500
	[ "$(api GET "/v1/transfers/$tid" | jq -r '.transfer.state + " " + .transfer.reason')" = "failed internal" ]
	[ "$(api GET "/v1/sessions/$SID" | jq -r '.session.participants[0].device')" = alice-phone ]
	restart_server
	[ "$(api GET "/v1/transfers/$tid" | jq -r '.transfer.state + " " + .transfer.reason')" = "failed internal" ]
	run code POST "/v1/sessions/$SID/messages" '{"body":"still here"}' "$(token alice-phone)"
	assert_output 201
}

# pull_bound SESSION-TOKEN ORIGIN-DEVICE: a pull offer for "tablet" bound by that origin's scan;
# $T its id, $CHECK the check code the tablet shows (read with its claim).
pull_bound() {
	local out payload claim
	out=$(api POST /v1/transfers '{"device":"tablet"}')
	T=$(jq -r .transfer.id <<<"$out") payload=$(jq -r .payload <<<"$out") claim=$(jq -r .claim <<<"$out")
	api POST "/v1/transfers/$T/image" '{"device":"'"$2"'","payload":"'"$payload"'"}' "$1" >/dev/null
	CHECK=$(api GET "/v1/transfers/$T" - "$claim" | jq -r .transfer.check)
	[[ $CHECK =~ ^[0-9]{2}$ ]]
}

@test "identity is the channel: two pull offers for one device name never put two participants on it" {
	start_server --proof scanner --confirm origin
	session_new alice@alice-phone bob@bob-pc
	pull_bound "$(token alice-phone)" alice-phone
	ta=$T ca=$CHECK
	pull_bound "$(token bob-pc)" bob-pc
	tb=$T cb=$CHECK
	api POST "/v1/transfers/$ta/confirm" '{"check":"'"$ca"'"}' "$(token alice-phone)" >/dev/null
	[ "$(api GET "/v1/transfers/$ta" | jq -r .transfer.state)" = completed ]
	run api POST "/v1/transfers/$tb/confirm" '{"check":"'"$cb"'"}' "$(token bob-pc)"
	[ "$(api GET "/v1/transfers/$tb" | jq -r '.transfer.state + " " + .transfer.reason')" = "failed device_in_use" ]
	run api GET "/v1/sessions/$SID"
	assert_equal "$(jq -r '[.session.participants[].device] | join(" ")' <<<"$output")" "tablet bob-pc"
	stop_server --keep
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}

@test "confirmers are channels: a peer cannot confirm for the origin; fsck sees a device on two open channels" {
	start_server --proof scanner --confirm origin
	session_new alice@alice-phone bob@bob-pc
	out=$(api POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)")
	tid=$(jq -r .transfer.id <<<"$out") payload=$(jq -r .payload <<<"$out")
	api POST "/v1/transfers/$tid/image" '{"device":"alice-tablet","payload":"'"$payload"'"}' >/dev/null
	origin=$(api GET "/v1/sessions/$SID" | jq -r '.session.participants[0].channel')
	[ "$(api GET "/v1/transfers/$tid" | jq -r '.transfer.confirmations.required_channels | join(" ")')" = "$origin" ]
	run code POST "/v1/transfers/$tid/confirm" '{}' "$(token bob-pc)"
	assert_output 403
	[ "$(api GET "/v1/transfers/$tid" | jq -r .transfer.state)" = verified ]
	stop_server --keep
	doc=$RTCS_STORE/sessions/$SID.json
	head -n 1 "$doc" | jq -c '.channels[1].device = "alice-phone"' |
	    "$(rtcs_tool store-put)" "$RTCS_STORE" session "$SID"
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_failure 1
	assert_output --partial "device alice-phone holds two open channels"
}

@test "a lost reply strands nobody: after kill -9 the claimant collects its token again, until it is used" {
	start_server --proof scanner --confirm none
	session_new alice@alice-phone bob@bob-pc
	out=$(api POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)")
	tid=$(jq -r .transfer.id <<<"$out") payload=$(jq -r .payload <<<"$out")
	claim=$(api POST "/v1/transfers/$tid/image" '{"device":"alice-tablet","payload":"'"$payload"'"}' | jq -r .claim)
	tok=$(api GET "/v1/transfers/$tid/token" - "$claim" | jq -r .token)	# ... and the reply is lost
	kill -9 "$SERVER_PID"
	wait "$SERVER_PID" || true
	SERVER_PID=
	_server_launch
	[ "$(api GET "/v1/transfers/$tid/token" - "$claim" | jq -r .token)" = "$tok" ]
	run code GET "/v1/sessions/$SID" - "$tok"
	assert_output 200
	run code GET "/v1/transfers/$tid/token" - "$claim"
	assert_output 410
}

# A log of N messages written straight in the store's format (the server stopped).
big_log() {	# N
	python3 - "$RTCS_STORE/logs/$SID.log" "$1" <<-'EOF'
	import sys, zlib
	path, n = sys.argv[1], int(sys.argv[2])
	last = sum(1 for _ in open(path))
	with open(path, "a") as f:
	    for seq in range(last + 1, last + n + 1):
	        j = '{"seq":%d,"ts":"2026-12-01T00:00:00.000Z","type":"message","from":"bob","device":"bob-pc","kind":"text","body":"line %d %s"}' % (seq, seq, "x" * 200)
	        f.write("%d %08x %s\n" % (seq, zlib.crc32(j.encode()) & 0xffffffff, j))
	EOF
}

@test "streams and the log replay a long log from the store page by page, in order, to the end" {
	start_server
	session_new alice@alice-phone bob@bob-pc
	stop_server --keep
	big_log 20000
	_server_launch
	run api GET "/v1/sessions/$SID"
	assert_output --partial '"last_seq":20001'
	stream_open a "$SID" "$(token alice-phone)" "since=0"
	api POST "/v1/sessions/$SID/messages" '{"body":"live"}' "$(token bob-pc)" >/dev/null
	wait_lines "$RTCS_TEST_DIR/a.out" 20002 60
	run jq -s '[.[].seq] == [range(1; 20003)]' "$RTCS_TEST_DIR/a.out"
	assert_output true
	curl -sS --unix-socket "$RTCS_SOCKET" "http://rtcs/v1/sessions/$SID/log?since=19990" >"$RTCS_TEST_DIR/log"
	run jq -s '[.[].seq] == [range(19991; 20003)]' "$RTCS_TEST_DIR/log"
	assert_output true
	[ "$(curl -sS --unix-socket "$RTCS_SOCKET" "http://rtcs/v1/sessions/$SID/log" | wc -l)" = 20002 ]
}

@test "watchers start from now: events since=now, and every transfer says where the event log is" {
	start_server
	session_new alice@alice-phone bob@bob-pc
	run api GET "/v1/events?since=now"
	assert_output ""
	n=$(api GET /v1/events | wc -l)
	out=$(api POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)")
	[ "$(jq -r .transfer.events_seq <<<"$out")" -ge "$n" ]
	run api GET /v1/health
	assert_output --regexp '"events_seq":[0-9]+'
}

@test "pull: a second scan of a bound offer is already_claimed, and the origin is alerted; the scan names the device" {
	start_server --proof scanner --confirm origin
	session_new alice@alice-phone bob@bob-pc
	stream_open a "$SID" "$(token alice-phone)"
	out=$(api POST /v1/transfers '{"device":"tablet"}')
	tid=$(jq -r .transfer.id <<<"$out") payload=$(jq -r .payload <<<"$out")
	run api POST "/v1/transfers/$tid/image" '{"device":"alice-phone","payload":"'"$payload"'"}' "$(token alice-phone)"
	assert_success
	assert_equal "$(jq -r .to <<<"$output")" tablet
	run api_code POST "/v1/transfers/$tid/image" '{"device":"bob-pc","payload":"'"$payload"'"}' "$(token bob-pc)"
	assert_output --regexp '^409 .*"code":"already_claimed"'
	wait_grep "$RTCS_TEST_DIR/a.out" '"event":"transfer.alert".*"reason":"already_claimed".*"device":"bob-pc"'
}

@test "a device's stream owns its socket: counted as a connection, Connection: close, the reply ends whole, a reader gone is dropped" {
	start_server --max-connections 2
	session_new alice@alice-phone bob@bob-pc
	stream_open a "$SID" "$(token alice-phone)" "" -i
	stream_open b "$SID" "$(token bob-pc)"
	wait_grep "$RTCS_TEST_DIR/a.out" '"event":"session.created"'
	wait_grep "$RTCS_TEST_DIR/b.out" '"event":"session.created"'
	grep -qi '^Connection: close' "$RTCS_TEST_DIR/a.out"
	grep -qi '^Transfer-Encoding: chunked' "$RTCS_TEST_DIR/a.out"
	# the cap counts both streams: a third connection is refused
	run api_code GET /v1/health
	assert_output --regexp '^503 .*too many connections'
	# bob's reader goes: the server drops its stream and serves on
	kill "$(cat "$RTCS_TEST_DIR/b.pid")"
	rm "$RTCS_TEST_DIR/b.pid"
	end=$((SECONDS + 10))
	until [ "$(api GET /v1/health | jq .streams)" = 1 ] || [ $SECONDS -ge $end ]; do _tick; done
	assert_equal "$(api GET /v1/health | jq -r '"\(.connections) \(.streams)"')" "2 1"
	api POST "/v1/sessions/$SID/messages" '{"body":"after"}' "$(token bob-pc)" >/dev/null
	wait_grep "$RTCS_TEST_DIR/a.out" '"body":"after"'
	run api DELETE "/v1/sessions/$SID"
	assert_success
	wait_grep "$RTCS_TEST_DIR/a.out" channel.closed
	# the reply ended with its last chunk: curl exits 0 by itself
	wait "$(cat "$RTCS_TEST_DIR/a.pid")"
	rm "$RTCS_TEST_DIR/a.pid"
}

@test "a burst of connects larger than a loop turn's accepts: every request and every stream of it is served, and the next one" {
	start_server
	session_new alice@alice-phone bob@bob-pc
	# 120 connections at once, each with its request written before the
	# server reads any: 80 health reads and 40 of alice's streams
	run python3 - "$RTCS_SOCKET" "$SID" "$(token alice-phone)" <<'PY'
import socket, sys
path, sid, tok = sys.argv[1:]
conns = []
for i in range(120):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    if i % 3 == 2:
        req = "GET /v1/sessions/%s/stream HTTP/1.1\r\nHost: rtcs\r\nAuthorization: Bearer %s\r\n\r\n" % (sid, tok)
        want = b'"event":"session.created"'
    else:
        req = "GET /v1/health HTTP/1.1\r\nHost: rtcs\r\nConnection: close\r\n\r\n"
        want = b'"status":"ok"'
    s.sendall(req.encode())
    conns.append((s, want))
served = 0
for s, want in conns:
    got = b""
    while want not in got:
        b = s.recv(4096)
        if not b:
            break
        got += b
    served += got.startswith(b"HTTP/1.1 200") and want in got
print(served)
PY
	assert_success
	assert_output 120
	assert_equal "$(api GET /v1/health | jq -r .status)" ok
}

# health_streams N: waits (10 s at most) until the server counts N streams.
health_streams() {
	local end=$((SECONDS + ${2:-10}))
	until [ "$(api GET /v1/health | jq .streams)" = "$1" ] || [ $SECONDS -ge $end ]; do _tick; done
	assert_equal "$(api GET /v1/health | jq .streams)" "$1"
}

@test "a stream's reader that keeps sending but takes nothing is still dropped after --idle-timeout" {
	start_server --idle-timeout 2
	session_new alice@alice-phone bob@bob-pc
	# bob's device sends a byte every 0.2 s and never reads
	python3 - "$RTCS_SOCKET" "$SID" "$(token bob-pc)" >"$RTCS_TEST_DIR/slow.out" 2>&1 3>&- <<'PY' &
import socket, sys, time
path, sid, tok = sys.argv[1:]
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.sendall(("GET /v1/sessions/%s/stream HTTP/1.1\r\nHost: rtcs\r\n"
           "Authorization: Bearer %s\r\n\r\n" % (sid, tok)).encode())
try:
    for i in range(300):
        s.send(b"x")
        time.sleep(0.2)
    print("never dropped")
except OSError as e:
    print("dropped:", e.strerror)
PY
	echo $! >"$RTCS_TEST_DIR/slow.pid"
	health_streams 1
	# more than the socket and the stream's buffer hold: its output waits
	body=$(head -c 30000 /dev/zero | tr '\0' a)
	for i in $(seq 40); do
		api POST "/v1/sessions/$SID/messages" "{\"body\":\"$body\"}" "$(token alice-phone)" >/dev/null
	done
	health_streams 0 20
	wait "$(cat "$RTCS_TEST_DIR/slow.pid")"
	rm "$RTCS_TEST_DIR/slow.pid"
	assert_equal "$(cut -d: -f1 "$RTCS_TEST_DIR/slow.out")" dropped
	assert_equal "$(api GET /v1/health | jq -r .status)" ok
}

@test "a stream pipelined behind a long reply: the reply arrives whole, then the stream" {
	start_server --sync none
	session_new alice@alice-phone bob@bob-pc
	run python3 - "$RTCS_SOCKET" "$SID" "$(token alice-phone)" <<'PY'
import json, os, socket, sys, time
sys.path.insert(0, os.environ["RTCS_TOP"] + "/tests")
from rawhttp import reply, read_until
path, sid, tok = sys.argv[1:]

c = socket.socket(socket.AF_UNIX)
c.settimeout(20)
c.connect(path)
f = c.makefile("rb")
body = json.dumps({"participants": [{"name": "p%d" % i, "device": "d%d" % i} for i in range(2)]})
for i in range(1500):
    c.sendall(("POST /v1/sessions HTTP/1.1\r\nHost: rtcs\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n%s" % (len(body), body)).encode())
    reply(f)
# both requests at once; the list (about 400 KB) does not fit the socket
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(5)		# under the stream's keep-alive period (15 s)
s.connect(path)
s.sendall(("GET /v1/sessions HTTP/1.1\r\nHost: rtcs\r\n\r\n"
           "GET /v1/sessions/%s/stream HTTP/1.1\r\nHost: rtcs\r\nAuthorization: Bearer %s\r\n\r\n"
           % (sid, tok)).encode())
# read nothing until the server has taken the stream (or 10 s passed)
t0 = time.time()
while time.time() < t0 + 10:
    c.sendall(b"GET /v1/health HTTP/1.1\r\nHost: rtcs\r\n\r\n")
    if json.loads(reply(f)[1])["streams"] == 1:
        break
g = s.makefile("rb")
head, data = reply(g)
print(len(json.loads(data)["sessions"]))
rest = read_until(lambda: g.read1(4096), b"session.created")
print(rest.split(b"\r\n")[0].decode())
PY
	assert_success
	assert_equal "${lines[0]}" 1501
	assert_equal "${lines[1]}" "HTTP/1.1 200 OK"
}

@test "a stream cut for a slow reader as a targeted event comes: the server serves on" {
	start_faulty
	session_new alice@alice-phone bob@bob-pc
	stream_open a "$SID" "$(token alice-phone)"
	wait_grep "$RTCS_TEST_DIR/a.out" '"event":"session.created"'
	health_streams 1
	# its backlog taken as past the limit: the next targeted event cuts it
	fault "stream-backlog=EAGAIN"
	run api_code POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)"
	fault ""
	assert_output --regexp '^201 '
	health_streams 0
	wait "$(cat "$RTCS_TEST_DIR/a.pid")" || true
	rm "$RTCS_TEST_DIR/a.pid"
	assert_equal "$(api GET /v1/health | jq -r .status)" ok
	stream_open b "$SID" "$(token bob-pc)"
	wait_grep "$RTCS_TEST_DIR/b.out" '"event":"session.created"'
}

@test "a log or events reply that ends leaves its connection serving: the next request on it is answered" {
	start_server
	session_new alice@alice-phone bob@bob-pc
	# curl reuses one connection for the URLs of one command
	run timeout 10 curl -sS -o /dev/null -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
	    --unix-socket "$RTCS_SOCKET" "http://rtcs/v1/sessions/$SID/log" http://rtcs/v1/health \
	    "http://rtcs/v1/events?since=0"
	assert_success
	assert_equal "${lines[*]}" "200 1 200 0 200 0"
	# pipelined: both answered, in order
	run python3 - "$RTCS_SOCKET" "$SID" <<'PY'
import os, socket, sys
sys.path.insert(0, os.environ["RTCS_TOP"] + "/tests")
from rawhttp import read_until
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(("GET /v1/sessions/%s/log HTTP/1.1\r\nHost: rtcs\r\n\r\n"
           "GET /v1/health HTTP/1.1\r\nHost: rtcs\r\n\r\n" % sys.argv[2]).encode())
got = read_until(lambda: s.recv(65536), b'"status":"ok"')
print(got.count(b"HTTP/1.1 200 OK"), got.index(b"session.created") < got.rindex(b"HTTP/1.1 200 OK"))
PY
	assert_success
	assert_output "2 True"
}
