#!/usr/bin/env bats
# Transfer security (issue 10): device endpoints grant no operator power; a
# pull offer carries no policy and always waits for the origin's check code.
load lib
load server

teardown() { stop_server; }

# code METHOD PATH [JSON] [TOKEN]: the status only.
code() {
	api_code "$@" | cut -d' ' -f1
}

# pull_offer [JSON-FIELDS]: an anonymous offer for mallory-phone; $T, $PAYLOAD, $CLAIM.
pull_offer() {
	local out
	out=$(api POST /v1/transfers '{"device":"mallory-phone"'"${1:+,$1}"'}') || return
	T=$(jq -r .transfer.id <<<"$out") PAYLOAD=$(jq -r .payload <<<"$out") CLAIM=$(jq -r .claim <<<"$out")
}

@test "a pull offer that names a policy is refused, and none is created" {
	start_server --confirm origin --proof both
	session_new alice@alice-phone bob@bob-pc
	n=$(api GET /v1/transfers | jq '.transfers | length')
	for policy in '"confirm":"none","proof":"scanner"' '"confirm":"origin"' '"proof":null'; do
		run api_code POST /v1/transfers '{"device":"mallory-phone",'"$policy"'}'
		assert_output --regexp '^400 .*"code":"bad_field".*no policy'
	done
	[ "$(api GET /v1/transfers | jq '.transfers | length')" = "$n" ]
}

@test "a stranger's pull under --confirm none --proof scanner: the origin's scan alone moves nothing" {
	start_server --confirm none --proof scanner
	session_new alice@alice-phone bob@bob-pc
	pull_offer
	run api GET "/v1/transfers/$T"
	[ "$(jq -r .transfer.confirm <<<"$output")" != none ] || fail "$output"
	api POST "/v1/transfers/$T/image" '{"device":"alice-phone","payload":"'"$PAYLOAD"'"}' \
	    "$(token alice-phone)" >/dev/null
	[ "$(api GET "/v1/transfers/$T" | jq -r .transfer.state)" = verified ]
	# no confirmation without the check code the new device shows
	run code POST "/v1/transfers/$T/confirm" '{}' "$(token alice-phone)"
	[ "$output" != 200 ] || fail "confirmed without a check code"
	[ "$(api GET "/v1/sessions/$SID" | jq -r '.session.participants[0].device')" = alice-phone ]
	check=$(api GET "/v1/transfers/$T" - "$CLAIM" | jq -r .transfer.check)
	[[ $check =~ ^[0-9]{2}$ ]]
	run code POST "/v1/transfers/$T/confirm" '{"check":"'"$check"'"}' "$(token alice-phone)"
	assert_output 200
	[ "$(api GET "/v1/sessions/$SID" | jq -r '.session.participants[0].device')" = mallory-phone ]
}

@test "a pull offer's lifetime is capped by --code-ttl" {
	start_server --code-ttl 30
	run api POST /v1/transfers '{"device":"mallory-phone","ttl":86400}'
	assert_success
	created=$(jq -r .transfer.created_at <<<"$output") expires=$(jq -r .expires_at <<<"$output")
	life=$(( $(date -d "$expires" +%s) - $(date -d "$created" +%s) ))
	[ "$life" -le 31 ] || fail "the offer lives $life s"
}

@test "device endpoints given operator-like fields change nothing" {
	start_server --confirm origin --proof both
	session_new alice@alice-phone bob@bob-pc
	out=$(api POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)")
	tid=$(jq -r .transfer.id <<<"$out") payload=$(jq -r .payload <<<"$out")
	before=$(api GET "/v1/transfers/$tid" | jq -c '.transfer | {confirm, proof, expires_at}')
	evil='"confirm":"none","proof":"scanner","ttl":86400,"state":"completed","expires_at":"2099-01-01T00:00:00.000Z"'
	api_code POST "/v1/transfers/$tid/image" '{"device":"alice-tablet","payload":"'"$payload"'",'"$evil"'}' >/dev/null
	api_code POST "/v1/transfers/$tid/confirm" '{'"$evil"'}' "$(token bob-pc)" >/dev/null
	api_code POST "/v1/transfers/$tid/reject" '{'"$evil"'}' >/dev/null
	api_code POST "/v1/sessions/$SID/messages" '{"body":"hi",'"$evil"'}' "$(token bob-pc)" >/dev/null
	[ "$(api GET "/v1/transfers/$tid" | jq -c '.transfer | {confirm, proof, expires_at}')" = "$before" ]
	[ "$(api GET "/v1/transfers/$tid" | jq -r .transfer.state)" != completed ]
	[ "$(api GET "/v1/sessions/$SID" | jq -r '.session.participants[0].device')" = alice-phone ]
}

