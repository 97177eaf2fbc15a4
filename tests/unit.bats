#!/usr/bin/env bats
# The C unit tests, run once more from bats so one runner reports everything.
load lib

unit() {
	run "$RTCS_TOP/${RTCS_O:-build}/unit/$1"
	assert_success
	assert_output --partial "$1: ok"
}

@test "unit: shared primitives (base32, payload, opt, names, hash)" {
	unit test_common
}

@test "unit: transfer state machine (flows, refusals, sealing, JSON round trip)" {
	unit test_transfer
}

@test "unit: client (exit-code table, transfer states, scan_submit without a server)" {
	run "$RTCS_TOP/${RTCS_O:-build}/unit/test_client"
	assert_success
	assert_output --partial "ok"
}

@test "unit: store interface (revisions, conflicts, logs, pages, watches, batch, faults)" {
	unit test_store
}

@test "unit: server model on the store (hand-over, batch, failed syncs)" {
	unit test_serve
}
