#!/usr/bin/env bats
# rtcs-transfer run with nobody at a terminal: the match code from stdin
# (--match -), a policy that needs none, JSON Lines of the steps, the transfer
# cancelled on SIGINT and SIGTERM, an exit code for every outcome.
bats_require_minimum_version 1.5.0
load lib
load client_server

setup() {
	start_server
	SID=$(rtcs-session new alice@alice-phone:"$T/kp" bob@bob-pc:"$T/kb")
	mkfifo "$T/steps" "$T/match"
}

teardown() {
	[ -z "${RUN_PID:-}" ] || kill "$RUN_PID" 2>/dev/null || true
	stop_server
}

# run_bg ARGS...: "rtcs-transfer --json run $SID --from alice-phone --to
# alice-tablet -o code.png ARGS" in the background, stdin from $T/match, its
# steps on fd STEPS; $RUN_PID.
run_bg() {
	rtcs-transfer --keys "$T/kp" --json run "$SID" --from alice-phone --to alice-tablet \
	    -o "$T/code.png" "$@" <>"$T/match" >"$T/steps" 2>"$T/run.err" &
	RUN_PID=$!
	exec {STEPS}<"$T/steps"
}

# next_step NAME: reads steps until NAME (fails at the end of the output); the line in $STEP.
next_step() {
	while IFS= read -r -t 20 -u "$STEPS" STEP; do
		echo "$STEP" >>"$T/steps.log"
		[ "$(jq -r .step <<<"$STEP")" = "$1" ] && return 0
	done
	echo "no step $1 in: $(cat "$T/steps.log" "$T/run.err")" >&2
	return 1
}

# run_status: waits for run; its exit status in $RC.
run_status() {
	RC=0
	wait "$RUN_PID" || RC=$?
	RUN_PID=
}

tstate() {
	rtcs-transfer show --json "$1" | jq -r '.transfer.state + " " + (.transfer.reason // "")' | sed 's/ $//'
}

@test "run --match -: the match code the new device prints is read from stdin; every step is a JSON line" {
	run_bg --match -
	next_step shown
	tid=$(jq -r .transfer <<<"$STEP")
	[ "$(jq -r .file <<<"$STEP")" = "$T/code.png" ]
	# the tablet's scan output goes straight into run's stdin
	rtcs-scan --keys "$T/kt" --submit --as alice-tablet "$T/code.png" >"$T/match" 2>"$T/scan.err"
	grep -q "alice-tablet gets its token once the transfer completes: rtcs-transfer --keys $T/kt wait $tid --as alice-tablet" "$T/scan.err"
	next_step confirmed
	next_step completed
	run jq -c '{state, session, from, to}' <<<"$STEP"
	assert_output "{\"state\":\"completed\",\"session\":\"$SID\",\"from\":\"alice-phone\",\"to\":\"alice-tablet\"}"
	run_status; [ "$RC" = 0 ] || fail "exit $RC: $(cat "$T/run.err")"
	run jq -r .step "$T/steps.log"
	# The states run sees are those after it starts to wait: the tablet's scan may
	# come before (then run sees it verified at once), never out of order.
	[[ "$(tr '\n' ' ' <<<"$output")" =~ ^requested\ shown\ waiting\ (issued\ )?(scanned\ )?verified\ match\ confirmed\ completed\ $ ]] ||
	    fail "steps: $(tr '\n' ' ' <<<"$output")"
	# every line names the transfer
	[ "$(jq -r .transfer "$T/steps.log" | sort -u)" = "$tid" ]
	run rtcs-transfer --keys "$T/kt" wait "$tid" --as alice-tablet
	assert_success
	rtcs-session --keys "$T/kt" send "$SID" --as alice-tablet "on the tablet"
}

@test "run --confirm none: no match code needed, no terminal needed" {
	run_bg --confirm none --proof scanner
	next_step shown
	rtcs-scan --keys "$T/kt" --submit --as alice-tablet "$T/code.png" >/dev/null 2>&1
	next_step completed
	run_status; [ "$RC" = 0 ] || fail "exit $RC: $(cat "$T/run.err")"
	# the scan that moved it stored the tablet's token at once
	rtcs-session --keys "$T/kt" send "$SID" --as alice-tablet "moved"
}

