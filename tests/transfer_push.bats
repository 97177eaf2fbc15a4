#!/usr/bin/env bats
# Push transfers end to end: each proof and confirm policy, upload, peers.
load lib
load server
load transfer_helper

setup() {
	start_server
}

teardown() {
	stop_server
}

@test "push, proof both, confirm origin: match code, switch, token once, old token revoked" {
	two_devices
	old=$(dev_token alice-phone)
	stream_open bob "$SID" "$(dev_token bob-pc)"
	stream_open phone "$SID" "$old"
	push_code --to alice-tablet --proof both --confirm origin
	run scan alice-phone --json
	assert_success
	[ "$(jq -r .role <<<"$output")" = displayer ]
	run scan alice-tablet --json
	assert_success
	match=$(jq -r .match <<<"$output")
	[[ $match =~ ^[0-9]{6}$ ]]
	[ "$(tstate)" = verified ]
	# the origin's confirmation request names the claimant, never the match code
	wait_grep "$RTCS_TEST_DIR/phone.out" '"event":"transfer.confirm"'
	grep '"transfer.confirm"' "$RTCS_TEST_DIR/phone.out" | grep -q '"claimant":"alice-tablet"'
	! grep '"transfer.confirm"' "$RTCS_TEST_DIR/phone.out" | grep -q "$match"
	run rtcs-transfer --keys "$(keys alice-phone)" confirm "$TID" --as alice-phone --match "$match"
	assert_success
	[ "$(tstate)" = completed ]
	run rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet
	assert_success
	assert_session_on alice-tablet
	wait_grep "$RTCS_TEST_DIR/phone.out" '"event":"channel.closed","reason":"transferred","to":"alice-tablet"'
	wait_grep "$RTCS_TEST_DIR/bob.out" '"event":"participant.moved".*"to":"alice-tablet"'
	wait_grep "$RTCS_TEST_DIR/bob.out" '"body":"still here"'
	# the old token: 401 (exit 77 from the client)
	run api_code POST "/v1/sessions/$SID/messages" '{"body":"old"}' "$old"
	assert_output --partial '401 '
	run rtcs-session --keys "$(keys alice-phone)" send "$SID" --as alice-phone "old phone"
	assert_failure 77
	# the token was handed out once: a second fetch is 410
	claim=$(api POST /v1/transfers '{"device":"nobody"}' | jq -r .claim)
	run api_code GET "/v1/transfers/$TID/token" - "$claim"
	assert_output --partial '404 '	# another transfer's secret: as if unknown
	run api GET "/v1/events"
	assert_output --partial '"event":"participant.moved"'
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}

@test "the token can be collected again (a lost reply) until the new channel is first used, then 410 gone" {
	two_devices
	push_code --proof scanner --confirm none
	claim=ABCDEFGHIJKLMNOPQRSTUVWXYZ	# what a scanner chooses and keeps before it asks
	run api POST "/v1/transfers/$TID/image" "{\"device\":\"alice-tablet\",\"payload\":\"$P\",\"claim\":\"$claim\"}"
	assert_success
	run api_code GET "/v1/transfers/$TID/token" - "$claim"
	assert_output --regexp '^200 .*"token":"[A-Z2-7]{26}"'
	tok=$(sed 's/^200 //' <<<"$output" | jq -r .token)
	run api_code GET "/v1/transfers/$TID/token" - "$claim"
	assert_output --regexp "^200 .*\"token\":\"$tok\""
	restart_server
	run api_code GET "/v1/transfers/$TID/token" - "$claim"
	assert_output --regexp "^200 .*\"token\":\"$tok\""
	api POST "/v1/sessions/$SID/messages" '{"body":"hello from the tablet"}' "$tok" >/dev/null
	run api_code GET "/v1/transfers/$TID/token" - "$claim"
	assert_output --regexp '^410 .*"code":"gone"'
	restart_server
	run api_code GET "/v1/transfers/$TID/token" - "$claim"
	assert_output --regexp '^410 .*"code":"gone"'
	run rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet
	assert_success	# it holds no claim: nothing to collect
}

@test "a scan that moves the session stores the new device's token in the same command" {
	two_devices
	push_code --proof scanner --confirm none
	run scan alice-tablet
	assert_success
	assert_line --index 0 "$TID completed claimant"
	assert_line "alice-tablet now speaks in session $SID"
	[ -n "$(dev_token alice-tablet)" ]
	assert_file_not_exist "$(keys alice-tablet)/alice-tablet.claim"
	rtcs-session --keys "$(keys alice-tablet)" send "$SID" --as alice-tablet "at once"
}

