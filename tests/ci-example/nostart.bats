#!/usr/bin/env bats
# rtcs-testing(7) reports a server that does not start (tests/testing.bats).
bats_load_library rtcs-testing
@test "bad option" {
	rtcs_server_start --sync sometimes
}
