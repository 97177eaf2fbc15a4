#!/usr/bin/env bats
# rtcs-serve: regressions from the store and model review (fd leaks, crash order, memory vs disk).
load lib
load server

teardown() { stop_server; }

nfds() { ls "/proc/$SERVER_PID/fd" | wc -l; }

@test "--max-open-logs bounds the log descriptors: ended sessions leave none beyond it" {
	start_server --sync batch --max-open-logs 4
	session_new alice@alice-phone bob@bob-pc
	api DELETE "/v1/sessions/$SID" >/dev/null
	before=$(nfds)
	for i in $(seq 1 20); do
		session_new alice@alice-phone bob@bob-pc
		api POST "/v1/sessions/$SID/messages" '{"body":"hi"}' "$(token bob-pc)" >/dev/null
		api DELETE "/v1/sessions/$SID" >/dev/null
	done
	after=$(nfds)
	[ "$after" -le "$((before + 4))" ] || { echo "fds $before -> $after"; false; }
	run api GET "/v1/sessions/$SID/log"
	assert_equal "$(jq -r .event <<<"$output" | tr '\n' ' ')" "session.created null session.ended "
}

@test "a session whose log is gone: its first entry comes back from its document; more lost is refused" {
	start_server --sync batch
	session_new alice@alice-phone bob@bob-pc
	keep=$SID
	api POST "/v1/sessions/$SID/messages" '{"body":"one"}' "$(token bob-pc)" >/dev/null
	session_new carol@carol-phone
	stop_server --keep
	rm "$RTCS_STORE/logs/$SID.log"
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_failure 1
	assert_output --partial "logs/$SID.log: a record its document committed is missing, appended at the next start"
	_server_launch --sync batch
	grep -q "appended record 1, which its document committed" "$RTCS_TEST_DIR/server.log"
	run api GET "/v1/sessions/$SID/log"
	assert_output --partial '"event":"session.created"'
	stop_server --keep
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
	# The other session's log held an acknowledged message too: its loss is not mended.
	cp -a "$RTCS_STORE" "$RTCS_TEST_DIR/before"
	rm "$RTCS_STORE/logs/$keep.log"
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_failure 1
	assert_output --partial "logs/$keep.log: ends at record 0, but"
	assert_output --partial "(records cut)"
	run rtcs-serve -S "$RTCS_SOCKET" -D "$RTCS_STORE"
	assert_failure 65
	assert_output --partial "see rtcs-serve --fsck"
	run diff -r "$RTCS_TEST_DIR/before/sessions" "$RTCS_STORE/sessions"
	assert_success
}

@test "end and join: a document that cannot be saved changes nothing (memory follows the disk)" {
	export RTCS_FAILPOINT_FILE=$BATS_TEST_TMPDIR/faults
	: >"$RTCS_FAILPOINT_FILE"
	start_server
	session_new alice@alice-phone bob@bob-pc
	echo store-put=EIO >"$RTCS_FAILPOINT_FILE"	# the document's write fails
	run api_code DELETE "/v1/sessions/$SID"
	assert_output --partial "500 "
	run api_code POST "/v1/sessions/$SID/participants" '{"name":"carol","device":"carol-pc"}'
	assert_output --partial "500 "
	: >"$RTCS_FAILPOINT_FILE"
	run api GET "/v1/sessions/$SID"
	assert_output --partial '"state":"live"'
	refute_output --partial carol
	api POST "/v1/sessions/$SID/messages" '{"type":"text","body":"still here"}' "$(token bob-pc)" >/dev/null
	api POST "/v1/sessions/$SID/participants" '{"name":"carol","device":"carol-pc"}' >/dev/null
	api DELETE "/v1/sessions/$SID" >/dev/null
	run api GET "/v1/sessions/$SID/log"
	assert_equal "$(grep -c '"session.ended"' <<<"$output")" 1
	assert_equal "$(grep -c '"participant.joined"' <<<"$output")" 1
	restart_server
	run api GET "/v1/sessions/$SID"
	assert_output --partial '"state":"ended"'
	assert_output --partial carol
	stop_server --keep
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}

logline() {	# logline SEQ JSON: a store log record
	python3 -c 'import sys, zlib; j = sys.argv[2]; print("%s %08x %s" % (sys.argv[1], zlib.crc32(j.encode()), j))' "$1" "$2"
}


@test "a device's stream never starts before its channel opened, even with ?since=0" {
	start_server
	session_new alice@alice-phone bob@bob-pc
	api POST "/v1/sessions/$SID/messages" '{"type":"text","body":"before carol"}' "$(token bob-pc)" >/dev/null
	out=$(api POST "/v1/sessions/$SID/participants" '{"name":"carol","device":"carol-pc"}')
	ctok=$(json_get .token <<<"$out")
	stream_open c "$SID" "$ctok" "since=0"
	wait_lines "$RTCS_TEST_DIR/c.out" 1
	api POST "/v1/sessions/$SID/messages" '{"type":"text","body":"after carol"}' "$(token bob-pc)" >/dev/null
	wait_grep "$RTCS_TEST_DIR/c.out" "after carol"
	run cat "$RTCS_TEST_DIR/c.out"
	refute_output --partial "before carol"
	refute_output --partial "session.created"
	assert_output --partial '"participant.joined"'
	run api GET "/v1/sessions/$SID/log?since=0"
	assert_output --partial "before carol"
}

@test "a channel's start_seq or delivered_seq that is not an integer up to 2^53 is malformed" {
	start_server
	session_new alice@alice-phone
	stop_server --keep
	doc=$RTCS_STORE/sessions/$SID.json
	cp "$doc" "$RTCS_TEST_DIR/doc.bak"
	for bad in '.channels[0].start_seq = 1e300' '.channels[0].delivered_seq = 0.5' \
	    '.channels[0].start_seq = 9007199254740994'; do
		head -n 1 "$RTCS_TEST_DIR/doc.bak" | jq -c "$bad" | "$(rtcs_tool store-put)" "$RTCS_STORE" session "$SID"
		run rtcs-serve --fsck -D "$RTCS_STORE"
		assert_failure 1
		assert_output --partial "malformed channel"
	done
	cp "$RTCS_TEST_DIR/doc.bak" "$doc"
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}

@test "a store with data but no VERSION is refused (65) and fsck reports it; a new one gets VERSION" {
	start_server
	session_new alice@alice-phone
	[ -f "$RTCS_STORE/VERSION" ]
	stop_server --keep
	rm "$RTCS_STORE/VERSION"
	run rtcs-serve -S "$RTCS_SOCKET" -D "$RTCS_STORE"
	assert_failure 65
	assert_output --partial "VERSION: missing"
	[ ! -e "$RTCS_STORE/VERSION" ]
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_failure
	assert_output --partial "VERSION: missing"
	echo "rtcs-store 99" >"$RTCS_STORE/VERSION"
	run rtcs-serve -S "$RTCS_SOCKET" -D "$RTCS_STORE"
	assert_failure 65
}

@test "a JSON string with an escaped NUL is refused with 400 bad_json, an escaped backslash is not" {
	start_server
	session_new alice@alice-phone bob@bob-pc
	run api_code POST "/v1/sessions/$SID/messages" '{"type":"text","body":"a\u0000b"}' "$(token bob-pc)"
	assert_output --partial '400 {"error":{"code":"bad_json"'
	run api_code POST "/v1/sessions/$SID/messages" '{"type":"text","body":"a\\u0000b"}' "$(token bob-pc)"
	assert_output --partial "201 "
	run api GET "/v1/sessions/$SID/log"
	assert_output --partial '"body":"a\\u0000b"'
}