@test "push, proof scanner, confirm none: one scan moves the session" {
	two_devices
	push_code --proof scanner --confirm none
	run scan alice-tablet --wait
	assert_success
	assert_output --partial "alice-tablet now speaks in session $SID"
	assert_session_on alice-tablet
	run api GET "/v1/transfers/$TID"
	[ "$(jq -r '.transfer.proofs.displayer' <<<"$output")" = false ]
	[ "$(jq -r '.transfer.new_channel | test("^C")' <<<"$output")" = true ]
}

@test "push, proof both: the scan alone is not enough" {
	two_devices
	push_code --proof both --confirm none
	run scan alice-tablet
	assert_success
	[ "$(tstate)" = scanned ]
	run scan alice-phone
	assert_success
	[ "$(tstate)" = completed ]
	run rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet
	assert_success
	assert_session_on alice-tablet
}

@test "push --upload: the server decodes the PNG itself" {
	two_devices
	push_code --proof both --confirm none
	run scan alice-phone --upload --json
	assert_success
	run scan alice-tablet --upload --json
	assert_success
	[ "$(jq -r .state <<<"${lines[0]}")" = completed ]
	run rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet
	assert_success
	assert_session_on alice-tablet
	# an image without a code (a blank 16x16 PNG) is a 400 and a failed
	# attempt, as an image of another code is; a PNG that is none is neither
	blank=iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAAAAAA6mKC9AAAAD0lEQVR4nGP4jwYYRrYAAID5/wEokJxdAAAAAElFTkSuQmCC
	two_devices
	push_code --to bob-tablet --proof scanner --confirm none
	run api_code POST "/v1/transfers/$TID/image" "{\"device\":\"bob-tablet\",\"image\":\"$blank\"}"
	assert_output --regexp '^400 .*"no_code"'
	run api_code POST "/v1/transfers/$TID/image" '{"device":"bob-tablet","image":"bm90IGEgcG5n"}'
	assert_output --regexp '^400 .*"bad_image"'
	run api GET "/v1/transfers/$TID"
	[ "$(jq -r .transfer.attempts_left <<<"$output")" = 4 ]
	rtcs-code -t png -o "$K/other.png" "HELLO"
	run api_code POST "/v1/transfers/$TID/image" \
	    "{\"device\":\"bob-tablet\",\"image\":\"$(base64 -w0 "$K/other.png")\"}"
	assert_output --regexp '^403 .*"code_mismatch"'
	run api GET "/v1/transfers/$TID"
	[ "$(jq -r .transfer.attempts_left <<<"$output")" = 3 ]
}

@test "push, confirm peers with three participants: each peer consents, no match code" {
	new_session alice@alice-phone bob@bob-pc carol@carol-pc
	stream_open bob "$SID" "$(dev_token bob-pc)"
	push_code --proof scanner --confirm peers
	run scan alice-tablet --json
	assert_success
	[ "$(tstate)" = verified ]
	run api GET "/v1/transfers/$TID"
	[ "$(jq -r '.transfer.confirmations.required | sort | join(",")' <<<"$output")" = bob-pc,carol-pc ]
	wait_grep "$RTCS_TEST_DIR/bob.out" '"event":"transfer.confirm".*"claimant":"alice-tablet"'
	# carol connects later: the request is sent again on her stream
	stream_open carol "$SID" "$(dev_token carol-pc)"
	wait_grep "$RTCS_TEST_DIR/carol.out" '"event":"transfer.confirm".*"participant":"alice"'
	run rtcs-transfer --keys "$(keys bob-pc)" confirm "$TID" --as bob-pc
	assert_success
	[ "$(tstate)" = verified ]
	run rtcs-transfer --keys "$(keys carol-pc)" confirm "$TID" --as carol-pc
	assert_success
	[ "$(tstate)" = completed ]
	run rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet
	assert_success
	assert_session_on alice-tablet
}

@test "push, confirm all: the origin with the match code, then the peer" {
	two_devices
	push_code --proof scanner --confirm all
	run scan alice-tablet --json
	match=$(jq -r .match <<<"$output")
	run rtcs-transfer --keys "$(keys alice-phone)" confirm "$TID" --as alice-phone --match "$match"
	assert_success
	[ "$(tstate)" = verified ]
	run rtcs-transfer --keys "$(keys bob-pc)" confirm "$TID" --as bob-pc
	assert_success
	[ "$(tstate)" = completed ]
}

@test "server defaults: --confirm and --proof apply when the request names none" {
	stop_server
	start_server --confirm none --proof scanner --code-ttl 30
	two_devices
	push_code
	run api GET "/v1/transfers/$TID"
	[ "$(jq -r '.transfer.confirm + " " + .transfer.proof' <<<"$output")" = "none scanner" ]
	run scan alice-tablet
	assert_success
	[ "$(tstate)" = completed ]
}
