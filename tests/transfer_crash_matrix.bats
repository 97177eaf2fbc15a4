#!/usr/bin/env bats
# Crashes in the middle of a push transfer (design.md 3.1): after a restart
# every transfer is completed or failed "interrupted", the participant speaks
# from exactly one device (the tablet iff the session document was saved,
# the commit point), the tokens and the log agree, and the session goes on.
#
# RTCS_FAILPOINT=NAME makes rtcs-serve _exit(99) right after step NAME is
# durable; one test also kills the server with SIGKILL.
load lib
load server
load xfer_steps

teardown() {
	unset RTCS_FAILPOINT
	stop_server
}

# start_with_failpoint NAME: a private server that dies after step NAME.
start_with_failpoint() {
	export RTCS_FAILPOINT=$1
	start_server
	unset RTCS_FAILPOINT
	xfer_session
}

server_up() {
	curl -sS --max-time 5 -o /dev/null --unix-socket "$RTCS_SOCKET" http://rtcs/v1/health 2>/dev/null
}

# drive_until_dead: runs the push one step at a time until the server is gone.
# A client call in flight when it dies fails (69 or 76): that is expected.
# Sets $DIED_AT to the step after which the server was found dead.
drive_until_dead() {
	local step rc
	DIED_AT=
	for step in push_request push_show push_scan push_confirm push_collect; do
		rc=0
		"$step" 2>>"$RTCS_TEST_DIR/steps.err" || rc=$?
		if ! server_up; then
			DIED_AT=$step
			# a client cut off by the crash says so with 69 or 76, or had its answer
			case $rc in 0|69|76) ;; *)
				echo "$step failed with $rc" >&2; cat "$RTCS_TEST_DIR/steps.err" >&2; return 1 ;;
			esac
			return 0
		fi
		[ "$rc" -eq 0 ] || { echo "$step failed with $rc" >&2; cat "$RTCS_TEST_DIR/steps.err" >&2; return 1; }
	done
	echo "the server never stopped (RTCS_FAILPOINT=$RTCS_FAILPOINT_NAME)" >&2
	return 1
}

# reap_server STATUS: waits for the dead server, checks its exit status.
reap_server() {
	local rc=0
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=
	if [ "$rc" -ne "$1" ]; then
		echo "rtcs-serve exited $rc, not $1:" >&2
		cat "$RTCS_TEST_DIR/server.log" >&2
		return 1
	fi
}

