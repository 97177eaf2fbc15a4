#!/usr/bin/env bats
# rtcs-session against a real rtcs-serve: sessions, chat between attached devices, logs, errors.
load lib
load client_server

setup() {
	case "$BATS_TEST_DESCRIPTION" in
	*"no server"*|usage*) T=$(rtcs_tmpdir) ;;
	*) start_server ;;
	esac
}

teardown() {
	stop_server
}

# new_session SPEC...: creates a session, its id in $SID.
new_session() {
	run rtcs-session new "$@"
	assert_success
	SID=$output
	[[ $SID =~ ^S[A-Z2-7]{16}$ ]]
}

@test "usage: bad usage exits 64 with one line" {
	run rtcs-session
	assert_failure 64
	[ "${#lines[@]}" -eq 1 ]
	run rtcs-session frobnicate
	assert_failure 64
	[ "${#lines[@]}" -eq 1 ]
	assert_output --partial "unknown command"
	run rtcs-session send SAAAAAAAAAAAAAAAA hi
	assert_failure 64
	[ "${#lines[@]}" -eq 1 ]
	assert_output --partial -- "--as DEVICE is required"
	run rtcs-session list --bogus
	assert_failure 64
	[ "${#lines[@]}" -eq 1 ]
	run rtcs-session log SAAAAAAAAAAAAAAAA --since minus-one
	assert_failure 64
	run rtcs-session new alice
	assert_failure 64
	assert_output --partial "NAME@DEVICE"
	run rtcs-session new Alice@phone
	assert_failure 64
	run rtcs-session show not-an-id
	assert_failure 65
	run rtcs-session attach SAAAAAAAAAAAAAAAA
	assert_failure 64
	run rtcs-session list --timeout soon
	assert_failure 64
}

@test "usage: --help and --version" {
	run rtcs-session --help
	assert_success
	for c in new list show end join attach send log; do
		assert_output --partial "  $c "
	done
	run rtcs-session attach --help
	assert_success
	assert_line --index 0 --partial "usage: rtcs-session attach ID --as DEVICE"
	run rtcs-session -V
	assert_success
	assert_line --index 0 --regexp '^rtcs-session [0-9]+\.[0-9]+\.[0-9]+ \(git [^)]+\)$'
}

@test "no server: a socket path that does not exist exits 69" {
	run rtcs-session -S "$T/nothing/sock" list
	assert_failure 69
	[ "${#lines[@]}" -eq 1 ]
	assert_output "rtcs-session: list: cannot reach rtcs-serve at $T/nothing/sock: No such file or directory"
	RTCS_SOCKET=$T/nothing/sock run rtcs-session new alice@alice-phone --keys "$T/keys"
	assert_failure 69
}

@test "no server: a socket where nothing listens exits 69" {
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$T/dead.sock"
	run rtcs-session -S "$T/dead.sock" show SAAAAAAAAAAAAAAAA
	assert_failure 69
	assert_output --partial "cannot reach rtcs-serve at $T/dead.sock: Connection refused"
	mkdir -p -m 700 "$T/keys"
	printf 'SAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAAAAAA\n' >"$T/keys/a.token"
	chmod 600 "$T/keys/a.token"
	run rtcs-session -S "$T/dead.sock" --keys "$T/keys" send SAAAAAAAAAAAAAAAA --as a hi
	assert_failure 69
	run rtcs-session -S "$T/dead.sock" --keys "$T/keys" attach SAAAAAAAAAAAAAAAA --as a </dev/null
	assert_failure 69
}

@test "new prints the id and keeps each token in a private key directory" {
	new_session alice@alice-phone bob@bob-pc
	assert_file_exist "$RTCS_KEYS/alice-phone.token"
	[ "$(stat -c %a "$RTCS_KEYS")" = 700 ]
	[ "$(stat -c %a "$RTCS_KEYS/alice-phone.token")" = 600 ]
	[ "$(stat -c %a "$RTCS_KEYS/bob-pc.token")" = 600 ]
	run cut -d' ' -f1 "$RTCS_KEYS/bob-pc.token"
	assert_output "$SID"
	run rtcs-session list
	assert_success
	assert_output --partial "$SID"
	assert_output --partial "alice@alice-phone, bob@bob-pc"
	run rtcs-session show "$SID"
	assert_success
	assert_output --partial "state:    live"
}