@test "a step of the wall clock never lengthens a code's life (deadlines run on CLOCK_MONOTONIC)" {
	require_cmd faketime faketime
	lib=$(dpkg -L libfaketime | grep '/libfaketime\.so\.1$')
	RTCS_TEST_DIR=$(mktemp -d /tmp/rtcs.XXXXXX)
	export RTCS_TEST_DIR RTCS_SOCKET="$RTCS_TEST_DIR/run/rtcs.sock" RTCS_STORE="$RTCS_TEST_DIR/store"
	echo "+0" >"$RTCS_TEST_DIR/clock"
	# only the server's wall clock is faked, and it is read from the file at every call
	LD_PRELOAD=$lib FAKETIME_TIMESTAMP_FILE=$RTCS_TEST_DIR/clock FAKETIME_NO_CACHE=1 \
	    FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    _server_launch --code-ttl 2
	session_new alice@alice-phone bob@bob-pc
	tid=$(api POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)" | jq -r .transfer.id)
	echo "-1d" >"$RTCS_TEST_DIR/clock"	# the wall clock steps back a day
	run rtcs-transfer --timeout 20 wait "$tid" --for failed
	assert_success
	[ "$(api GET "/v1/transfers/$tid" | jq -r '.transfer.state + " " + .transfer.reason')" = "failed expired" ]
}

@test "every failed guess counts; a spent budget never blocks a valid scan of a live transfer" {
	start_server --proof scanner --confirm origin
	session_new alice@alice-phone bob@bob-pc
	out=$(api POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)")
	tid=$(jq -r .transfer.id <<<"$out") payload=$(jq -r .payload <<<"$out")
	# ten anonymous guesses at ids that do not exist
	for i in 1 2 3 4 5 6 7 8 9 10; do
		run code POST "/v1/transfers/TAAAAAAAAAAAAAAA$((i % 8 + 2))/image" '{"device":"x","payload":"RTCS1:T:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA"}'
		assert_output 404
	done
	run api_code POST /v1/transfers/TAAAAAAAAAAAAAAAB/image '{"device":"x","payload":"p"}'
	assert_output --regexp '^429 .*rate_limited'
	# the live transfer still takes its valid scan (its own budget has room)
	run api_code POST "/v1/transfers/$tid/image" '{"device":"alice-tablet","payload":"'"$payload"'"}'
	assert_output --regexp '^200 '
}

@test "a device that plays no part in a transfer is told what an unknown id gets" {
	start_server
	session_new alice@alice-phone bob@bob-pc
	tid=$(api POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)" | jq -r .transfer.id)
	sid=$SID
	session_new carol@carol-phone dave@dave-pc
	run api_code GET "/v1/transfers/$tid" - "$(token carol-phone)"
	known=$output
	run api_code GET /v1/transfers/TAAAAAAAAAAAAAAAA - "$(token carol-phone)"
	assert_equal "${known/$tid/ID}" "${output/TAAAAAAAAAAAAAAAA/ID}"
	assert_output --regexp '^404 '
}

@test "alerts are coalesced: a flood of second scans tells the origin once per window" {
	start_server --proof scanner --confirm origin
	session_new alice@alice-phone bob@bob-pc
	stream_open a "$SID" "$(token alice-phone)"
	wait_lines "$RTCS_TEST_DIR/a.out" 1
	out=$(api POST /v1/transfers '{"device":"tablet"}')
	tid=$(jq -r .transfer.id <<<"$out") payload=$(jq -r .payload <<<"$out")
	api POST "/v1/transfers/$tid/image" '{"device":"alice-phone","payload":"'"$payload"'"}' "$(token alice-phone)" >/dev/null
	before=$(api GET /v1/events | wc -l)
	for i in 1 2 3 4 5 6; do
		api_code POST "/v1/transfers/$tid/image" '{"device":"bob-pc","payload":"'"$payload"'"}' "$(token bob-pc)" >/dev/null
	done
	wait_grep "$RTCS_TEST_DIR/a.out" '"event":"transfer.alert"'
	[ "$(api GET /v1/events | grep -c '"event":"transfer.alert"')" = 1 ]
	[ "$(grep -c '"event":"transfer.alert"' "$RTCS_TEST_DIR/a.out")" = 1 ]
	[ "$(api GET /v1/events | wc -l)" -le $((before + 1)) ]
}

