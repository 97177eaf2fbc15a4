#!/usr/bin/env bats
# rtcs-testing(7): the bats helper make install puts in place, used from a
# bats file outside the tree as a CI user would.
load lib

setup() {
	T=$(rtcs_tmpdir)
	make -s -C "$RTCS_TOP" O="${RTCS_O:-build}" install DESTDIR="$T/root" PREFIX=/usr/local \
	    >"$T/install.log" 2>&1 || fail "$(cat "$T/install.log")"
	mkdir "$T/ci"
}

teardown() { rm -rf "$T"; }

# ci_bats FILE: runs a bats file of $T/ci with the installed programs and helper only.
ci_bats() {
	run env -i HOME="$HOME" LANG=C.UTF-8 PATH="$T/root/usr/local/bin:/usr/local/bin:/usr/bin:/bin" \
	    BATS_LIB_PATH="$T/root/usr/local/lib/bats:/usr/lib/bats" bats "$T/ci/$1" 3>&-
}

@test "rtcs-testing: a CI bats file starts a server, makes a session of 3 devices, moves one, stops and checks the store" {
	[ -f "$T/root/usr/local/lib/bats/rtcs-testing/load.bash" ]
	cp "$RTCS_TOP/tests/ci-example/move.bats" "$T/ci/"
	ci_bats move.bats
	assert_success
	assert_line 'ok 1 three devices, one moves to a tablet'
}

@test "rtcs-testing: rtcs_server_stop fails the test when the store is not clean, and keeps it" {
	cp "$RTCS_TOP/tests/ci-example/broken.bats" "$T/ci/"
	ci_bats broken.bats
	assert_failure
	assert_output --partial 'rtcs-testing: the store is not clean'
	assert_output --partial "logs/S"
	kept=$(sed -n 's/.*the store is not clean (\(\/tmp\/rtcs\.[A-Za-z0-9]*\) kept).*/\1/p' <<<"$output")
	[ -d "$kept" ] && rm -rf "$kept"
}

@test "rtcs-testing: a server that cannot start fails rtcs_server_start with its log" {
	cp "$RTCS_TOP/tests/ci-example/nostart.bats" "$T/ci/"
	ci_bats nostart.bats
	assert_failure
	assert_output --partial 'rtcs-testing: rtcs-serve did not become ready:'
	assert_output --partial -- '--sync'
}
