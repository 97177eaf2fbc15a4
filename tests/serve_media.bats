#!/usr/bin/env bats
# rtcs-serve's media path (issue 13): frames relayed through each session's
# ring beside the durable log, numbered and timed per sender, capped and
# paced; a switch hands the new device the frames the old one was not given.
load lib
load server
load xfer_steps

teardown() { stop_server; }

frame() {	# frame DEVICE JSON-FIELDS: POST .../media, prints "STATUS BODY"
	api_code POST "/v1/sessions/$SID/media" "{\"media\":\"audio\",$2}" "$(token "$1")"
}

# video_frames BYTES N: alice-phone sends N video frames of BYTES zeros on
# one connection; each answer's body, then its status on a line of its own.
video_frames() {
	local urls=() i
	printf '{"media":"video","data":"%s"}' "$(head -c "$1" /dev/zero | base64 -w0)" \
	    >"$RTCS_TEST_DIR/frame.json"
	for i in $(seq "$2"); do urls+=("http://rtcs/v1/sessions/$SID/media"); done
	curl -s -w '\n%{http_code}\n' --unix-socket "$RTCS_SOCKET" \
	    -H "Authorization: Bearer $(token alice-phone)" -H 'Content-Type: application/json' \
	    --data-binary @"$RTCS_TEST_DIR/frame.json" "${urls[@]}"
}

frames_of() {	# frames_of NAME: the frame numbers NAME's stream got, one line
	jq -r 'select(.type == "media") | .frame' "$RTCS_TEST_DIR/$1.out" | tr '\n' ' '
}

@test "frames reach media=1 streams of the other participants, never the log" {
	start_server
	session_new --kind telephony alice@alice-phone bob@bob-pc carol@carol-pc
	stream_open bob "$SID" "$(token bob-pc)" media=1
	stream_open alice "$SID" "$(token alice-phone)" media=1
	stream_open carol "$SID" "$(token carol-pc)"
	wait_lines "$RTCS_TEST_DIR/bob.out" 1
	wait_lines "$RTCS_TEST_DIR/alice.out" 1
	wait_lines "$RTCS_TEST_DIR/carol.out" 1
	for i in 1 2 3; do
		run frame alice-phone "\"frame\":$i,\"pts\":$((i * 20)),\"codec\":\"opus\",\"data\":\"AAEC\""
		assert_output "202 {\"frame\":$i,\"pts\":$((i * 20))}"
	done
	# The old request shape takes the media path too: the next frame, pts from the clock.
	run api_code POST "/v1/sessions/$SID/messages" '{"type":"media","media":"audio","data":"AAEC/w=="}' "$(token alice-phone)"
	assert_output --regexp '^202 \{"frame":4,"pts":[0-9]+\}$'
	api POST "/v1/sessions/$SID/messages" '{"type":"text","body":"still durable"}' "$(token bob-pc)" >/dev/null
	wait_grep "$RTCS_TEST_DIR/bob.out" '"frame":4'
	wait_grep "$RTCS_TEST_DIR/bob.out" 'still durable'
	assert_equal "$(frames_of bob)" "1 2 3 4 "
	run jq -r 'select(.frame == 2) | "\(.from) \(.device) \(.media) \(.codec) \(.pts) \(.data)"' "$RTCS_TEST_DIR/bob.out"
	assert_output "alice alice-phone audio opus 40 AAEC"
	# alice does not hear herself; carol asked for no media
	wait_grep "$RTCS_TEST_DIR/alice.out" 'still durable'
	wait_grep "$RTCS_TEST_DIR/carol.out" 'still durable'
	assert_equal "$(frames_of alice)" ""
	assert_equal "$(frames_of carol)" ""
	# the log has the session's creation and the text, nothing of the media
	run api GET "/v1/sessions/$SID/log"
	assert_equal "$(jq -r '.type' <<<"$output" | tr '\n' ' ')" "event message "
	run grep -c media "$RTCS_STORE/logs/$SID.log"
	assert_output 0
}