@test "anonymous pull offers are capped while they wait for a scan" {
	start_server
	for i in $(seq 64); do
		api POST /v1/transfers '{"device":"d'"$i"'"}' >/dev/null
	done
	run api_code POST /v1/transfers '{"device":"one-more"}'
	assert_output --regexp '^429 .*rate_limited'
	run code GET /v1/health
	assert_output 200
}

# spy DIR PROG: a stand-in for PROG in DIR that writes its arguments and its stdin there.
spy() {
	cat >"$1/$2" <<-SPY
	#!/bin/bash
	printf '%s\n' "\$@" >"$1/$2.argv"
	cat >"$1/$2.stdin"
	SPY
	chmod +x "$1/$2"
}

@test "no program hands a code's secret to another on its command line" {
	start_server
	session_new alice@alice-phone bob@bob-pc
	d=$RTCS_TEST_DIR/spy
	mkdir "$d"
	payload=$(api POST /v1/transfers '{"session":"'"$SID"'"}' "$(token alice-phone)" | jq -r .payload)
	secret=${payload##*:}
	rtcs-code -t png -o "$RTCS_TEST_DIR/code.png" "$payload"
	# rtcs-scan --submit runs the rtcs-transfer beside it: the payload goes on stdin
	cp "$(command -v rtcs-scan)" "$d/"
	spy "$d" rtcs-transfer
	run "$d/rtcs-scan" --submit --as alice-tablet "$RTCS_TEST_DIR/code.png"
	assert_success
	grep -q -- "$secret" "$d/rtcs-transfer.stdin"
	! grep -q -- "$secret" "$d/rtcs-transfer.argv"
	# ... and with --upload: the payload's line, then the PNG
	run "$d/rtcs-scan" --submit --upload --as alice-tablet "$RTCS_TEST_DIR/code.png"
	assert_success
	[ "$(head -n 1 "$d/rtcs-transfer.stdin")" = "$payload" ]
	[ "$(tail -c +$(( ${#payload} + 2 )) "$d/rtcs-transfer.stdin" | cmp - "$RTCS_TEST_DIR/code.png" && echo same)" = same ]
	! grep -q -- "$secret" "$d/rtcs-transfer.argv"
	# rtcs-transfer run renders with the rtcs-code beside it: the payload on stdin too
	cp "$(command -v rtcs-transfer)" "$d/"
	spy "$d" rtcs-code
	sid=$(rtcs-session new alice@alice-phone:"$RTCS_TEST_DIR/kp" bob@bob-pc:"$RTCS_TEST_DIR/kb")
	timeout 10 "$d/rtcs-transfer" --keys "$RTCS_TEST_DIR/kp" run "$sid" --from alice-phone \
	    --to alice-tablet -o "$RTCS_TEST_DIR/run.png" --confirm none --proof scanner </dev/null >/dev/null 2>&1 &
	rpid=$!
	wait_grep "$d/rtcs-code.argv" '^-$'
	kill "$rpid" 2>/dev/null || true
	wait "$rpid" || true
	wait_grep "$d/rtcs-code.stdin" '^RTCS:1:T'
	! grep -q 'RTCS:1:' "$d/rtcs-code.argv"
}

# raw BYTES-FILE: sends the file on a fresh connection; prints what comes back (up to EOF or 3 s).
raw() {
	python3 - "$RTCS_SOCKET" "$1" <<-'EOF'
	import socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.connect(sys.argv[1])
	s.sendall(open(sys.argv[2], "rb").read())
	s.settimeout(3)
	out = b""
	try:
	    while True:
	        b = s.recv(65536)
	        if not b:
	            break
	        out += b
	except socket.timeout:
	    pass
	sys.stdout.write(out.decode("latin-1"))
	EOF
}

@test "strict requests: two Content-Lengths, chunked bodies, unknown methods, long request lines, NUL bytes" {
	start_server
	printf 'POST /v1/sessions HTTP/1.1\r\nHost: r\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x' >"$RTCS_TEST_DIR/dup"
	run raw "$RTCS_TEST_DIR/dup"
	assert_output --regexp '^HTTP/1.1 400 '
	assert_output --partial '"code":"bad_request"'
	printf 'POST /v1/sessions HTTP/1.1\r\nHost: r\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n' >"$RTCS_TEST_DIR/chunked"
	run raw "$RTCS_TEST_DIR/chunked"
	assert_output --regexp '^HTTP/1.1 400 '
	printf 'BREW /v1/health HTTP/1.1\r\nHost: r\r\n\r\n' >"$RTCS_TEST_DIR/brew"
	run raw "$RTCS_TEST_DIR/brew"
	assert_output --regexp '^HTTP/1.1 405 '
	assert_output --regexp 'Allow: GET'
	assert_output --partial '"code":"method_not_allowed"'
	{ printf 'GET /v1/health?x='; head -c 8300 /dev/zero | tr '\0' a; printf ' HTTP/1.1\r\n\r\n'; } >"$RTCS_TEST_DIR/long"
	run raw "$RTCS_TEST_DIR/long"
	assert_output --regexp '^HTTP/1.1 431 '
	# a header behind a bare LF (evhttp ends lines there too): 400, never smuggled past the gate
	printf 'POST /v1/sessions x\nTransfer-Encoding: chunked\r\nHost: r\r\n\r\n' >"$RTCS_TEST_DIR/lf"
	run raw "$RTCS_TEST_DIR/lf"
	assert_output --regexp '^HTTP/1.1 400 '
	# a NUL byte in the head: 400, and the server lives on (it used to crash)
	printf 'POST /v1/t\0ansfers HTTP/1.\r\nContent-Length: 2\r\n\r\n{}' >"$RTCS_TEST_DIR/nul"
	run raw "$RTCS_TEST_DIR/nul"
	assert_output --regexp '^HTTP/1.1 400 '
	run code GET /v1/health
	assert_output 200
}

@test "strict bodies: invalid UTF-8, wrong types, a member named twice: 400 naming what is wrong" {
	start_server
	session_new alice@alice-phone bob@bob-pc
	printf '{"body":"caf\xe9"}' >"$RTCS_TEST_DIR/latin1"
	run curl -sS --unix-socket "$RTCS_SOCKET" -H "Authorization: Bearer $(token bob-pc)" \
	    -H 'Content-Type: application/json' --data-binary @"$RTCS_TEST_DIR/latin1" \
	    -w ' %{http_code}' "http://rtcs/v1/sessions/$SID/messages"
	assert_output --regexp '"code":"bad_json".* 400$'
	run api_code POST /v1/transfers '{"session":5}' "$(token alice-phone)"
	assert_output --regexp '^400 .*session'
	run api_code POST /v1/transfers '{"session":"'"$SID"'","ttl":1.5}' "$(token alice-phone)"
	assert_output --regexp '^400 .*ttl'
	run api_code POST "/v1/sessions/$SID/messages" '{"body":"a","body":"b"}' "$(token bob-pc)"
	assert_output --regexp '^400 .*bad_json.*twice'
	# nothing of it reached the log
	[ "$(api GET "/v1/sessions/$SID/log" | grep -c '"kind":"text"')" = 0 ]
}

@test "a connection from another user is closed at accept with 0 bytes" {
	start_server
	chmod 0711 "$RTCS_TEST_DIR" "$(dirname "$RTCS_SOCKET")"
	chmod 0777 "$RTCS_SOCKET"
	run setpriv --reuid nobody --regid nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
try:
    s.sendall(b"GET /v1/health HTTP/1.1\r\nHost: r\r\n\r\n")
    print(len(s.recv(100)))
except (BrokenPipeError, ConnectionResetError):
    print(0)' "$RTCS_SOCKET"
	assert_success
	assert_output 0
	chmod 0700 "$(dirname "$RTCS_SOCKET")"
	run code GET /v1/health
	assert_output 200
}

@test "a second server never unlinks a socket that still accepts connections" {
	start_server
	rm -f "$RTCS_SOCKET.lock"
	run timeout 10 rtcs-serve -S "$RTCS_SOCKET" -D "$RTCS_TEST_DIR/store2"
	assert_failure
	[ -S "$RTCS_SOCKET" ]
	run code GET /v1/health
	assert_output 200
}

@test "tricklers that never finish a request head are closed at --header-timeout" {
	start_server --header-timeout 2 --idle-timeout 60
	run "$(rtcs_tool trickle)" "$RTCS_SOCKET" 200 500 15
	assert_success
	[ "$(jq -r .closed <<<"$output")" = 200 ] || fail "$output"
	# each was closed at the timeout of its first byte: not before, and not long after
	[ "$(jq -r '.first_ms >= 1900 and .last_ms < 4500' <<<"$output")" = true ] || fail "$output"
	run code GET /v1/health
	assert_output 200
}
