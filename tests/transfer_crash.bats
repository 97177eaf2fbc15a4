#!/usr/bin/env bats
# The crash rule (design.md 3.1) with RTCS_FAILPOINT: after a restart every
# transfer is completed or failed "interrupted", and --fsck is clean.
load lib
load server
load transfer_helper

setup() {
	start_server
	two_devices
}

teardown() {
	stop_server
}

# crash_at NAME: restarts the server with the failpoint, runs a push
# (proof scanner, confirm none) up to it; the server must exit 99.
crash_at() {
	stop_server --keep
	RTCS_FAILPOINT=$1 _server_launch
	push_code --proof scanner --confirm none || true
	run scan alice-tablet
	rc=0
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=
	[ "$rc" -eq 99 ] || { echo "server exit $rc" >&2; return 1; }
	_server_launch
	TID=$(api GET /v1/transfers | jq -r '.transfers[-1].id')
}

@test "crash after the committing record, before the switch: interrupted, the session stays" {
	crash_at transfer-committing
	[ "$(tstate)" = "failed interrupted" ]
	assert_session_on alice-phone
	run rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet
	assert_failure 1
	assert_output "rtcs-transfer: wait $TID: the transfer failed: rtcs-serve stopped before the switch"
}

@test "crash right after the session document shows the switch: completed, participant.moved appended" {
	crash_at handover-saved
	[ "$(tstate)" = completed ]
	run api GET "/v1/sessions/$SID/log"
	[ "$(grep -c "\"participant.moved\".*\"transfer\":\"$TID\"" <<<"$output")" -eq 1 ]
	# the claimant still collects its token once
	run rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet
	assert_success
	assert_session_on alice-tablet
	stop_server --keep
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
	_server_launch
}

@test "crash before the completed record: completed, no second participant.moved" {
	crash_at transfer-completed-doc
	[ "$(tstate)" = completed ]
	run api GET "/v1/sessions/$SID/log"
	[ "$(grep -c '"participant.moved"' <<<"$output")" -eq 1 ]
	run rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet
	assert_success
	assert_session_on alice-tablet
}

@test "crash after issued or scanned: interrupted" {
	crash_at transfer-issued
	[ "$(tstate)" = "failed interrupted" ]
	assert_session_on alice-phone
	crash_at transfer-scanned
	[ "$(tstate)" = "failed interrupted" ]
	assert_session_on alice-phone
	run api GET /v1/events
	assert_output --partial '"reason":"interrupted"'
}
