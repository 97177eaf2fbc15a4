#!/usr/bin/env bats
# Every refusal of a transfer; after each, the session is where it was.
load lib
load server
load transfer_helper

setup() {
	start_server
	two_devices
}

teardown() {
	stop_server
}

# Another code for the same transfer id with another secret: $K/code.png.
forged_code() {
	rtcs-code -t png -o "$K/code.png" "RTCS:1:$TID:AAAAAAAAAAAAAAAAAAAAAAAAAA"
}

attempts() {
	api GET "/v1/transfers/$TID" | jq -r .transfer.attempts_left
}

@test "wrong secret: a code for the same id with another secret is refused and counted" {
	push_code --proof scanner
	forged_code
	run scan alice-tablet
	assert_failure 1
	assert_output "rtcs-scan: submit $TID: the image data does not match the code (a failed attempt)"
	[ "$(attempts)" = 4 ]
	[ "$(tstate)" = issued ]
	assert_session_on alice-phone
}

@test "wrong match code: refused, counted as an attempt" {
	push_code --proof scanner --confirm origin
	run scan alice-tablet --json
	match=$(jq -r .match <<<"$output")
	wrong=$(printf '%06d' $(( (10#$match + 1) % 1000000 )))
	run rtcs-transfer --keys "$(keys alice-phone)" confirm "$TID" --as alice-phone --match "$wrong"
	assert_failure 1
	assert_output "rtcs-transfer: confirm $TID: wrong match code (a failed attempt)"
	[ "$(attempts)" = 4 ]
	[ "$(tstate)" = verified ]
	assert_session_on alice-phone
	run rtcs-transfer --keys "$(keys alice-phone)" confirm "$TID" --as alice-phone --match "$match"
	assert_success
	[ "$(tstate)" = completed ]
}

@test "five failures burn the code: too_many_attempts" {
	push_code --proof scanner
	P_GOOD=$P
	forged_code
	for i in 1 2 3 4; do
		run scan alice-tablet
		assert_failure 1
	done
	run scan alice-tablet
	assert_failure 1
	assert_output "rtcs-scan: submit $TID: too many failed attempts: the code is burnt"
	[ "$(tstate)" = "failed too_many_attempts" ]
	# even the right code is refused now
	rtcs-code -t png -o "$K/code.png" "$P_GOOD"
	run scan alice-tablet
	assert_failure 1
	assert_session_on alice-phone
}

@test "expired: ttl 1 s; wait --for failed sees it; a late scan is refused" {
	push_code --ttl 1
	run rtcs-transfer wait "$TID" --for failed --timeout 10
	assert_success
	[ "$(tstate)" = "failed expired" ]
	run scan alice-tablet
	assert_failure 1
	assert_output --partial expired
	assert_session_on alice-phone
}

@test "a second scanner gets already_claimed (exit 1); the origin's stream gets transfer.alert" {
	stream_open phone "$SID" "$(dev_token alice-phone)"
	push_code --proof scanner --confirm origin
	run scan alice-tablet
	assert_success
	run scan mallory-phone
	assert_failure 1
	assert_output "rtcs-scan: submit $TID: another device scanned the code first"
	wait_grep "$RTCS_TEST_DIR/phone.out" '"event":"transfer.alert".*"reason":"already_claimed".*"device":"mallory-phone"'
	run api GET /v1/events
	assert_output --partial '"event":"transfer.alert"'
	[ "$(tstate)" = verified ]
	assert_session_on alice-phone
}

@test "a code for a named device scanned by another device: wrong_device, alert" {
	stream_open phone "$SID" "$(dev_token alice-phone)"
	push_code --to alice-tablet --proof scanner
	run scan mallory-phone
	assert_failure 77
	wait_grep "$RTCS_TEST_DIR/phone.out" '"event":"transfer.alert".*"reason":"wrong_device"'
	[ "$(attempts)" = 4 ]
	assert_session_on alice-phone
}

@test "cancelled: by the operator or the origin; later calls are refused" {
	push_code --proof scanner
	run rtcs-transfer --keys "$(keys alice-phone)" cancel "$TID" --as alice-phone
	assert_success
	[ "$(tstate)" = "failed cancelled" ]
	run scan alice-tablet
	assert_failure 1
	assert_output --partial cancelled
	push_code --proof scanner
	run rtcs-transfer --keys "$(keys bob-pc)" cancel "$TID" --as bob-pc
	assert_failure 77
	run rtcs-transfer cancel "$TID"
	assert_success
	assert_session_on alice-phone
}

@test "rejected by the origin, and by a peer" {
	push_code --proof scanner --confirm origin
	run scan alice-tablet
	run rtcs-transfer --keys "$(keys alice-phone)" reject "$TID" --as alice-phone
	assert_success
	[ "$(tstate)" = "failed rejected_by_origin" ]
	assert_session_on alice-phone
	push_code --proof scanner --confirm peers
	run scan alice-tablet
	run rtcs-transfer --keys "$(keys bob-pc)" reject "$TID" --as bob-pc
	assert_success
	[ "$(tstate)" = "failed rejected_by_peer" ]
	run rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet
	assert_failure 1
	assert_output --partial "rtcs-transfer: wait $TID: the transfer failed: a peer rejected it"
	assert_session_on alice-phone
}

@test "the session ends during a transfer: session_ended" {
	push_code --proof scanner --confirm origin
	run scan alice-tablet
	run rtcs-session end "$SID"
	assert_success
	[ "$(tstate)" = "failed session_ended" ]
	run rtcs-transfer wait "$TID"
	assert_failure 1
	assert_output "rtcs-transfer: wait $TID: the transfer failed: the session ended"
}

@test "a device token naming another device: 403 (exit 77)" {
	push_code --proof both
	run api_code POST "/v1/transfers/$TID/image" "{\"device\":\"bob-pc\",\"payload\":\"$P\"}" \
	    "$(dev_token alice-phone)"
	assert_output --regexp '^403 .*"forbidden"'
	mkdir -p -m 700 "$(keys bob-pc)-forged"
	cp "$(keys alice-phone)/alice-phone.token" "$(keys bob-pc)-forged/bob-pc.token"
	run rtcs-scan --keys "$(keys bob-pc)-forged" --submit --as bob-pc "$K/code.png"
	assert_failure 77
	# a peer's token cannot prove for the origin, nor confirm for it
	run api_code POST "/v1/transfers/$TID/image" "{\"device\":\"bob-pc\",\"payload\":\"$P\"}" \
	    "$(dev_token bob-pc)"
	assert_output --partial '403 '
	[ "$(tstate)" = issued ]
	assert_session_on alice-phone
}

@test "a device of the session cannot claim; the tokens of others are refused" {
	push_code --proof scanner
	run api_code POST "/v1/transfers/$TID/image" "{\"device\":\"bob-pc\",\"payload\":\"$P\"}"
	assert_output --regexp '^409 '
	run api_code GET "/v1/transfers/$TID" - "$(dev_token bob-pc)"
	assert_output --partial '200 '
	new_session carol@carol-phone
	run api_code GET "/v1/transfers/$TID" - "$(dev_token carol-phone)"
	assert_output --partial '404 '	# no part in it: as if unknown
	run api_code GET "/v1/transfers/$TID/token" - "$(dev_token carol-phone)"
	assert_output --partial '403 '
	run api_code GET "/v1/transfers/$TID" - "AAAAAAAAAAAAAAAAAAAAAAAAAA"
	assert_output --partial '401 '
}

@test "rate limit: anonymous failed guesses beyond 10 a minute get 429 with Retry-After, never a live transfer's valid scan" {
	push_code --proof scanner
	burnt=$TID
	for i in 1 2 3 4 5 6 7 8 9 10; do
		run api_code POST "/v1/transfers/$burnt/image" \
		    "{\"device\":\"mallory\",\"payload\":\"RTCS:1:$burnt:AAAAAAAAAAAAAAAAAAAAAAAAAA\"}"
		assert_output --regexp '^(403|410) '
	done
	run curl -sS -i --unix-socket "$RTCS_SOCKET" -H 'Content-Type: application/json' \
	    --data-binary "{\"device\":\"mallory\",\"payload\":\"RTCS:1:$burnt:AAAAAAAAAAAAAAAAAAAAAAAAAA\"}" \
	    "http://rtcs/v1/transfers/$burnt/image"
	assert_output --partial '429 Too Many Requests'
	assert_output --regexp 'Retry-After: [0-9]+'
	assert_output --partial rate_limited
	# a live transfer with attempts left still takes its valid scan
	push_code --proof scanner --confirm none
	run scan alice-tablet
	assert_success
	assert_session_on alice-tablet
}
