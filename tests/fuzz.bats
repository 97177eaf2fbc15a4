#!/usr/bin/env bats
# A few seconds of each libFuzzer target (make fuzz runs them longer).
load lib

@test "fuzz: payload parser, PNM reader, PNG+zbar, store formats: 3 seconds each without a crash" {
	command -v clang > /dev/null || skip "clang not installed"
	run make -C "$RTCS_TOP" --no-print-directory O="${RTCS_O:-build}" fuzz FUZZ_TIME=3
	[ "$status" -eq 0 ] || fail "$output"
	assert_output --partial 'fuzz: fuzz_png_zbar for 3s'
	refute_output --partial FAILED
}
