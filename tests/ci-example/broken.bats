#!/usr/bin/env bats
# rtcs-testing(7) catches a store broken behind the server's back (tests/testing.bats).
bats_load_library rtcs-testing
@test "a store broken behind the server's back" {
	rtcs_server_start
	rtcs_session alice@alice-phone bob@bob-pc
	# the log: the server appends to it, never rewrites it (a document it may
	# rewrite from its journal at the stop)
	echo garbage >>"$RTCS_STORE/logs/$RTCS_SID.log"
	rtcs_server_stop
}
