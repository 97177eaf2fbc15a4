#!/usr/bin/env bats
# rtcs-serve: regressions from the store and model review (fd leaks, crash order, memory vs disk).
load lib
load server

teardown() { stop_server; }

nfds() { ls "/proc/$SERVER_PID/fd" | wc -l; }

@test "--sync batch: ending sessions closes their logs (no descriptor leak)" {
	start_server --sync batch
	session_new alice@alice-phone bob@bob-pc
	api DELETE "/v1/sessions/$SID" >/dev/null
	before=$(nfds)
	for i in $(seq 1 20); do
		session_new alice@alice-phone bob@bob-pc
		api DELETE "/v1/sessions/$SID" >/dev/null
	done
	after=$(nfds)
	[ "$after" -le "$((before + 2))" ] || { echo "fds $before -> $after"; false; }
}

@test "a session document without its log (a create cut by a power loss) is dropped, fsck reports it" {
	start_server --sync batch
	session_new alice@alice-phone bob@bob-pc
	keep=$SID
	session_new carol@carol-phone
	stop_server --keep
	rm "$RTCS_STORE/logs/$SID.log"
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_failure 1
	assert_output --partial "sessions/$SID.json: session has no log"
	_server_launch --sync batch
	grep -q "removed a session document without a log" "$RTCS_TEST_DIR/server.log"
	run api_code GET "/v1/sessions/$SID"
	assert_output --partial "404 "
	api GET "/v1/sessions/$keep" >/dev/null
	stop_server --keep
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}