@test "run without a terminal and without --match: 64 at once, and the transfer is cancelled" {
	run --separate-stderr setsid rtcs-transfer --keys "$T/kp" --json run "$SID" --from alice-phone \
	    --to alice-tablet </dev/null
	assert_failure 64
	[[ $stderr == *"there is no terminal to type it on: give --match - (read from standard input), or --confirm none or peers"* ]] || fail "$stderr"
	tid=$(jq -r 'select(.step == "requested") | .transfer' <<<"$output")
	[ "$(tstate "$tid")" = "failed cancelled" ]
	[[ $stderr == *"the transfer $tid it started is cancelled"* ]] || fail "$stderr"
}

@test "run: SIGINT and SIGTERM cancel the transfer it started, say so, exit 128+N" {
	local sig code
	for sig in INT TERM; do
		set -m	# a job of its own: a background job would ignore SIGINT
		run_bg --match -
		set +m
		next_step waiting
		tid=$(jq -r .transfer <<<"$STEP")
		kill -s "$sig" "$RUN_PID"
		next_step cancelled
		[ "$(jq -r .signal <<<"$STEP")" = "SIG$sig" ]
		run_status
		[ "$RC" = "$([ $sig = INT ] && echo 130 || echo 143)" ] || fail "SIG$sig: exit $RC"
		grep -qx "rtcs-transfer: run $SID: interrupted by SIG$sig: the transfer is cancelled" "$T/run.err"
		[ "$(tstate "$tid")" = "failed cancelled" ]
		exec {STEPS}<&-
		rm -f "$T/steps.log"
	done
}

@test "run: a wrong match code on stdin is refused (exit 1) and the transfer is cancelled" {
	run_bg --match -
	next_step shown
	tid=$(jq -r .transfer <<<"$STEP")
	match=$(rtcs-scan --json --keys "$T/kt" --submit --as alice-tablet "$T/code.png" 2>/dev/null | jq -r .match)
	printf '%06d\n' $(( (10#$match + 1) % 1000000 )) >"$T/match"
	run_status; [ "$RC" = 1 ] || fail "exit $RC: $(cat "$T/run.err")"
	grep -q "rtcs-transfer: run $tid: wrong match code (a failed attempt)" "$T/run.err"
	[ "$(tstate "$tid")" = "failed cancelled" ]
}

@test "run: stdin that ends with no match code: 66" {
	exec {W}<>"$T/match"	# the only writer: closing it ends run's stdin
	rtcs-transfer --keys "$T/kp" --json run "$SID" --from alice-phone --to alice-tablet \
	    -o "$T/code.png" --match - <"$T/match" >"$T/steps" 2>"$T/run.err" {W}>&- &
	RUN_PID=$!
	exec {STEPS}<"$T/steps"
	next_step shown
	rtcs-scan --keys "$T/kt" --submit --as alice-tablet "$T/code.png" >/dev/null 2>&1
	next_step match
	echo "no code in this line" >&"$W"
	exec {W}>&-
	run_status; [ "$RC" = 66 ] || fail "exit $RC: $(cat "$T/run.err")"
	grep -q "no match code on standard input" "$T/run.err"
}

@test "README: the operator script moves a user to a new device unattended" {
	sed -n '/^#!\/bin\/bash$/,/^EOF$/p' "$RTCS_TOP/README.md" | sed '$d' >"$T/move-device"
	grep -q '^# move-device SESSION FROM TO' "$T/move-device"
	[ "$(wc -l <"$T/move-device")" -le 25 ]
	cd "$T"
	mkdir -m 700 keys && mv kp keys/alice-phone
	run setsid bash "$T/move-device" "$SID" alice-phone alice-tablet </dev/null
	assert_success
	rtcs-session --keys keys/alice-tablet send "$SID" --as alice-tablet "hello from the script"
	run rtcs-session log "$SID"
	assert_output --partial "alice moved from alice-phone to alice-tablet"
	assert_output --partial "alice: hello from the script"
}
