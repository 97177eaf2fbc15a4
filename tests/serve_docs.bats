#!/usr/bin/env bats
# rtcs-serve: the docs tell the truth (README examples run; help, man page and completions agree).
load lib
load server

teardown() { stop_server; }

@test "the curl examples of doc/readme-serve.md work" {
	start_server
	awk '/^```sh$/ {on=1; next} /^```$/ {on=0} on' "$RTCS_TOP/doc/readme-serve.md" >"$RTCS_TEST_DIR/examples.sh"
	cd "$RTCS_TEST_DIR"
	run bash -e examples.sh 3>&-
	assert_success
	assert_line --partial '"status":"ok"'
	assert_line --regexp '^\{"seq":2\}$'
	assert_line --partial '"event":"participant.joined"'
	assert_line --partial '"state":"ended"'
	assert_line '{"error":{"code":"unauthorized","message":"unknown or revoked token"}}'
	run jq -r '.body // .event' bob.jsonl
	assert_output $'session.created\nhello bob\nparticipant.joined\nsession.ended\nchannel.closed'
}

@test "man pages are clean under mandoc -Tlint" {
	for m in rtcs-serve.1 rtcs-store.5 rtcs-api.7; do
		run mandoc -Tlint -Wwarning "$RTCS_TOP/man/$m"
		assert_success
		assert_output ""
	done
}

@test "rtcs-serve --help, man page and completions list the same long options" {
	help=$(rtcs-serve --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	man=$(grep -oE '^\.It Fl .*' "$RTCS_TOP/man/rtcs-serve.1" | grep -oE 'Fl -[a-z][a-z-]*' | sed 's/Fl -/--/' | sort -u)
	bash=$(grep -oE -- '--[a-z][a-z-]*' "$RTCS_TOP/completions/bash/rtcs-serve" | sort -u)
	zsh=$(grep -oE -- '--[a-z][a-z-]*' "$RTCS_TOP/completions/zsh/_rtcs-serve" | sort -u)
	fish=$(grep -oE -- '-l [a-z][a-z-]*' "$RTCS_TOP/completions/fish/rtcs-serve.fish" | sed 's/-l /--/' | sort -u)
	assert_equal "$man" "$help"
	assert_equal "$bash" "$help"
	assert_equal "$zsh" "$help"
	assert_equal "$fish" "$help"
}
