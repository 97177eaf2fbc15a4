#!/usr/bin/env bats
# make demo (tools/demo.sh): the main job runs on its own, says what it does,
# and cleans up after itself.
load lib
load server
load xfer_steps

teardown() { stop_server; }

@test "make demo: a chat moves to the tablet while bob talks, and nothing is missed" {
	# The demo runs its own server; this one only asks whether it has transfers.
	start_server
	stop_server
	run timeout 60 bash "$RTCS_TOP/tools/demo.sh"
	[ "$status" -eq 0 ] || { echo "$output" >&2; false; }
	# every step shows its command
	assert_line '$ sid=$(rtcs-session new alice@alice-phone:phone bob@bob-pc:pc)'
	assert_line --regexp '^\$ rtcs-scan --keys tablet --submit --as alice-tablet code\.png$'
	# the tablet's scan prints the match code, the phone confirms with it
	assert_line --regexp '^    match code: [0-9]{6}$'
	match=$(sed -n 's/^    match code: //p' <<<"$output")
	assert_line --regexp "^\\\$ rtcs-transfer --keys phone confirm T[A-Z2-7]{16} --as alice-phone --match $match\$"
	# the phone's attach ended saying where the session went
	assert_line --regexp '^    \* channel closed: the session moved to alice-tablet$'
	assert_output --partial "alice-phone's channel closed: transferred to alice-tablet"
	# bob saw the tablet's message, and every one of his lines reached alice once
	assert_line --regexp "^    \[[0-9]+\] alice: hello bob, I'm on my tablet now$"
	assert_line --regexp '^   ok: bob sent [0-9]+ lines during the switch; alice saw each exactly once: [0-9]+ on the phone, [0-9]+ on the tablet$'
	assert_line '   demo: done'
	# its temporary directory is gone
	dir=$(sed -n 's|^\$ export RTCS_SOCKET=\(/tmp/rtcs\.[^/]*\)/sock$|\1|p' <<<"$output")
	[ -n "$dir" ]
	assert_not_exist "$dir"
}

@test "make demo fails loudly when a step fails" {
	run env RTCS_SERVE=/bin/false timeout 60 bash "$RTCS_TOP/tools/demo.sh"
	assert_failure
	assert_output --partial "demo: FAILED"
	dir=$(sed -n 's|^\$ export RTCS_SOCKET=\(/tmp/rtcs\.[^/]*\)/sock$|\1|p' <<<"$output")
	[ -n "$dir" ]
	assert_not_exist "$dir"
}