# after_restart completed|interrupted: every check of the store, the API,
# the tokens and the log, with the server restarted on the same store.
after_restart() {
	local want=$1 tid dev moved
	_server_launch
	run "$RTCS_SERVE" --fsck -D "$RTCS_STORE"
	[ "$status" -eq 0 ] || { echo "fsck: $output" >&2; false; }

	# every transfer is completed or failed (interrupted); ours is the only one
	run api GET "/v1/transfers?session=$SID&state=all"
	assert_success
	assert_equal "$(jq '.transfers | length' <<<"$output")" 1
	tid=$(jq -r '.transfers[0].id' <<<"$output")
	[ -z "${TID:-}" ] || assert_equal "$tid" "$TID"
	TID=$tid
	run api GET /v1/transfers
	assert_success
	run jq -e '[.transfers[] | select(.state != "completed"
	    and (.state != "failed" or .reason != "interrupted"))] | length == 0' <<<"$output"
	assert_success
	run api GET "/v1/transfers/$TID"
	if [ "$want" = completed ]; then
		assert_equal "$(jq -r '.transfer.state' <<<"$output")" completed
		dev=alice-tablet
	else
		assert_equal "$(jq -r '.transfer.state + " " + .transfer.reason' <<<"$output")" "failed interrupted"
		dev=alice-phone
	fi

	# alice speaks from exactly one device, with one open channel
	run api GET "/v1/sessions/$SID"
	assert_success
	assert_equal "$(jq -r '.session.participants[] | select(.name == "alice") | .device' <<<"$output")" "$dev"
	assert_equal "$(jq -r '[.session.channels[] | select(.participant == "alice" and .state == "open") | .device] | join(" ")' <<<"$output")" "$dev"

	# the old token works iff the session did not move; the tablet gets a token iff it did
	run rtcs-session --keys "$KP" send "$SID" --as alice-phone "phone after the crash"
	if [ "$want" = completed ]; then
		assert_failure 77
		run rtcs-transfer --keys "$KT" --timeout 10 wait "$TID" --as alice-tablet
		assert_success
		[ -n "$(key_token "$KT" alice-tablet)" ]
		run rtcs-session --keys "$KT" send "$SID" --as alice-tablet "tablet after the crash"
		assert_success
	else
		assert_success
		run rtcs-transfer --keys "$KT" --timeout 10 wait "$TID" --as alice-tablet
		assert_failure 1
		[ -z "$(key_token "$KT" alice-tablet 2>/dev/null)" ]
	fi

	# participant.moved once iff completed
	moved=$(api GET "/v1/sessions/$SID/log" | jq -s '[.[] | select(.event == "participant.moved")] | length')
	if [ "$want" = completed ]; then
		assert_equal "$moved" 1
	else
		assert_equal "$moved" 0
	fi

	# the session goes on: bob and alice's device both send and both see it
	stamp_stream bob "$KB" bob-pc
	if [ "$want" = completed ]; then
		stamp_stream alice "$KT" alice-tablet
	else
		stamp_stream alice "$KP" alice-phone
	fi
	rtcs-session --keys "$KB" send "$SID" --as bob-pc "bob after the crash"
	rtcs-session --keys "$( [ "$want" = completed ] && echo "$KT" || echo "$KP")" \
	    send "$SID" --as "$dev" "alice on $dev after the crash"
	wait_grep "$RTCS_TEST_DIR/alice.out" '"body":"bob after the crash"'
	wait_grep "$RTCS_TEST_DIR/bob.out" "\"body\":\"alice on $dev after the crash\""
	wait_grep "$RTCS_TEST_DIR/alice.out" "\"body\":\"alice on $dev after the crash\""

	# and the store is still clean once the server stopped
	stop_server --keep
	run "$RTCS_SERVE" --fsck -D "$RTCS_STORE"
	[ "$status" -eq 0 ] || { echo "fsck: $output" >&2; false; }
}

# crash_at NAME completed|interrupted
crash_at() {
	RTCS_FAILPOINT_NAME=$1
	start_with_failpoint "$1"
	drive_until_dead
	reap_server 99
	echo "# $1: the server died during $DIED_AT" >&3
	after_restart "$2"
}

@test "crash after transfer-issued: the transfer is interrupted, alice stays on the phone" {
	crash_at transfer-issued interrupted
}

@test "crash after transfer-scanned: interrupted, alice stays on the phone" {
	crash_at transfer-scanned interrupted
}

@test "crash after transfer-verified: interrupted, alice stays on the phone" {
	crash_at transfer-verified interrupted
}

@test "crash after transfer-committing: interrupted, alice stays on the phone" {
	crash_at transfer-committing interrupted
}

@test "crash after handover-saved (the commit point): completed, alice is on the tablet" {
	crash_at handover-saved completed
}

@test "crash after transfer-completed-doc: completed, alice is on the tablet" {
	crash_at transfer-completed-doc completed
}

@test "kill -9 after the scan: interrupted; a new push then completes" {
	start_server
	xfer_session
	push_request
	push_show
	push_scan
	run api GET "/v1/transfers/$TID"
	run jq -e '.transfer.state | test("^(scanned|verified)$")' <<<"$output"
	assert_success
	kill -KILL "$SERVER_PID"
	reap_server 137
	after_restart interrupted
	# the interrupted transfer left nothing behind: the same push goes through
	_server_launch
	TID= MATCH=
	push_request
	push_show
	push_scan
	push_confirm
	push_collect
	run rtcs-session --keys "$KT" send "$SID" --as alice-tablet "on the tablet at last"
	assert_success
	run rtcs-session --keys "$KP" send "$SID" --as alice-phone "phone"
	assert_failure 77
}

@test "rtcs-scan --submit exits with the submission's failure (69 when the server is gone)" {
	d=$(rtcs_tmpdir)
	rtcs-code -o "$d/code.png" RTCS:1:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA
	run rtcs-scan --keys "$d/k" --submit --as alice-tablet -S "$d/no.sock" "$d/code.png"
	rm -rf "$d"
	assert_failure 69
	assert_output --partial "cannot reach rtcs-serve"
}