@test "new --kind takes the server's rule: a kind with a dot is a usage error" {
	run rtcs-session new --kind tele.phony alice@alice-phone
	assert_failure 64
	[ "${#lines[@]}" -eq 1 ]
	assert_output --partial "invalid kind 'tele.phony'"
	new_session --kind tele-phony_2 alice@alice-phone
}

@test "parallel new sharing one key directory keeps every token" {
	local i pids=() rc=0
	for i in $(seq 1 20); do
		rtcs-session new alice@alice-phone "bob@bob-pc$i" >"$T/new.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || rc=$?
	done
	[ "$rc" -eq 0 ]
	[ "$(wc -l <"$RTCS_KEYS/alice-phone.token")" -eq 20 ]
	[ "$(cut -d' ' -f1 "$RTCS_KEYS/alice-phone.token" | sort -u | wc -l)" -eq 20 ]
	[ "$(cat "$T"/new.* | sort | cut -d' ' -f1)" = "$(cut -d' ' -f1 "$RTCS_KEYS/alice-phone.token" | sort)" ]
}

@test "a token file or key directory open to others is refused: 77 with one line" {
	new_session alice@alice-phone
	chmod 0644 "$RTCS_KEYS/alice-phone.token"
	run rtcs-session send "$SID" --as alice-phone "hi"
	assert_failure 77
	[ "${#lines[@]}" -eq 1 ]
	assert_output --partial "alice-phone.token is open to others"
	chmod 0600 "$RTCS_KEYS/alice-phone.token"
	chmod 0750 "$RTCS_KEYS"
	run rtcs-session send "$SID" --as alice-phone "hi"
	assert_failure 77
	[ "${#lines[@]}" -eq 1 ]
	chmod 0700 "$RTCS_KEYS"
	run rtcs-session send "$SID" --as alice-phone "hi"
	assert_success
}

@test "new with NAME@DEVICE:KEYDIR keeps each device's token in its own directory" {
	new_session --kind video alice@alice-phone:"$T/k-alice" bob@bob-pc:"$T/k-bob"
	assert_file_exist "$T/k-alice/alice-phone.token"
	assert_file_exist "$T/k-bob/bob-pc.token"
	assert_file_not_exist "$T/k-alice/bob-pc.token"
	run rtcs-session --keys "$T/k-bob" send "$SID" --as bob-pc "from bob"
	assert_success
	run rtcs-session --keys "$T/k-alice" send "$SID" --as bob-pc "not bob"
	assert_failure 66
	run rtcs-session show "$SID" --json
	assert_success
	run jq -r .session.kind <<<"$output"
	assert_output video
}

@test "--json output parses" {
	run rtcs-session new --json alice@alice-phone bob@bob-pc
	assert_success
	SID=$(jq -r .session.id <<<"$output")
	[[ $SID =~ ^S ]]
	refute_output --partial "tokens"
	run rtcs-session list --json
	assert_success
	run jq -e --arg id "$SID" '.sessions | map(.id) | index($id) != null' <<<"$output"
	assert_success
	run rtcs-session show --json "$SID"
	jq -e '.session.participants | length == 2' <<<"$output"
	run rtcs-session send --json "$SID" --as alice-phone hello
	assert_success
	run jq -e '.seq >= 2' <<<"$output"
	assert_success
	run rtcs-session log --json "$SID"
	assert_success
	jq -e -s 'length >= 2 and .[-1].body == "hello" and .[-1].from == "alice"' <<<"$output"
}

@test "two terminals chatting through attach" {
	new_session alice@alice-phone:"$T/ka" bob@bob-pc:"$T/kb"
	attach_start a "$SID" alice-phone --keys "$T/ka"
	attach_start b "$SID" bob-pc --keys "$T/kb"
	expect_line a 'session created'
	expect_line b 'session created'
	say a "hello bob"
	expect_line b '^\[[0-9]+\] alice: hello bob$'
	expect_line a '^\[[0-9]+\] alice: hello bob$'
	say b "hi alice"
	expect_line a '^\[[0-9]+\] bob: hi alice$'
	say a "how are you?"
	expect_line b 'alice: how are you\?$'
	rtcs-session end "$SID"
	expect_line a 'channel closed: the session ended'
	expect_line b 'channel closed: the session ended'
	attach_wait a
	[ "$STATUS" -eq 0 ]
	attach_wait b
	[ "$STATUS" -eq 0 ]
}

