#!/usr/bin/env bats
# Pull transfers (design.md 4.2): the new device shows its code, the origin scans it.
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

# offer_code [OPTS]: alice-tablet asks for a code; $P, $TID, $K/code.png.
offer_code() {
	P=$(rtcs-transfer --keys "$(keys alice-tablet)" offer --as alice-tablet "$@")
	TID=$(cut -d: -f3 <<<"$P")
	[[ $TID =~ ^T[A-Z2-7]{16}$ ]]
	rtcs-code -t png -o "$K/code.png" "$P"
}

@test "pull: offer, the origin scans and names the device, the tablet shows the check code, the origin confirms with it" {
	stream_open phone "$SID" "$(dev_token alice-phone)"
	offer_code
	assert_file_exist "$(keys alice-tablet)/alice-tablet.claim"
	[ "$(tstate)" = issued ]
	rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet \
	    >"$RTCS_TEST_DIR/tablet.out" 2>"$RTCS_TEST_DIR/tablet.err" &
	wpid=$!
	run scan alice-tablet --json
	assert_success
	[ "$(jq -r .role <<<"$output")" = displayer ]
	run scan alice-phone
	assert_success
	assert_line "to: alice-tablet"
	run scan bob-pc
	assert_failure 1	# a second scan: already claimed by the first
	assert_output --partial "another device scanned the code first"
	[ "$(tstate)" = verified ]
	run api GET "/v1/transfers/$TID"
	[ "$(jq -r '.transfer.session + " " + .transfer.origin.device + " " + .transfer.direction' <<<"$output")" = "$SID alice-phone pull" ]
	[ "$(jq -r '.transfer.check // "hidden"' <<<"$output")" = hidden ]
	wait_grep "$RTCS_TEST_DIR/phone.out" '"event":"transfer.confirm".*"claimant":"alice-tablet"'
	wait_grep "$RTCS_TEST_DIR/tablet.out" '^check code: [0-9][0-9]$'
	check=$(sed -n 's/^check code: //p' "$RTCS_TEST_DIR/tablet.out")
	# without the check code, or a wrong one: refused, a failed attempt
	run rtcs-transfer --keys "$(keys alice-phone)" confirm "$TID" --as alice-phone
	assert_failure
	wrong=$(printf '%02d' $(( (10#$check + 1) % 100 )))
	run rtcs-transfer --keys "$(keys alice-phone)" confirm "$TID" --as alice-phone --check "$wrong"
	assert_failure 1
	[ "$(tstate)" = verified ]
	run rtcs-transfer --keys "$(keys alice-phone)" confirm "$TID" --as alice-phone --check - \
	    <"$RTCS_TEST_DIR/tablet.out"
	assert_success
	wait "$wpid"
	assert_session_on alice-tablet
	wait_grep "$RTCS_TEST_DIR/phone.out" '"reason":"transferred","to":"alice-tablet"'
}

@test "pull: the check code in --json; the server's --confirm none does not remove it" {
	stop_server
	start_server --confirm none --proof scanner
	two_devices
	offer_code --session "$SID"
	run scan alice-phone --upload --json
	assert_success
	[ "$(jq -r .to <<<"$output")" = alice-tablet ]
	[ "$(tstate)" = verified ]
	run rtcs-transfer --keys "$(keys alice-tablet)" --json wait "$TID" --as alice-tablet --for verified
	assert_success
	check=$(jq -r 'select(.check) | .check' <<<"$output")
	[[ $check =~ ^[0-9]{2}$ ]] || fail "no check code in: $output"
	[[ $check =~ ^[0-9]{2}$ ]]
	run rtcs-transfer --keys "$(keys alice-phone)" confirm "$TID" --as alice-phone --check "$check"
	assert_success
	run rtcs-transfer --keys "$(keys alice-tablet)" wait "$TID" --as alice-tablet
	assert_success
	assert_session_on alice-tablet
}

@test "pull: a scan by a device of another session is refused and counted" {
	offer_code --session "$SID"
	sid=$SID
	new_session carol@carol-phone dave@dave-pc
	run scan carol-phone
	assert_failure 77
	# with its own channel token: the offer is bound to another session, a failed attempt
	run api_code POST "/v1/transfers/$TID/image" "{\"device\":\"carol-phone\",\"payload\":\"$P\"}" \
	    "$(dev_token carol-phone)"
	assert_output --regexp '^403 .*wrong_device'
	run api GET "/v1/transfers/$TID"
	[ "$(jq -r '.transfer.state + " " + (.transfer.attempts_left | tostring)' <<<"$output")" = "issued 4" ]
	SID=$sid
	assert_session_on alice-phone
}

@test "pull: a stranger's code never moves a session by a scan alone (confirm origin)" {
	offer_code
	run scan alice-phone
	assert_success
	[ "$(tstate)" = scanned ] || [ "$(tstate)" = verified ]
	run rtcs-transfer --keys "$(keys alice-phone)" reject "$TID" --as alice-phone
	assert_success
	[ "$(tstate)" = "failed rejected_by_origin" ]
	assert_session_on alice-phone
}

@test "pull: the offer of a device already in the session is refused" {
	run rtcs-transfer --keys "$(keys bob-pc)" offer --as bob-pc --session "$SID"
	assert_failure 65
	run api_code POST /v1/transfers '{"device":"bob-pc","session":"SAAAAAAAAAAAAAAAA"}'
	assert_output --partial '404 '
}
