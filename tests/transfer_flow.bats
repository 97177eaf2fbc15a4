#!/usr/bin/env bats
# rtcs-transfer against a real rtcs-serve: push, reject, cancel, timeouts, run.
load lib
load client_server

setup() {
	start_server
	SID=$(rtcs-session new alice@alice-phone:"$T/kp" bob@bob-pc:"$T/kb")
}

teardown() {
	stop_server
}

# request_push [OPTIONS]: the phone asks for a code; $P payload, $TID transfer id.
request_push() {
	P=$(rtcs-transfer --keys "$T/kp" request "$SID" --as alice-phone --to alice-tablet "$@")
	TID=$(cut -d: -f3 <<<"$P")
	[[ $TID =~ ^T[A-Z2-7]{16}$ ]]
}

# push_scanned: a push both the phone and the tablet scanned; the match code in $match.
push_scanned() {
	request_push
	rtcs-code -t png -o "$T/code.png" "$P"
	rtcs-scan --keys "$T/kp" --submit --as alice-phone "$T/code.png"
	run rtcs-scan --json --keys "$T/kt" --submit --as alice-tablet "$T/code.png"
	assert_success
	match=$(jq -r .match <<<"$output")
}

@test "request prints a payload; --json has id, payload, expires_at and the policies" {
	run rtcs-transfer --keys "$T/kp" request "$SID" --as alice-phone --json --confirm origin --proof scanner
	assert_success
	run jq -e '(.id | test("^T")) and (.payload | startswith("RTCS:1:")) and .expires_at != null and .confirm == "origin" and .proof == "scanner"' <<<"$output"
	assert_success
	request_push
	run rtcs-transfer show "$TID"
	assert_success
	assert_output --partial "state:       issued"
	run rtcs-transfer list --session "$SID"
	assert_output --partial "$TID"
	run rtcs-transfer --keys "$T/kb" request "$SID" --as alice-phone
	assert_failure 66
}

@test "cancel: wait exits 1 with the reason" {
	request_push
	run rtcs-transfer cancel "$TID"
	assert_success
	run rtcs-transfer wait "$TID"
	assert_failure 1
	assert_output --partial "cancelled"
	run rtcs-transfer show --json "$TID"
	run jq -r '.transfer.state + " " + .transfer.reason' <<<"$output"
	assert_output "failed cancelled"
}

@test "reject by the origin: the transfer fails, the session stays" {
	request_push
	run rtcs-transfer --keys "$T/kp" reject "$TID" --as alice-phone
	assert_success
	run rtcs-transfer wait "$TID" --for failed
	assert_success
	run rtcs-session --keys "$T/kp" send "$SID" --as alice-phone "still here"
	assert_success
}

@test "wait --timeout exits 124" {
	request_push --ttl 60
	run rtcs-transfer wait "$TID" --for scanned --timeout 0.3
	assert_failure 124
}

@test "a collected token that cannot be stored is printed once, exit 74" {
	push_scanned
	run rtcs-transfer --keys "$T/kp" confirm "$TID" --as alice-phone --match "$match"
	assert_success
	mkdir "$T/kt/alice-tablet.token"	# the token cannot be written
	run rtcs-transfer --keys "$T/kt" wait "$TID" --as alice-tablet --json
	assert_failure 74
	assert_output --partial "cannot store the token of alice-tablet"
	tok=$(grep '^{' <<<"$output" | jq -r --arg s "$SID" 'select(.session == $s) | .token')
	[[ $tok =~ ^[A-Z2-7]{26}$ ]]
	rmdir "$T/kt/alice-tablet.token"
	printf '%s %s\n' "$SID" "$tok" >"$T/kt/alice-tablet.token"
	chmod 600 "$T/kt/alice-tablet.token"
	run rtcs-session --keys "$T/kt" send "$SID" --as alice-tablet "kept"
	assert_success
}

@test "watch ID prints where the transfer stands, then its events until it ends; nothing older" {
	request_push
	mkfifo "$T/watch"
	rtcs-transfer watch "$TID" --json >"$T/watch" &
	wpid=$!
	exec {w}<"$T/watch"
	IFS= read -r -t 10 -u "$w" first
	[ "$(jq -r .state <<<"$first")" = issued ]
	rtcs-transfer cancel "$TID"
	IFS= read -r -t 10 -u "$w" second
	[ "$(jq -r '.state + " " + .reason' <<<"$second")" = "failed cancelled" ]
	wait "$wpid"
	exec {w}<&-
	# an ended transfer: one line, where it stands; the event log is not replayed
	run rtcs-transfer watch "$TID" --json
	assert_success
	assert_equal "$(jq -s -r 'map(.state) | join(" ")' <<<"$output")" failed
}

@test "push with a scan: the session moves, the old device's attach says where" {
	attach_start phone "$SID" alice-phone --keys "$T/kp"
	attach_start bob "$SID" bob-pc --keys "$T/kb"
	expect_line phone 'session created'
	push_scanned
	[[ $match =~ ^[0-9]{6}$ ]]
	[ "$(stat -c %a "$T/kt/alice-tablet.claim")" = 600 ]
	run rtcs-transfer --keys "$T/kp" confirm "$TID" --as alice-phone --match 000000
	[ "$status" -eq 1 ] || [ "$match" = 000000 ]
	run rtcs-transfer --keys "$T/kp" confirm "$TID" --as alice-phone --match "$match"
	assert_success
	run rtcs-transfer --keys "$T/kt" wait "$TID" --as alice-tablet
	assert_success
	assert_file_exist "$T/kt/alice-tablet.token"
	assert_file_not_exist "$T/kt/alice-tablet.claim"
	expect_line phone 'channel closed: the session moved to alice-tablet'
	attach_wait phone
	[ "$STATUS" -eq 0 ]
	expect_line bob 'alice moved from alice-phone to alice-tablet'
	rtcs-session --keys "$T/kt" send "$SID" --as alice-tablet "from the tablet"
	expect_line bob '^\[[0-9]+\] alice: from the tablet$'
	run rtcs-session --keys "$T/kp" send "$SID" --as alice-phone "old phone"
	assert_failure 77
}

@test "run: the whole push flow with --match, the scanner in the background" {
	mkfifo "$T/run.out"
	rtcs-transfer --keys "$T/kp" run "$SID" --from alice-phone --to alice-tablet \
	    --match 000000 -o "$T/run.png" >"$T/run.out" 2>"$T/run.err" 3>&- &
	pid=$!
	exec {fd}<"$T/run.out"
	IFS= read -r -t 10 -u "$fd" payload
	[[ $payload == RTCS:1:* ]]
	assert_file_exist "$T/run.png"
	run rtcs-scan --json --keys "$T/kt" --submit --as alice-tablet "$T/run.png"
	assert_success
	rc=0
	wait "$pid" || rc=$?
	# 000000 is almost surely not the match code: the wrong code is refused
	[ "$rc" -eq 1 ] || [ "$(jq -r .match <<<"$output")" = 000000 ]
}