@test "each sender's frames grow; GET .../media shows what the server last heard" {
	start_server
	session_new --kind telephony alice@alice-phone bob@bob-pc
	run frame alice-phone '"frame":7,"pts":140,"data":""'
	assert_output '202 {"frame":7,"pts":140}'
	run frame alice-phone '"frame":7,"pts":160,"data":""'
	assert_output --partial '409 {"error":{"code":"stale_frame"'
	run frame alice-phone '"frame":8,"pts":120,"data":""'
	assert_output --partial '409 {"error":{"code":"stale_frame"'
	run frame alice-phone '"frame":9,"pts":160,"data":"AAEC"'
	assert_output '202 {"frame":9,"pts":160}'
	# another kind of media is another sender, numbered on its own
	run api_code POST "/v1/sessions/$SID/media" '{"media":"video","frame":1,"pts":0,"data":"AAEC"}' "$(token alice-phone)"
	assert_output '202 {"frame":1,"pts":0}'
	run api GET "/v1/sessions/$SID/media" "" "$(token bob-pc)"
	assert_success
	assert_equal "$(jq -c '.media.you' <<<"$output")" '{"participant":"bob","device":"bob-pc"}'
	assert_equal "$(jq -r '.media.senders[] | "\(.participant) \(.media) \(.device) \(.frame) \(.pts) \(.frames) \(.bytes)"' <<<"$output" | tr '\n' ';')" \
	    "alice audio alice-phone 9 160 2 3;alice video alice-phone 1 0 1 3;"
	assert_equal "$(jq -r '.media.ring_ms' <<<"$output")" 2000
	# the operator sees it too; a device of another session does not
	run api GET "/v1/sessions/$SID/media"
	assert_success
	other=$SID
	session_new carol@carol-pc dave@dave-pc
	run api_code GET "/v1/sessions/$other/media" "" "$(token carol-pc)"
	assert_output --partial '403 {"error":{"code":"forbidden"'
}

@test "limits: a frame over 128 KiB is 413, bad fields 400, a sender ahead of the clock 429" {
	start_server
	session_new --kind video alice@alice-phone bob@bob-pc
	run video_frames 131073 1
	assert_output --regexp '"code":"too_large".*413$'
	run video_frames 131072 1
	assert_output --regexp '202$'
	for f in '"media":"audio","data":"not base64!"' '"media":"Audio Stream","data":""' \
	    '"data":""' '"media":"audio"' '"media":"audio","frame":0,"data":""' \
	    '"media":"audio","pts":-5,"data":""' '"media":"audio","frame":"1","data":""' \
	    '"media":"audio","codec":7,"data":""' '"type":"text","media":"audio","data":""'; do
		run api_code POST "/v1/sessions/$SID/media" "{$f}" "$(token bob-pc)"
		assert_output --partial '400 {"error":{"code":"bad_field"'
	done
	run api_code POST "/v1/sessions/$SID/media" '{"media":"audio","data":"","from":"alice"}' "$(token bob-pc)"
	assert_output --partial '403 {"error":{"code":"forbidden"'
	# 200 ms ahead of real time is allowed, 10 s is not; Retry-After says when
	run frame bob-pc '"frame":1,"pts":0,"data":""'
	assert_output --partial '202'
	run frame bob-pc '"frame":2,"pts":150,"data":""'
	assert_output --partial '202'
	run curl -sS -D - --unix-socket "$RTCS_SOCKET" -H "Authorization: Bearer $(token bob-pc)" \
	    -H 'Content-Type: application/json' -d '{"media":"audio","frame":3,"pts":10000,"data":""}' \
	    "http://rtcs/v1/sessions/$SID/media"
	assert_line --partial '429 Too Many Requests'
	assert_line --regexp '^Retry-After: (9|10)'
	assert_output --partial '"code":"too_fast"'
	assert_output --regexp '"retry_after_ms":9[0-9]{3}'
	# frames faster than 100 a second get ahead of the clock too: 60 on one connection
	urls=()
	for i in $(seq 60); do urls+=("http://rtcs/v1/sessions/$SID/media"); done
	run curl -s -w '\n%{http_code}\n' --unix-socket "$RTCS_SOCKET" \
	    -H "Authorization: Bearer $(token bob-pc)" -H 'Content-Type: application/json' \
	    -d '{"media":"audio","pts":150,"data":""}' "${urls[@]}"
	assert_line -n 1 202
	assert_line 429
	run api GET "/v1/sessions/$SID/media"
	[ "$(jq '.media.senders[] | select(.participant == "bob") | .refused' <<<"$output")" -ge 2 ]
}

