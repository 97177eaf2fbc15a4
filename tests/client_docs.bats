#!/usr/bin/env bats
# rtcs-session and rtcs-transfer: --help, man page and completions name the same long options.
load lib

long_opts() {
	grep -oE -- '--[a-z][a-z-]*' | sort -u
}

@test "client docs: man pages are clean under mandoc -Tlint" {
	for p in rtcs-session rtcs-transfer; do
		run mandoc -Tlint -Wwarning "$RTCS_TOP/man/$p.1"
		assert_success
		assert_output ""
	done
}

@test "client docs: --help, man page and completions agree on long options" {
	for p in rtcs-session rtcs-transfer; do
		help=$("$p" --help | long_opts)
		man=$(grep -E '^\.It Fl' "$RTCS_TOP/man/$p.1" | grep -oE 'Fl -[a-z][a-z-]*' | sed 's/^Fl /-/' | sort -u)
		[ "$help" = "$man" ] || { echo "$p: man differs"; diff <(echo "$help") <(echo "$man"); false; }
		for f in "completions/bash/$p" "completions/zsh/_$p" "completions/fish/$p.fish"; do
			c=$(long_opts <"$RTCS_TOP/$f")
			[ "$help" = "$c" ] || { echo "$f differs"; diff <(echo "$help") <(echo "$c"); false; }
		done
	done
}

@test "client docs: man pages have an EXIT STATUS section" {
	for p in rtcs-session rtcs-transfer; do
		grep -q '^\.Sh EXIT STATUS' "$RTCS_TOP/man/$p.1"
	done
}
