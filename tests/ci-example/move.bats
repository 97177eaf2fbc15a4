#!/usr/bin/env bats
# An example of a CI bats file using rtcs-testing(7): a session of three
# devices, one of them moves to a tablet; the store is checked at the end.
bats_load_library rtcs-testing
setup()    { rtcs_server_start --proof scanner --confirm none; rtcs_session 3; }
teardown() { rtcs_server_stop; }

@test "three devices, one moves to a tablet" {
	[ "${RTCS_DEVICES[*]}" = "device1 device2 device3" ]
	[ -f "$(rtcs_keys device2)/device2.token" ]
	rtcs_as device1 rtcs-session send "$RTCS_SID" hello
	p=$(rtcs_as device1 rtcs-transfer request "$RTCS_SID")
	rtcs-code -o "$RTCS_TEST_DIR/code.png" "$p"
	rtcs-scan --keys "$(rtcs_keys tablet)" --submit --as tablet "$RTCS_TEST_DIR/code.png"
	rtcs_as tablet rtcs-session send "$RTCS_SID" "on the tablet"
	rtcs-session log "$RTCS_SID" | grep -q 'user1: on the tablet'
}