@test "a stream starts with the frames its channel had not had since it opened; the ring forgets after --media-ring" {
	start_server --media-ring 1
	session_new --kind telephony alice@alice-phone bob@bob-pc
	frame alice-phone '"data":"AAEC"' >/dev/null
	frame alice-phone '"data":"AAEC"' >/dev/null
	run api GET "/v1/sessions/$SID/media"
	assert_equal "$(jq .media.ring_frames <<<"$output")" 2
	out=$(api POST "/v1/sessions/$SID/participants" '{"name":"carol","device":"carol-pc"}')
	jq -r .token <<<"$out" >"$RTCS_TEST_DIR/carol-pc.token"
	# bob was in the session: his stream starts with the ring; carol joined after
	stream_open bob "$SID" "$(token bob-pc)" media=1
	stream_open carol "$SID" "$(token carol-pc)" media=1
	wait_grep "$RTCS_TEST_DIR/bob.out" '"frame":2'
	wait_lines "$RTCS_TEST_DIR/carol.out" 1
	frame alice-phone '"data":"AAAA"' >/dev/null
	wait_grep "$RTCS_TEST_DIR/bob.out" '"frame":3'
	wait_grep "$RTCS_TEST_DIR/carol.out" '"frame":3'
	assert_equal "$(frames_of bob)" "1 2 3 "
	assert_equal "$(frames_of carol)" "3 "
	# a second later the ring is empty again (checked on each use; waiting on the server)
	local end=$((SECONDS + 10))
	until [ "$(api GET "/v1/sessions/$SID/media" | jq .media.ring_frames)" = 0 ]; do
		[ $SECONDS -lt $end ] || fail "the ring kept its frames"
		read -r -t 0.05 <> <(:) || true
	done
	run api GET "/v1/sessions/$SID/media"
	assert_equal "$(jq -r '.media.senders[0].frame' <<<"$output")" 3
}

# slow_reader RING: 20 frames of 96 KiB at once; bob reads at 1 MB/s, carol at once.
# slow_reader RING-SECONDS [RATE]: bob reads at RATE (curl's --limit-rate, default 1M).
slow_reader() {
	start_server --media-ring "$1"
	session_new --kind video alice@alice-phone bob@bob-pc carol@carol-pc
	stream_open bob "$SID" "$(token bob-pc)" media=1 --limit-rate "${2:-1M}"
	stream_open carol "$SID" "$(token carol-pc)" media=1
	wait_lines "$RTCS_TEST_DIR/bob.out" 1
	wait_lines "$RTCS_TEST_DIR/carol.out" 1
	run video_frames 98304 20
	assert_equal "$(grep -cx 202 <<<"$output")" 20
	wait_grep "$RTCS_TEST_DIR/carol.out" '"frame":20'
	assert_equal "$(frames_of carol)" "$(seq -s ' ' 20) "
}

# bob_done: the session ends; bob's stream has had all it will have.
bob_done() {
	api DELETE "/v1/sessions/$SID" >/dev/null
	wait_grep "$RTCS_TEST_DIR/bob.out" '"event":"channel.closed"' 60
}

@test "a slow reader: frames wait in the ring while its output is full, in order" {
	slow_reader 60
	wait_grep "$RTCS_TEST_DIR/bob.out" '"frame":20,.*"}$' 30
	bob_done
	assert_equal "$(frames_of bob)" "$(seq -s ' ' 20) "
}

@test "a slow reader loses what the ring forgot, the others nothing" {
	# 2.6 MB of frames at 100 KB/s: far longer than the ring's 0.5 s, however slow the machine
	slow_reader 0.5 100K
	# the ring empties: each frame went to bob's output or was forgotten
	local end=$((SECONDS + 20))
	until [ "$(api GET "/v1/sessions/$SID/media" | jq .media.ring_frames)" = 0 ]; do
		[ $SECONDS -lt $end ] || fail "the ring kept its frames"
		read -r -t 0.05 <> <(:) || true
	done
	bob_done
	run frames_of bob
	# some frames went before bob's stream could take them: the rest in order
	[ "$(wc -w <<<"$output")" -lt 20 ]
	[ "$(tr ' ' '\n' <<<"$output" | grep . | sort -n | tr '\n' ' ')" = "$output" ]
	run jq -r 'select(.type == "media") | .data | length' "$RTCS_TEST_DIR/bob.out"
	[ "$(sort -u <<<"$output")" = 131072 ]
}

