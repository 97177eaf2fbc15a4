#!/usr/bin/env bats
# rtcs-serve: sessions, participants, messages and live streams over curl.
load lib
load server

setup() { start_server; }
teardown() { stop_server; }

send() {	# send DEVICE TEXT
	api POST "/v1/sessions/$SID/messages" "{\"type\":\"text\",\"body\":\"$2\"}" "$(token "$1")"
}

@test "version and health answer JSON" {
	run api GET /v1/version
	assert_success
	assert_equal "$(jq -r .name <<<"$output"),$(jq .api <<<"$output")" "rtcs,1"
	run api GET /v1/health
	assert_success
	assert_equal "$(jq -r .status <<<"$output")" ok
}

@test "two participants exchange messages in order" {
	session_new alice@alice-phone bob@bob-pc
	stream_open bob "$SID" "$(token bob-pc)"
	stream_open alice "$SID" "$(token alice-phone)"
	for i in 1 2 3 4 5; do
		send alice-phone "a$i" >/dev/null
		send bob-pc "b$i" >/dev/null
	done
	wait_lines "$RTCS_TEST_DIR/bob.out" 11
	wait_lines "$RTCS_TEST_DIR/alice.out" 11
	run jq -r 'select(.type=="message") | "\(.seq) \(.from) \(.body)"' "$RTCS_TEST_DIR/bob.out"
	assert_line -n 0 "2 alice a1"
	assert_line -n 1 "3 bob b1"
	assert_line -n 9 "11 bob b5"
	cmp "$RTCS_TEST_DIR/bob.out" "$RTCS_TEST_DIR/alice.out"
	run api GET "/v1/sessions/$SID/log?since=9"
	assert_equal "$(jq -r .body <<<"$output" | tr '\n' ' ')" "a5 b5 "
}

@test "five participants: every device sees every message, in one order" {
	session_new a@a-dev b@b-dev c@c-dev d@d-dev e@e-dev
	for d in a b c d e; do stream_open "$d" "$SID" "$(token "$d-dev")"; done
	for round in 1 2 3; do
		for d in a b c d e; do send "$d-dev" "$d$round" >/dev/null; done
	done
	for d in a b c d e; do wait_lines "$RTCS_TEST_DIR/$d.out" 16; done
	for d in b c d e; do cmp "$RTCS_TEST_DIR/a.out" "$RTCS_TEST_DIR/$d.out"; done
	run jq -s -c '[.[].seq]' "$RTCS_TEST_DIR/c.out"
	assert_output "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]"
}

@test "media messages carry base64 data on the media path, not in the log" {
	session_new alice@alice-phone bob@bob-pc
	run api_code POST "/v1/sessions/$SID/messages" '{"type":"media","media":"audio","data":"AAEC/w=="}' "$(token bob-pc)"
	assert_output --regexp '^202 \{"frame":1,'
	run api GET "/v1/sessions/$SID/log?since=1"
	assert_output ""
	run api_code POST "/v1/sessions/$SID/messages" '{"type":"media","media":"audio","data":"not base64!"}' "$(token bob-pc)"
	assert_output --partial '400 {"error":{"code":"bad_field"'
}

