#!/usr/bin/env bats
# rtcs-transfer without the server's transfer support: usage, argument checks, no server.
load lib

setup() {
	T=$(rtcs_tmpdir)
	export RTCS_SOCKET=$T/none/sock RTCS_KEYS=$T/keys
}

teardown() {
	rm -rf "$T"
}

@test "usage errors exit 64 with one line" {
	for args in "" "frobnicate" "request" "request SAAAAAAAAAAAAAAAA" \
	    "request SAAAAAAAAAAAAAAAA --as a --confirm maybe" \
	    "request SAAAAAAAAAAAAAAAA --as a --proof none" \
	    "request SAAAAAAAAAAAAAAAA --as BAD" "request SAAAAAAAAAAAAAAAA --as a --ttl soon" \
	    "offer" "offer extra --as a" "show" "confirm TAAAAAAAAAAAAAAAA" \
	    "confirm TAAAAAAAAAAAAAAAA --as a --match 12" "reject TAAAAAAAAAAAAAAAA" \
	    "wait" "wait TAAAAAAAAAAAAAAAA --for nothing" "watch TAAAAAAAAAAAAAAAA --session SAAAAAAAAAAAAAAAA" \
	    "run SAAAAAAAAAAAAAAAA --from a" "invite" "list --state sometimes" "list --bogus" \
	    "wait TAAAAAAAAAAAAAAAA --timeout x"; do
		run rtcs-transfer $args
		[ "$status" -eq 64 ] || { echo "args: $args -> $status: $output"; false; }
		[ "${#lines[@]}" -eq 1 ] || { echo "args: $args: $output"; false; }
	done
}

@test "ids are checked before asking the server: 65" {
	run rtcs-transfer show not-a-transfer
	assert_failure 65
	run rtcs-transfer show SAAAAAAAAAAAAAAAA
	assert_failure 65
	run rtcs-transfer request TAAAAAAAAAAAAAAAA --as a
	assert_failure 65
	run rtcs-transfer list --session nope
	assert_failure 65
}

@test "--help lists every command; --version" {
	run rtcs-transfer --help
	assert_success
	for c in request offer show list confirm reject cancel wait watch run invite; do
		assert_output --partial "  $c "
	done
	run rtcs-transfer wait --help
	assert_line --index 0 --partial "usage: rtcs-transfer wait ID"
	run rtcs-transfer -V
	assert_line --index 0 --regexp '^rtcs-transfer [0-9.]+ \(git [^)]+\)$'
}

@test "no server: 69" {
	for args in "list" "show TAAAAAAAAAAAAAAAA" "offer --as tablet" "invite --to desk" \
	    "wait TAAAAAAAAAAAAAAAA" "watch" "cancel TAAAAAAAAAAAAAAAA"; do
		run rtcs-transfer $args
		[ "$status" -eq 69 ] || { echo "args: $args -> $status: $output"; false; }
		[ "${#lines[@]}" -eq 1 ]
		[[ $output == "rtcs-transfer: ${args%% *}"*": cannot reach rtcs-serve at $T/none/sock: No such file or directory" ]]
	done
}

@test "a device without a token: 66 before any request" {
	run rtcs-transfer request SAAAAAAAAAAAAAAAA --as tablet
	assert_failure 66
	assert_output --regexp "^rtcs-transfer: request SAAAAAAAAAAAAAAAA: no key directory .* \(give --keys DIR or set RTCS_KEYS\)$"
	run rtcs-transfer run SAAAAAAAAAAAAAAAA --from phone --to tablet
	assert_failure 66
}