@test "a switch: the tablet's stream starts with the frames the phone was not given; the phone's ends after its last" {
	start_server --media-ring 60
	xfer_session
	d=$RTCS_TEST_DIR
	stamp_stream phone "$KP" alice-phone media=1
	stamp_stream bob "$KB" bob-pc media=1
	wait_grep "$d/phone.out" '"session.created"'
	wait_grep "$d/bob.out" '"session.created"'
	bobtok=$(key_token "$KB" bob-pc)
	say() {	# say FRAME: bob's audio frame FRAME
		curl -sf --unix-socket "$RTCS_SOCKET" -H "Authorization: Bearer $bobtok" \
		    -d "{\"media\":\"audio\",\"frame\":$1,\"pts\":$((($1 - 1) * 20)),\"data\":\"AAEC\"}" \
		    "http://rtcs/v1/sessions/$SID/media" >/dev/null
	}
	phonetok=$(key_token "$KP" alice-phone)
	for i in 1 2 3 4 5; do say "$i"; done
	curl -sf --unix-socket "$RTCS_SOCKET" -H "Authorization: Bearer $phonetok" \
	    -d '{"media":"audio","frame":1,"pts":0,"data":"AAEC"}' "http://rtcs/v1/sessions/$SID/media" >/dev/null
	wait_grep "$d/phone.out" '"frame":5'
	wait_grep "$d/bob.out" '"from":"alice"'
	push_request
	push_show
	push_scan
	push_confirm
	push_collect
	# the switch is made; bob goes on talking before the tablet is there
	for i in 6 7 8; do say "$i"; done
	wait_grep "$d/phone.out" '"event":"channel.closed"'
	stamp_stream tablet "$KT" alice-tablet media=1
	wait_grep "$d/tablet.out" '"frame":8'
	say 9
	wait_grep "$d/tablet.out" '"frame":9'
	# alice goes on from her tablet where the server last heard her
	run api GET "/v1/sessions/$SID/media" "" "$(key_token "$KT" alice-tablet)"
	assert_equal "$(jq -r '.media.senders[] | select(.participant == "alice") | "\(.frame) \(.pts) \(.device)"' <<<"$output")" "1 0 alice-phone"
	curl -sf --unix-socket "$RTCS_SOCKET" -H "Authorization: Bearer $(key_token "$KT" alice-tablet)" \
	    -d '{"media":"audio","frame":2,"pts":20,"data":"AAEC"}' "http://rtcs/v1/sessions/$SID/media" >/dev/null
	wait_grep "$d/bob.out" '"device":"alice-tablet"'
	# the phone's token is dead for media as for the rest
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$RTCS_SOCKET" -H "Authorization: Bearer $phonetok" \
	    -d '{"media":"audio","frame":3,"pts":40,"data":"AAEC"}' "http://rtcs/v1/sessions/$SID/media"
	assert_output 401
	api DELETE "/v1/sessions/$SID" >/dev/null
	stream_done phone
	stream_done tablet
	stream_done bob

	run jq -r 'select(.type == "media") | .frame' <(stamped_json "$d/phone.out")
	assert_equal "$(tr '\n' ' ' <<<"$output")" "1 2 3 4 5 "
	run jq -r 'select(.type == "media") | .frame' <(stamped_json "$d/tablet.out")
	assert_equal "$(tr '\n' ' ' <<<"$output")" "6 7 8 9 "
	run jq -r 'select(.type == "media") | "\(.device) \(.frame)"' <(stamped_json "$d/bob.out")
	assert_equal "$(tr '\n' ' ' <<<"$output")" "alice-phone 1 alice-tablet 2 "
	# the phone's stream: its last frame, the move, then channel.closed
	run jq -r 'select(.seq != null or .type == "media" or .event == "channel.closed")
	    | .event // "\(.type) \(.frame)"' <(stamped_json "$d/phone.out")
	output=$(tail -n 3 <<<"$output")
	assert_output $'media 5\nparticipant.moved\nchannel.closed'
}

@test "an ended session drops its ring; its tokens send no more frames" {
	start_server
	session_new --kind telephony alice@alice-phone bob@bob-pc
	frame alice-phone '"data":"AAEC"' >/dev/null
	api DELETE "/v1/sessions/$SID" >/dev/null
	run frame alice-phone '"data":"AAEC"'
	assert_output --partial '401 {"error":{"code":"unauthorized"'
	run api GET "/v1/sessions/$SID/media"
	assert_equal "$(jq -r '"\(.media.ring_frames) \(.media.senders[0].frames)"' <<<"$output")" "0 1"
}
