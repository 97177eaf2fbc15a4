#!/usr/bin/env bats
# rtcs-session media against a real rtcs-serve: audio and simulated video
# counted on the other side, where a sender's timeline goes on, how it stops.
load lib
load client_server

setup() {
	case "$BATS_TEST_DESCRIPTION" in
	usage*) T=$(rtcs_tmpdir) ;;
	*) start_server ;;
	esac
	command -v sox >/dev/null || skip "no sox (tools/packages)"
}

teardown() {
	[ -z "${BG:-}" ] || kill "$BG" 2>/dev/null || true
	stop_server
}

new_call() {
	SID=$(rtcs-session new --kind telephony alice@alice-phone bob@bob-pc)
	[[ $SID =~ ^S[A-Z2-7]{16}$ ]]
}

# streams N: waits until rtcs-serve has N streams open.
streams() {
	local end=$((SECONDS + 10))
	until [ "$(curl -s --unix-socket "$T/sock" http://rtcs/v1/health | jq .streams)" -ge "$1" ]; do
		[ $SECONDS -lt $end ] || fail "fewer than $1 streams"
		read -r -t 0.02 <> <(:) || true
	done
}

last_of() {	# last_of PARTICIPANT MEDIA: "FRAME PTS" the server last heard
	curl -s --unix-socket "$T/sock" "http://rtcs/v1/sessions/$SID/media" |
	    jq -r --arg p "$1" --arg m "$2" '.media.senders[] | select(.participant == $p and .media == $m) | "\(.frame) \(.pts)"'
}

@test "usage: media needs one id and --as; --resume goes with something to send; --video is RATEfps:SIZE" {
	run rtcs-session media --as bob-pc
	assert_failure 64
	run rtcs-session media SAAAAAAAAAAAAAAAA
	assert_failure 64
	assert_output --partial -- "--as DEVICE is required"
	run rtcs-session media SAAAAAAAAAAAAAAAA --as bob-pc --resume
	assert_failure 64
	assert_output --partial -- "--resume goes with --send or --video"
	for v in 30 30fps 30fps:0KB 0fps:1KB 30fps:1MB 30fps:200KB; do
		run rtcs-session --keys "$T" media SAAAAAAAAAAAAAAAA --as bob-pc --video "$v"
		assert_failure 64
		[ "${#lines[@]}" -eq 1 ]
	done
	run rtcs-session media SAAAAAAAAAAAAAAAA --as bob-pc --transfer nope
	assert_failure 65
}

@test "an audio file that is not there is 66; one Opus cannot take says how to convert it (65)" {
	new_call
	run rtcs-session media "$SID" --as alice-phone --send "$T/none.wav"
	assert_failure 66
	sox -n -r 44100 -c 1 "$T/cd.wav" synth 0.1 sine 440
	run rtcs-session media "$SID" --as alice-phone --send "$T/cd.wav"
	assert_failure 65
	assert_output --partial "sox"
}

@test "simulated video and audio reach the other participant whole: counted, none lost, none corrupt" {
	new_call
	sox -n -r 16000 -c 1 "$T/tone.wav" synth 1 sine 440
	rtcs-session --json media "$SID" --as bob-pc --receive "$T/bob.wav" --linger 1 \
	    >"$T/bob.json" 2>"$T/bob.err" &
	BG=$!
	streams 1
	run rtcs-session --json media "$SID" --as alice-phone --send "$T/tone.wav" --video 25fps:3KB \
	    --linger 0.2
	assert_success
	assert_equal "$(jq -c '[.sent[] | "\(.media) \(.frames) \(.first_frame) \(.last_frame)"]' <<<"$output")" \
	    '["audio 50 1 50","video 25 1 25"]'
	wait "$BG"
	BG=
	run jq -r '.received[] | "\(.participant) \(.media) \(.frames) \(.lost) \(.duplicated) \(.corrupt)"' "$T/bob.json"
	assert_line "alice audio 50 0 0 0"
	assert_line "alice video 25 0 0 0"
	assert_equal "$(jq -r '.totals.video.frames' "$T/bob.json")" 25
	# bob writes alice's audio at its rate: 16 kHz is not his file's (none): 48 kHz mono
	run soxi -r "$T/bob.wav"
	assert_output 48000
	run soxi -D "$T/bob.wav"
	awk -v d="$output" 'BEGIN { exit !(d >= 0.9) }' || fail "bob.wav lasts $output s"
}

@test "a sender's timeline goes on: the next run numbers after the last frame; --resume takes up the file there" {
	new_call
	sox -n -r 48000 -c 1 "$T/s.wav" synth 1 sine 300
	run rtcs-session --json media "$SID" --as alice-phone --send "$T/s.wav" --duration 0.4 --linger 0
	assert_success
	n=$(jq '.sent[0].frames' <<<"$output")
	[ "$n" -ge 15 ] && [ "$n" -le 21 ]
	assert_equal "$(last_of alice audio)" "$n $(((n - 1) * 20))"
	# without --resume: the file from its start, numbers and pts after the last
	run rtcs-session --json media "$SID" --as alice-phone --send "$T/s.wav" --duration 0.1 --linger 0
	assert_success
	assert_equal "$(jq -r '.sent[0] | "\(.first_frame) \(.first_pts)"' <<<"$output")" "$((n + 1)) $((n * 20))"
	read -r f p < <(last_of alice audio)
	# --resume: the file from pts p on, to its end: 50 frames in all less the p / 20 + 1 played
	run rtcs-session --json media "$SID" --as alice-phone --send "$T/s.wav" --resume --linger 0
	assert_success
	assert_equal "$(jq -r '.sent[0] | "\(.first_frame) \(.first_pts) \(.frames) \(.last_pts)"' <<<"$output")" \
	    "$((f + 1)) $((p + 20)) $((50 - p / 20 - 1)) 980"
}

@test "the session ends: media says the channel closed and exits 0; a signal stops it with its report" {
	new_call
	rtcs-session --json media "$SID" --as bob-pc >"$T/bob.json" 2>"$T/bob.err" &
	BG=$!
	streams 1
	rtcs-session end "$SID" >/dev/null
	wait "$BG"
	BG=
	assert_equal "$(jq -r .closed "$T/bob.json")" session_ended
	new_call
	rtcs-session --json media "$SID" --as bob-pc >"$T/bob.json" 2>"$T/bob.err" &
	BG=$!
	streams 1
	kill -TERM "$BG"
	rc=0
	wait "$BG" || rc=$?
	BG=
	[ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$T/bob.err")"
	assert_equal "$(jq -c '[.closed, .received]' "$T/bob.json")" '[null,[]]'
}