@test "five participants all see every message; the log has no gaps" {
	new_session p1@d1 p2@d2 p3@d3 p4@d4 p5@d5
	for i in 1 2 3 4 5; do
		attach_start "n$i" "$SID" "d$i" --json
	done
	for i in 1 2 3 4 5; do
		say "n$i" "message from p$i"
	done
	for i in 1 2 3 4 5; do
		expect_all "n$i" '"message from p1"' '"message from p2"' '"message from p3"' \
		    '"message from p4"' '"message from p5"'
	done
	run rtcs-session log --json "$SID"
	assert_success
	run jq -s -c '[.[] | select(.type == "message") | .from] | sort' <<<"$output"
	assert_output '["p1","p2","p3","p4","p5"]'
	# every entry once, seq without gaps
	run rtcs-session log --json "$SID"
	run jq -s -e '[.[].seq] == [range(1; length + 1)]' <<<"$output"
	assert_success
	rtcs-session end "$SID"
	for i in 1 2 3 4 5; do
		expect_line "n$i" '"channel.closed"'
		attach_wait "n$i"
		[ "$STATUS" -eq 0 ]
	done
}

@test "send from arguments and stdin; log --since" {
	new_session alice@alice-phone bob@bob-pc
	run rtcs-session -v send "$SID" --as alice-phone one
	assert_success
	first=$output
	[[ $first =~ ^[0-9]+$ ]]
	printf 'two\n\nthree\n' | rtcs-session send "$SID" --as bob-pc -
	run rtcs-session log "$SID" --since "$first"
	assert_success
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --regexp '^\[[0-9]+\] bob: two$'
	assert_line --index 1 --regexp '^\[[0-9]+\] bob: three$'
	run rtcs-session log "$SID"
	assert_line --index 0 --partial "session created"
	assert_line --regexp "^\[$first\] alice: one$"
}

@test "log --follow prints new entries until the session ends" {
	new_session alice@alice-phone bob@bob-pc
	mkfifo "$T/follow"
	rtcs-session log "$SID" --follow >"$T/follow" 2>"$T/follow.err" 3>&- &
	pid=$!
	exec {fd}<"$T/follow"
	IFS= read -r -t 10 -u "$fd" line
	[[ $line == *"session created"* ]]
	rtcs-session send "$SID" --as bob-pc "live one"
	r=0
	IFS= read -r -t 10 -u "$fd" line || r=$?
	[ "$r" -eq 0 ]
	[[ $line =~ bob:\ live\ one$ ]]
	rtcs-session end "$SID"
	IFS= read -r -t 10 -u "$fd" line
	[[ $line == *"session ended"* ]]
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
}

@test "log --follow --as DEVICE follows the device's stream" {
	new_session alice@alice-phone bob@bob-pc
	mkfifo "$T/follow"
	rtcs-session log "$SID" --follow --as alice-phone --since 1 >"$T/follow" 3>&- &
	pid=$!
	exec {fd}<"$T/follow"
	rtcs-session send "$SID" --as bob-pc "to the follower"
	IFS= read -r -t 10 -u "$fd" line
	[[ $line =~ ^\[2\]\ bob:\ to\ the\ follower$ ]]
	rtcs-session end "$SID"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ]
}

@test "a device cannot send as another: 77 with one line" {
	new_session alice@alice-phone bob@bob-pc
	mkdir -m 700 "$T/forged"
	printf '%s AAAAAAAAAAAAAAAAAAAAAAAAAA\n' "$SID" >"$T/forged/bob-pc.token"
	chmod 600 "$T/forged/bob-pc.token"
	run rtcs-session --keys "$T/forged" send "$SID" --as bob-pc "I am bob"
	assert_failure 77
	[ "${#lines[@]}" -eq 1 ]
	# a token of another session
	new_session carol@carol-pc
	other=$SID
	SID2=$(rtcs-session new dave@dave-pc)
	printf '%s %s\n' "$SID2" "$(cut -d' ' -f2 "$RTCS_KEYS/carol-pc.token")" >"$T/forged/carol-pc.token"
	chmod 600 "$T/forged/carol-pc.token"
	run rtcs-session --keys "$T/forged" send "$SID2" --as carol-pc "not mine"
	assert_failure 77
	[ "${#lines[@]}" -eq 1 ]
	run rtcs-session --keys "$T/forged" attach "$SID2" --as carol-pc </dev/null
	assert_failure 77
	run rtcs-session log "$other"
	refute_output --partial "not mine"
}