@test "a device cannot act for another device or another session" {
	session_new alice@alice-phone bob@bob-pc
	first=$SID
	cp "$RTCS_TEST_DIR/alice-phone.token" "$RTCS_TEST_DIR/first.token"
	session_new carol@carol-pc dave@dave-pc
	run api_code POST "/v1/sessions/$first/messages" '{"type":"text","body":"x","device":"bob-pc"}' "$(token first)"
	assert_output --partial '403 {"error":{"code":"forbidden"'
	run api_code POST "/v1/sessions/$first/messages" '{"type":"text","body":"x","from":"bob"}' "$(token first)"
	assert_output --partial '403 {"error":{"code":"forbidden"'
	run api_code POST "/v1/sessions/$first/messages" '{"type":"text","body":"x"}' "$(token carol-pc)"
	assert_output --partial '403 {"error":{"code":"forbidden"'
	run api_code GET "/v1/sessions/$first" "" "$(token carol-pc)"
	assert_output --partial '403 '
	run api_code POST "/v1/sessions/$first/messages" '{"type":"text","body":"x"}' "AAAAAAAAAAAAAAAAAAAAAAAAAA"
	assert_output --partial '401 {"error":{"code":"unauthorized"'
	run api_code POST "/v1/sessions/$first/messages" '{"type":"text","body":"x"}'
	assert_output --partial '401 '
	# operator-only calls refuse device tokens
	run api_code GET /v1/sessions "" "$(token first)"
	assert_output --partial '403 {"error":{"code":"forbidden"'
	run api_code DELETE "/v1/sessions/$first" "" "$(token first)"
	assert_output --partial '403 '
	# a device may read its own session
	run api GET "/v1/sessions/$first" "" "$(token first)"
	assert_success
	run api GET "/v1/sessions/$first/log"
	refute_output --partial '"body":"x"'
}

@test "streams resume with ?since and start at the channel's start by default" {
	session_new alice@alice-phone bob@bob-pc
	for i in 1 2 3 4; do send alice-phone "m$i" >/dev/null; done
	stream_open s1 "$SID" "$(token bob-pc)" "since=3"
	wait_lines "$RTCS_TEST_DIR/s1.out" 2
	run jq -r .body "$RTCS_TEST_DIR/s1.out"
	assert_output $'m3\nm4'
	run api POST "/v1/sessions/$SID/participants" '{"name":"carol","device":"carol-pc"}'
	assert_success
	jq -r .token <<<"$output" >"$RTCS_TEST_DIR/carol-pc.token"
	assert_equal "$(jq -r '.session.channels[2].start_seq' <<<"$output")" 6
	stream_open c "$SID" "$(token carol-pc)"
	send bob-pc hi >/dev/null
	wait_lines "$RTCS_TEST_DIR/c.out" 2
	run jq -r '"\(.seq) \(.event // .body)"' "$RTCS_TEST_DIR/c.out"
	assert_output $'6 participant.joined\n7 hi'
	run api_code GET "/v1/sessions/$SID/stream?since=x" "" "$(token bob-pc)"
	assert_output --partial '400 '
}

@test "SSE: Accept text/event-stream gives data: lines" {
	session_new alice@alice-phone bob@bob-pc
	stream_open sse "$SID" "$(token bob-pc)" "" -H "Accept: text/event-stream"
	send alice-phone hello >/dev/null
	wait_grep "$RTCS_TEST_DIR/sse.out" '"body":"hello"'
	run cat "$RTCS_TEST_DIR/sse.out"
	assert_line -n 0 --regexp '^data: \{"seq":1,.*"event":"session.created"'
	assert_line -n 1 --regexp '^data: \{"seq":2,.*"body":"hello"'
	[ "$(sed -n 2p "$RTCS_TEST_DIR/sse.out")" = "" ]
}

@test "ending a session closes every stream with channel.closed and revokes tokens" {
	session_new alice@alice-phone bob@bob-pc
	stream_open a "$SID" "$(token alice-phone)"
	stream_open b "$SID" "$(token bob-pc)"
	wait_lines "$RTCS_TEST_DIR/a.out" 1
	wait_lines "$RTCS_TEST_DIR/b.out" 1
	run api DELETE "/v1/sessions/$SID"
	assert_success
	assert_equal "$(jq -r .session.state <<<"$output")" ended
	for d in a b; do
		wait_grep "$RTCS_TEST_DIR/$d.out" channel.closed
		run tail -n 1 "$RTCS_TEST_DIR/$d.out"
		assert_equal "$(jq -r '"\(.event) \(.reason)"' <<<"$output")" "channel.closed session_ended"
		run sed -n 2p "$RTCS_TEST_DIR/$d.out"
		assert_output --partial '"event":"session.ended"'
		# the reply ended: curl exits by itself
		wait "$(cat "$RTCS_TEST_DIR/$d.pid")"
		rm "$RTCS_TEST_DIR/$d.pid"
	done
	run api_code POST "/v1/sessions/$SID/messages" '{"type":"text","body":"late"}' "$(token bob-pc)"
	assert_output --partial '401 '
	run api_code DELETE "/v1/sessions/$SID"
	assert_output --partial '409 {"error":{"code":"session_ended"'
	run api_code POST "/v1/sessions/$SID/participants" '{"name":"carol","device":"carol-pc"}'
	assert_output --partial '409 '
	run api GET "/v1/sessions?state=ended"
	assert_equal "$(jq -r '.sessions[0].id' <<<"$output")" "$SID"
	run api GET "/v1/sessions?state=live"
	assert_equal "$(jq '.sessions|length' <<<"$output")" 0
}

