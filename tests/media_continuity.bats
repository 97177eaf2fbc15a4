#!/usr/bin/env bats
# Audio through a switch (issue 13 item 4): alice and bob send the same sine
# sweep both ways with rtcs-session media while alice moves from her phone
# to her tablet (push, the real programs). Afterwards bob's WAV, and alice's
# phone part + tablet part, are compared with what was sent: no frame lost,
# none twice, no silent 20 ms block, and a generous bound on the gap bob heard
# (make bench holds the 60 ms).
load lib
load server
load xfer_steps

setup() {
	command -v sox >/dev/null || skip "no sox (tools/packages)"
	WAVCMP=$(rtcs_tool wavcmp)
	[ -x "$WAVCMP" ] || skip "no $WAVCMP (make wavcmp)"
	MEDIA_PIDS=()
}

teardown() {
	local p
	for p in "${MEDIA_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	stop_server
}

# media NAME KEYDIR DEVICE [ARGS]: rtcs-session media in the background, --json to NAME.json.
media() {
	local name=$1 keys=$2 dev=$3
	shift 3
	rtcs-session --keys "$keys" --json media "$SID" --as "$dev" --send "$RTCS_TEST_DIR/sweep.wav" \
	    --receive "$RTCS_TEST_DIR/$name.wav" "$@" >"$RTCS_TEST_DIR/$name.json" \
	    2>"$RTCS_TEST_DIR/$name.err" 3>&- &
	MEDIA_PIDS+=($!)
	printf -v "PID_$name" %s $!
}

media_wait() {	# media_wait NAME: its exit status must be 0
	local pid rc=0
	eval "pid=\$PID_$1"
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || { echo "$1 exited $rc: $(cat "$RTCS_TEST_DIR/$1.err")" >&2; return 1; }
}

# heard PARTICIPANT N: waits until the server has N frames of PARTICIPANT's audio.
heard() {
	local end=$((SECONDS + 20)) n
	while :; do
		n=$(api GET "/v1/sessions/$SID/media" |
		    jq --arg p "$1" '[.media.senders[] | select(.participant == $p and .media == "audio") | .frame] | max // 0')
		[ "$n" -ge "$2" ] && return 0
		[ $SECONDS -lt $end ] || { echo "the server heard $n frames of $1, not $2" >&2; return 1; }
		read -r -t 0.02 <> <(:) || true
	done
}

@test "audio both ways through a push: nothing lost, nothing twice, no silence in what either side wrote" {
	start_server --media-ring 10
	d=$RTCS_TEST_DIR
	sox -n -r 48000 -c 1 -b 16 "$d/sweep.wav" synth 8 sine 200-4000 gain -6
	xfer_session
	n=400	# 8 s of 20 ms frames

	media bob "$KB" bob-pc
	media phone "$KP" alice-phone
	heard alice 25
	heard bob 25
	push_request
	push_show
	push_scan
	# the tablet is ready before the switch: it goes on once the transfer completes
	media tablet "$KT" alice-tablet --resume --transfer "$TID"
	push_confirm
	media_wait phone
	media_wait tablet
	media_wait bob

	summary=$(jq -n --slurpfile P "$d/phone.json" --slurpfile T "$d/tablet.json" --slurpfile B "$d/bob.json" '
	    def from(p): .received[] | select(.participant == p and .media == "audio");
	    ($P[0] | from("bob")) as $pb | ($T[0] | from("bob")) as $tb | ($B[0] | from("alice")) as $ba
	    | {
		phone_closed: $P[0].closed,
		phone_sent: $P[0].sent[0].frames, tablet_sent: $T[0].sent[0].frames,
		alice_handover: ($T[0].sent[0].first_frame == $P[0].sent[0].last_frame + 1),
		tablet_pts: ($T[0].sent[0].first_pts == $P[0].sent[0].last_pts + 20),
		bob_heard: $ba.frames, bob_lost: $ba.lost, bob_twice: $ba.duplicated,
		bob_first: $ba.first_frame, bob_last: $ba.last_frame, bob_devices: $ba.devices,
		bob_gap_ms: $ba.gap_ms,
		mover_heard: ($pb.frames + $tb.frames), mover_lost: ($pb.lost + $tb.lost),
		mover_twice: ($pb.duplicated + $tb.duplicated),
		mover_handover: ($tb.first_frame == $pb.last_frame + 1),
		bob_sent: $B[0].sent[0].frames,
		phone_from: $pb.first_pts, tablet_from: $tb.first_pts,
		mover_gap_ms: ((($tb.first_at | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) * 1000
		    + ($tb.first_at | capture("\\.(?<f>[0-9]+)Z$").f | tonumber))
		    - (($pb.last_at | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) * 1000
		    + ($pb.last_at | capture("\\.(?<f>[0-9]+)Z$").f | tonumber)))
	    }')
	echo "$summary" | jq . >"$d/summary.json"
	echo "# alice: phone $(jq .phone_sent <<<"$summary") + tablet $(jq .tablet_sent <<<"$summary") frames; bob heard $(jq .bob_heard <<<"$summary"), lost $(jq .bob_lost <<<"$summary"), twice $(jq .bob_twice <<<"$summary"), longest gap $(jq .bob_gap_ms <<<"$summary") ms" >&3
	echo "# bob: alice heard $(jq .mover_heard <<<"$summary") (phone + tablet), lost $(jq .mover_lost <<<"$summary"), twice $(jq .mover_twice <<<"$summary"); phone's last to tablet's first $(jq .mover_gap_ms <<<"$summary") ms" >&3
	run jq -e --argjson n "$n" '
	    .phone_closed == "transferred" and .phone_sent > 0 and .tablet_sent > 0
	    and .phone_sent + .tablet_sent == $n and .alice_handover and .tablet_pts
	    and .bob_heard == $n and .bob_lost == 0 and .bob_twice == 0
	    and .bob_first == 1 and .bob_last == $n and .bob_devices == 2
	    and .bob_sent == $n and .mover_heard == $n and .mover_lost == 0 and .mover_twice == 0
	    and .mover_handover and .bob_gap_ms < 3000' <<<"$summary"
	[ "$status" -eq 0 ] || { jq . <<<"$summary" >&2; false; }

	# What bob wrote is alice's sweep whole; alice's two files together, bob's.
	run "$WAVCMP" "$d/sweep.wav" "$d/bob.wav"
	echo "# bob.wav against the sweep: $output" >&3
	jq -e '.silent_blocks == 0 and .correlation > 0.9' <<<"$output"
	run "$WAVCMP" "$d/sweep.wav" "$d/phone.wav@$(jq .phone_from <<<"$summary")" \
	    "$d/tablet.wav@$(jq .tablet_from <<<"$summary")"
	echo "# phone.wav + tablet.wav against the sweep: $output" >&3
	jq -e '.silent_blocks == 0 and .correlation > 0.9' <<<"$output"
}
