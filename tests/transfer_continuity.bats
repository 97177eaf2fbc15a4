#!/usr/bin/env bats
# Continuity through a transfer (design.md 10): bob sends a numbered message
# every 20 ms while alice moves from her phone to her tablet; every
# message reaches alice exactly once, on one device or the other, and the
# tablet takes over exactly where the phone stopped.
load lib
load server
load xfer_steps

setup() {
	case ${RTCS_O:-build} in
	/*) PACER=$RTCS_O/tools/pacer ;;
	*) PACER=$RTCS_TOP/${RTCS_O:-build}/tools/pacer ;;
	esac
	[ -x "$PACER" ] || skip "no $PACER (make pacer)"
}

teardown() {
	[ -z "${PACER_PID:-}" ] || kill "$PACER_PID" 2>/dev/null || true
	stop_server
}

# The summary of one run, from the three recorded streams and the pacer's
# acknowledgements: one JSON object (see the jq below for the fields).
continuity_summary() {
	local d=$RTCS_TEST_DIR
	jq -n --argjson n "$1" \
	    --slurpfile P <(stamped_json "$d/phone.out") \
	    --slurpfile T <(stamped_json "$d/tablet.out") \
	    --slurpfile B <(stamped_json "$d/bob.out") '
	def k: .body | ltrimstr("pace ") | tonumber;
	def bobs: map(select(.type == "message" and .from == "bob" and (.body | startswith("pace "))));
	def seqs: map(select(.seq != null) | .seq);
	def dups: group_by(.) | map(select(length > 1) | .[0]);
	def contiguous: . == [range(.[0]; .[-1] + 1)];
	def ms(ts): (ts | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) * 1000
	    + (ts | capture("\\.(?<f>[0-9]+)Z$").f | tonumber);
	def maxgap(f): [range(1; length) as $i | (.[$i] | f) - (.[$i - 1] | f)] | max // 0;
	($P | bobs | map(k)) as $pk | ($T | bobs | map(k)) as $tk | ($B | bobs | map(k)) as $bk
	| ($P | seqs) as $ps | ($T | seqs) as $ts
	| ([$P[], $T[]] | map(select(.event == "participant.moved")) | .[0].seq) as $moved
	| (($P | bobs) + ($T | bobs) | sort_by(k)) as $alice
	| {
	    sent: $n,
	    on_phone: ($pk | length), on_tablet: ($tk | length),
	    lost: ([range(1; $n + 1)] - $pk - $tk),
	    twice_on_phone: ($pk | dups), twice_on_tablet: ($tk | dups),
	    on_both: ($pk - ($pk - $tk)),
	    phone_seqs_contiguous: (($ps | length) > 0 and ($ps | contiguous) and $ps[0] == 1),
	    tablet_seqs_contiguous: (($ts | length) > 0 and ($ts | contiguous)),
	    tablet_k_contiguous: (($tk | length) > 0 and ($tk | contiguous)),
	    phone_last_seq: $ps[-1], tablet_first_seq: $ts[0], moved_seq: $moved,
	    seqs_on_both: ($ps - ($ps - $ts)),
	    seqs_missing: ([range(1; ([$ps[-1], $ts[-1]] | max) + 1)] - $ps - $ts),
	    phone_last_k: $pk[-1], tablet_first_k: $tk[0],
	    phone_closed: ($P[-1] | select(.event == "channel.closed") | "\(.reason) \(.to)"),
	    bob_lost: ([range(1; $n + 1)] - $bk), bob_twice: ($bk | dups),
	    bob_moved: ($B | map(select(.event == "participant.moved")) | length),
	    gap_ms: (($alice | maxgap(.rx)) / 1000 | floor),
	    gap_after_k: ($alice | [range(1; length) as $i | {k: (.[$i - 1] | k), g: (.[$i].rx - .[$i - 1].rx)}]
	        | max_by(.g) | .k),
	    server_gap_ms: ($alice | maxgap(ms(.ts))),
	    switch_ms: ((($T | bobs | .[0].rx) - ($P | bobs | .[-1].rx)) / 1000 | floor)
	}'
}

# switch_through_pace push|pull [SERVER-ARGS]: the whole run and its checks.
switch_through_pace() {
	local how=$1 d n rc=0
	shift
	start_server "$@"
	xfer_session
	d=$RTCS_TEST_DIR
	stamp_stream phone "$KP" alice-phone
	stamp_stream bob "$KB" bob-pc
	wait_grep "$d/phone.out" '"session.created"'
	wait_grep "$d/bob.out" '"session.created"'

	# bob: 150 messages, every 20 ms; past 150 only until the tablet is on.
	"$PACER" --keys "$KB" --as bob-pc -n 150 -i 20 --until "$d/switched" --after 25 --max 3000 \
	    "$SID" >"$d/pacer.out" 2>"$d/pacer.err" 3>&- &
	PACER_PID=$!
	wait_grep "$d/phone.out" '"body":"pace 10"'

	# the switch, as two devices would do it, while bob talks
	if [ "$how" = push ]; then
		push_request
		push_show
		push_scan
		push_confirm
	else
		pull_offer
		pull_show
		pull_scan
		pull_confirm
	fi
	push_collect
	stamp_stream tablet "$KT" alice-tablet
	wait_grep "$d/tablet.out" '"from":"bob"'
	: >"$d/switched"

	wait "$PACER_PID" || rc=$?
	PACER_PID=
	[ "$rc" -eq 0 ] || { cat "$d/pacer.err" >&2; false; }
	n=$(wc -l <"$d/pacer.out")
	[ "$n" -ge 150 ]
	# every acknowledgement: K in order, with its seq
	assert_equal "$(cut -d' ' -f1 "$d/pacer.out" | tr '\n' ' ')" "$(seq -s ' ' 1 "$n") "

	wait_grep "$d/phone.out" '"event":"channel.closed"'
	wait_grep "$d/tablet.out" "\"body\":\"pace $n\""
	wait_grep "$d/bob.out" "\"body\":\"pace $n\""
	api DELETE "/v1/sessions/$SID" >/dev/null
	stream_done phone
	stream_done tablet
	stream_done bob

	summary=$(continuity_summary "$n")
	echo "$summary" | jq . >"$d/summary.json"
	echo "# continuity: $(jq -r '"sent \(.sent), on phone \(.on_phone), on tablet \(.on_tablet), lost \(.lost | length), twice \((.twice_on_phone + .twice_on_tablet) | length), on both \(.on_both | length)"' <<<"$summary")" >&3
	echo "# handover: $(jq -r '"phone last seq \(.phone_last_seq) (bob #\(.phone_last_k)), participant.moved seq \(.moved_seq), tablet first seq \(.tablet_first_seq) (bob #\(.tablet_first_k))"' <<<"$summary")" >&3
	echo "# largest gap between deliveries to alice: $(jq -r '"\(.gap_ms) ms (after bob #\(.gap_after_k)); phone->tablet \(.switch_ms) ms; largest gap between appends on the server \(.server_gap_ms) ms"' <<<"$summary")" >&3
	cat "$d/pacer.err" | sed 's/^/# /' >&3

	run jq -e '
	    (.lost | length) == 0 and (.twice_on_phone | length) == 0 and (.twice_on_tablet | length) == 0
	    and (.on_both | length) == 0 and .on_phone > 0 and .on_tablet > 0
	    and .phone_seqs_contiguous and .tablet_seqs_contiguous and .tablet_k_contiguous
	    and (.seqs_missing | length) == 0 and .seqs_on_both == [.moved_seq]
	    and .tablet_first_k == .phone_last_k + 1
	    and .phone_closed == "transferred alice-tablet"
	    and (.bob_lost | length) == 0 and (.bob_twice | length) == 0 and .bob_moved == 1' <<<"$summary"
	[ "$status" -eq 0 ] || { jq . <<<"$summary" >&2; false; }
	# the phone's stream ends with the move, then channel.closed
	run jq -r 'select(.seq != null or .event == "channel.closed") | .event // .type' \
	    <(stamped_json "$d/phone.out" | tail -n 2)
	assert_output $'participant.moved\nchannel.closed'
}

@test "bob sends every 20 ms through a push: none lost, none twice, the handover exact" {
	switch_through_pace push
}

@test "the same with --sync batch (group commit): none lost, none twice, the handover exact" {
	switch_through_pace push --sync batch
}

@test "bob sends every 20 ms through a pull: none lost, none twice, the handover exact" {
	switch_through_pace pull
}