@test "list, show and join" {
	session_new --kind video alice@alice-phone
	run api GET /v1/sessions
	assert_equal "$(jq -r '.sessions[0].kind' <<<"$output")" video
	run api POST "/v1/sessions/$SID/participants" '{"name":"bob","device":"bob-pc"}'
	assert_success
	run api_code POST "/v1/sessions/$SID/participants" '{"name":"bob","device":"bob-tab"}'
	assert_output --partial '409 {"error":{"code":"conflict"'
	run api GET "/v1/sessions/$SID"
	assert_equal "$(jq -c '[.session.participants[].name]' <<<"$output")" '["alice","bob"]'
	assert_equal "$(jq -r .session.last_seq <<<"$output")" 2
	run api_code GET /v1/sessions/SAAAAAAAAAAAAAAAA
	assert_output --partial '404 {"error":{"code":"not_found"'
}

@test "server events: whole and followed" {
	stream_ev() {
		curl -sS -N --unix-socket "$RTCS_SOCKET" "http://rtcs/v1/events?since=0&follow=1" \
		    >"$RTCS_TEST_DIR/ev.out" 3>&- &
		echo $! >"$RTCS_TEST_DIR/ev.pid"
	}
	session_new alice@alice-phone
	stream_ev
	wait_lines "$RTCS_TEST_DIR/ev.out" 1
	api DELETE "/v1/sessions/$SID" >/dev/null
	wait_lines "$RTCS_TEST_DIR/ev.out" 2
	run jq -r '"\(.seq) \(.event) \(.session)"' "$RTCS_TEST_DIR/ev.out"
	assert_output "1 session.created $SID"$'\n'"2 session.ended $SID"
	run api GET "/v1/events?since=1"
	assert_equal "$(jq -r .event <<<"$output")" session.ended
	run api_code GET "/v1/events" "" "$(token alice-phone)"
	assert_output --partial '401 '
}

@test "a reader that goes away is forgotten; the others go on" {
	session_new alice@alice-phone bob@bob-pc
	stream_open gone "$SID" "$(token bob-pc)"
	stream_open stay "$SID" "$(token bob-pc)"
	wait_lines "$RTCS_TEST_DIR/gone.out" 1
	wait_lines "$RTCS_TEST_DIR/stay.out" 1
	run api GET /v1/health
	assert_equal "$(jq .streams <<<"$output")" 2
	kill "$(cat "$RTCS_TEST_DIR/gone.pid")"
	wait "$(cat "$RTCS_TEST_DIR/gone.pid")" || true
	rm "$RTCS_TEST_DIR/gone.pid"
	for i in 1 2 3; do send alice-phone "m$i" >/dev/null; done
	wait_lines "$RTCS_TEST_DIR/stay.out" 4
	end=$((SECONDS + 10))
	until [ "$(api GET /v1/health | jq .streams)" = 1 ] || [ $SECONDS -ge $end ]; do _tick; done
	assert_equal "$(api GET /v1/health | jq .streams)" 1
	run api GET "/v1/sessions/$SID"
	assert_equal "$(jq '.session.channels[1].delivered_seq' <<<"$output")" 4
}