@test "a missing token file exits 66" {
	new_session alice@alice-phone
	run rtcs-session send "$SID" --as nobody-here hi
	assert_failure 66
	[ "${#lines[@]}" -eq 1 ]
	assert_output "rtcs-session: send $SID: nobody-here has no token in $RTCS_KEYS (no file $RTCS_KEYS/nobody-here.token)"
	run rtcs-session attach "$SID" --as nobody-here </dev/null
	assert_failure 66
}

@test "unknown sessions: 66; ending twice: 1" {
	run rtcs-session show SAAAAAAAAAAAAAAAA
	assert_failure 66
	[ "${#lines[@]}" -eq 1 ]
	new_session alice@alice-phone
	run rtcs-session end "$SID"
	assert_success
	run rtcs-session end "$SID"
	assert_failure 1
	run rtcs-session show "$SID"
	assert_output --partial "state:    ended"
	run rtcs-session list --state live
	refute_output --partial "$SID"
}

@test "join adds a participant who can attach; end closes attach with exit 0" {
	new_session alice@alice-phone
	run rtcs-session join "$SID" carol@carol-pc:"$T/kc"
	assert_success
	[ "$(stat -c %a "$T/kc/carol-pc.token")" = 600 ]
	attach_start c "$SID" carol-pc --keys "$T/kc"
	hang_up c
	rtcs-session send "$SID" --as alice-phone "welcome carol"
	expect_line c 'alice: welcome carol$'
	rtcs-session end "$SID"
	expect_line c '^\* channel closed: the session ended$'
	attach_wait c
	[ "$STATUS" -eq 0 ]
	run rtcs-session join "$SID" dave@dave-pc
	assert_failure
	run rtcs-session join "$SID" nonsense
	assert_failure 64
}

@test "attach --since replays from there; stdin EOF keeps receiving" {
	new_session alice@alice-phone bob@bob-pc
	rtcs-session send "$SID" --as bob-pc "old news"
	attach_start a "$SID" alice-phone --since 2
	hang_up a
	rtcs-session send "$SID" --as bob-pc "fresh news"
	expect_line a '.'
	[[ $LINE =~ ^\[3\]\ bob:\ fresh\ news$ ]]
	rtcs-session end "$SID"
	attach_wait a
	[ "$STATUS" -eq 0 ]
}

@test "attach --timeout gives up with 124" {
	new_session alice@alice-phone
	run rtcs-session attach "$SID" --as alice-phone --timeout 0.3 </dev/null
	assert_failure 124
	assert_output --partial "session created"
	assert_output --partial "timed out"
}

@test "attach: a message the server refuses sets the exit code" {
	new_session alice@alice-phone bob@bob-pc
	head -c 70000 /dev/zero | tr '\0' x >"$T/big"
	echo >>"$T/big"
	run rtcs-session attach "$SID" --as alice-phone --timeout 1 <"$T/big"
	assert_failure 65
	assert_output --partial "text over"
}

@test "attach exits 69 when the server goes away" {
	new_session alice@alice-phone
	attach_start a "$SID" alice-phone
	expect_line a 'session created'
	kill "$SERVE_PID"
	wait "$SERVE_PID" || true
	SERVE_PID=
	attach_wait a
	[ "$STATUS" -eq 69 ]
	run cat "$T/a.err"
	[ "${#lines[@]}" -eq 1 ]
	run rtcs-session show "$SID"
	assert_failure 69
}

@test "--store reads list, show and log offline, the same as the server says" {
	new_session alice@alice-phone bob@bob-pc
	rtcs-session send "$SID" --as bob-pc "stored"
	run rtcs-session list --store "$T/store"
	if [ "$status" -eq 70 ] && [[ $output == *"not built into this version"* ]]; then
		skip "this build has no store reader (common/store.h comes with rtcs-serve)"
	fi
	assert_success
	diff <(rtcs-session list --json | jq -S .) <(rtcs-session list --json --store "$T/store" | jq -S .)
	diff <(rtcs-session show --json "$SID" | jq -S .) <(rtcs-session show --json "$SID" --store "$T/store" | jq -S .)
	diff <(rtcs-session log "$SID" --since 1) <(rtcs-session log "$SID" --since 1 --store "$T/store")
	kill "$SERVE_PID"
	wait "$SERVE_PID" || true
	SERVE_PID=
	run rtcs-session log "$SID" --store "$T/store"
	assert_success
	assert_line --regexp '^\[2\] bob: stored$'
	run rtcs-session show SAAAAAAAAAAAAAAAA --store "$T/store"
	assert_failure 66
	run rtcs-session show SAAAAAAAAAAAAAAAA --store "$T/none"
	assert_failure 66
}
