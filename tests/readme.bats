#!/usr/bin/env bats
# The README's walk-through pastes in order: every sh block of it, top to
# bottom, in one bash, as a newcomer would paste them (the first line's
# build/bin is the tree under test).
load lib

setup() {
	T=$(rtcs_tmpdir)
	awk '/^## A 5-minute walk-through/ {on=1} /^## Manual pages/ {on=0}
	    on && /^```sh$/ {code=1; n++; next} code && /^```$/ {code=0; next} code' \
	    "$RTCS_TOP/README.md" >"$T/walk.sh"
	BLOCKS=$(awk '/^## A 5-minute walk-through/ {on=1} /^## Manual pages/ {on=0} on && /^```sh$/' \
	    "$RTCS_TOP/README.md" | wc -l)
}

teardown() { rm -rf "$T"; }

@test "README: the walk-through runs top to bottom, every block in order, in one shell" {
	[ "$BLOCKS" -ge 10 ]
	grep -q '^export PATH="$PWD/build/bin:$PATH"' "$T/walk.sh"
	sed -i "s|^export PATH=\"\$PWD/build/bin:\$PATH\"|export PATH=\"$RTCS_BIN:\$PATH\"|" "$T/walk.sh"
	cd "$RTCS_TOP"
	run env -u RTCS_SOCKET -u RTCS_KEYS -u RTCS_STORE timeout 120 bash -e -o pipefail "$T/walk.sh" </dev/null 3>&-
	[ "$status" -eq 0 ] || fail "exit $status; the end of its output: $(tail -n 15 <<<"$output")"
	assert_line ready
	assert_line --regexp '^S[A-Z2-7]{16}$'
	assert_line --regexp '^\[[0-9]+\] alice: hello bob$'
	assert_line --regexp '^T[A-Z2-7]{16} verified claimant$'
	assert_line '* channel closed: the session moved to alice-tablet'
	assert_line --regexp '^\{"sessions":\[\{"session":"S[A-Z2-7]{16}",.*"token":"[^"]+"\}\]\}$'
	assert_line --regexp '^\{"seq":[0-9]+\}$'
	assert_line --partial '"event":"session.ended"'
	# the call: bob heard alice through the switch, nothing lost
	assert_line --regexp '^received audio from alice: [0-9]+ frames, lost 0, duplicated 0'
	assert_line --partial 'channel closed: the call moved to another device'
	refute_line ''	# no stray empty line
	# the last line: the store checks out; every device's message is in the log
	assert_equal "${lines[-1]}" "rtcs-serve: store: 4 sessions, ${lines[-1]#*sessions, }"
	[[ ${lines[-1]} == *", 0 problems" ]] || fail "last line: ${lines[-1]}"
}
