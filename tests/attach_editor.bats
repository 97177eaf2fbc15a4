#!/usr/bin/env bats
# rtcs-session attach on a terminal (script(1) gives it a pty): GNU readline
# edits the line being typed; an incoming line is printed above it and the
# line is redrawn; history; the prompt names the device; Ctrl-D leaves.
load lib
load client_server

setup() {
	start_server
	SID=$(rtcs-session new alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb")
	mkfifo "$T/keys.in"
	exec {IN}<>"$T/keys.in"
}

teardown() {
	[ -z "${TTY_PID:-}" ] || kill "$TTY_PID" 2>/dev/null || true
	stop_server
}

# on_tty ARGS...: "rtcs-session ARGS" on a pseudo-terminal; keys typed with
# type_keys go to it, what it draws to $T/tty.out.
on_tty() {
	local cmd="rtcs-session" a
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	TERM=dumb script -qfec "$cmd" /dev/null <&"$IN" >"$T/tty.out" 2>&1 {IN}>&- &
	TTY_PID=$!
}

type_keys() {
	printf "$1" >&"$IN"
}

# screen: the lines as a terminal shows them (what a carriage return wrote over is gone).
screen() {
	sed 's/\r$//; s/.*\r//' "$T/tty.out"
}

# screen_has PATTERN [AFTER]: waits until the terminal shows PATTERN (grep -E),
# below the first line that matches AFTER if given.
screen_has() {
	local end=$((SECONDS + 10))
	until screen | sed -n "${2:+/$2/,\$}p" | grep -qE -- "$1"; do
		[ $SECONDS -lt $end ] || { echo "no /$1/ on the screen:"; cat -A "$T/tty.out"; return 1; } >&2
		read -r -t 0.02 <> <(:) || true
	done
}

@test "attach on a terminal: an incoming line never breaks the line being typed" {
	on_tty --keys "$T/ka" attach "$SID" --as alice-phone
	screen_has '^alice-phone> '
	type_keys 'hel'
	screen_has 'alice-phone> hel$'
	rtcs-session --keys "$T/kb" send "$SID" --as bob-pc ping
	# bob's line is printed on a line of its own, then the half-typed line is drawn again
	screen_has '^\[[0-9]+\] bob: ping$'
	screen_has '^alice-phone> hel$' 'bob: ping'
	run screen
	assert_line --index 1 '[2] bob: ping'
	assert_line --index 2 'alice-phone> hel'
	type_keys 'lo\n'
	screen_has '\[[0-9]+\] alice: hello$'
	run rtcs-session log "$SID"
	assert_output --regexp $'\\[[0-9]+\\] bob: ping\n\\[[0-9]+\\] alice: hello$'
}

@test "attach on a terminal: history (up arrow) and Ctrl-D to leave with exit 0" {
	on_tty --keys "$T/ka" attach "$SID" --as alice-phone
	screen_has '^alice-phone> '
	type_keys 'first line\n'
	screen_has 'alice: first line$'
	type_keys '\033[A\n'	# the line again, from the history
	screen_has '\[3\] alice: first line$'
	type_keys '\004'
	rc=0
	wait "$TTY_PID" || rc=$?
	TTY_PID=
	[ "$rc" -eq 0 ]
	run rtcs-session log "$SID"
	[ "$(grep -c 'alice: first line' <<<"$output")" -eq 2 ]
}

@test "attach on a terminal: the confirmation hint pastes as printed (--keys, --match - for the origin only)" {
	on_tty --keys "$T/ka" attach "$SID" --as alice-phone
	screen_has '^alice-phone> '
	P=$(rtcs-transfer --keys "$T/ka" request "$SID" --as alice-phone --proof scanner --confirm all)
	tid=$(cut -d: -f3 <<<"$P")
	rtcs-code -o "$T/code.png" "$P"
	rtcs-scan --keys "$T/kt" --submit --as alice-tablet "$T/code.png" >"$T/scan.out" 2>/dev/null
	screen_has "asks to take over alice; type the match code alice-tablet shows after: rtcs-transfer --keys $T/ka confirm $tid --as alice-phone --match -$"
	# the peer is asked to consent, with no match code
	run rtcs-session --keys "$T/kb" log "$SID" --follow --as bob-pc --timeout 2
	assert_output --partial "consent: rtcs-transfer --keys $T/kb confirm $tid --as bob-pc; refuse: rtcs-transfer --keys $T/kb reject $tid --as bob-pc"
	refute_output --partial -- "--match"
	# the origin's hint, pasted, reads the code from stdin
	sed -n 's/^match code: //p' "$T/scan.out" | rtcs-transfer --keys "$T/ka" confirm "$tid" --as alice-phone --match -
	rtcs-transfer --keys "$T/kb" confirm "$tid" --as bob-pc
	run rtcs-transfer wait "$tid" --timeout 10
	assert_success
}
