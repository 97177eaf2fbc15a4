#!/usr/bin/env bats
# rtcs-testing(7) catches a store broken behind the server's back (tests/testing.bats).
bats_load_library rtcs-testing
@test "a store broken behind the server's back" {
	rtcs_server_start
	rtcs_session alice@alice-phone bob@bob-pc
	echo garbage >>"$RTCS_STORE/sessions/$RTCS_SID.json"
	rtcs_server_stop
}
