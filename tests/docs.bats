#!/usr/bin/env bats
# Help, man pages and completions agree, for every program built (design.md 9).
load lib
load docs_helper

@test "docs: every program's --help, man page and bash/zsh/fish completions list the same long options" {
	local prog out=""
	for prog in "$RTCS_BIN"/rtcs-*; do
		[ -x "$prog" ] || continue
		out+=$(docs_compare "$prog")
	done
	[ -z "$out" ] || fail "$out"
}

@test "docs: every program answers -h and -V with exit 0" {
	local prog
	for prog in "$RTCS_BIN"/rtcs-*; do
		[ -x "$prog" ] || continue
		run "$prog" -h
		assert_success
		run "$prog" -V
		assert_success
		assert_output --partial "$(basename "$prog")"
	done
}

@test "docs: every man page is clean under mandoc -Tlint -Wwarning" {
	local page
	for page in "$RTCS_TOP"/man/*.[1-9]; do
		[ -f "$page" ] || continue
		run mandoc -Tlint -Wwarning "$page"
		[ "$status" -eq 0 ] || fail "$page: $output"
	done
}

@test "docs: the extraction helpers see what they should" {
	run docs_fish_opts "$RTCS_TOP/completions/fish/rtcs-code.fish"
	assert_line -- --depth
	assert_line -- --type
	run docs_man_opts "$RTCS_TOP/man/rtcs-code.1"
	assert_line -- --json
	refute_line -- -t
}

@test "docs: every man page has EXAMPLES, ENVIRONMENT, FILES and EXIT STATUS sections" {
	local m s
	for m in "$RTCS_TOP"/man/*.[1-9]; do
		for s in EXAMPLES ENVIRONMENT FILES 'EXIT STATUS'; do
			grep -q "^\.Sh $s\$" "$m" || fail "$m: no $s section"
		done
	done
}
