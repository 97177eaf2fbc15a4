#!/usr/bin/env bats
# The C unit tests, run once more from bats so one runner reports everything.
load lib

@test "unit: shared primitives (base32, payload, opt, names, hash)" {
	run "$RTCS_TOP/${RTCS_O:-build}/unit/test_common"
	assert_success
	assert_output --partial "ok"
}

@test "unit: client (exit-code table, transfer states, scan_submit without a server)" {
	run "$RTCS_TOP/${RTCS_O:-build}/unit/test_client"
	assert_success
	assert_output --partial "ok"
}
