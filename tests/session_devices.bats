#!/usr/bin/env bats
# Invites after they are printed (collect, list, revoke, expiry, uses) and a
# participant's devices (devices, unlink, join with a new device), against a
# real rtcs-serve with the real clients.
load lib
load server
load transfer_helper

setup() {
	start_server
	K=$RTCS_TEST_DIR
}

teardown() {
	stop_server
}

# An invite for carol-desk: $P payload, $IID id, $K/invite.png.
make_invite() {
	P=$(rtcs-transfer --keys "$(keys carol-desk)" invite --to carol-desk --name carol "$@")
	IID=$(cut -d: -f4 <<<"$P")
	[[ $IID =~ ^I[A-Z2-7]{16}$ ]]
	rtcs-code -t png -o "$K/invite.png" "$P"
}

# The scan of the invite by DEVICE, as "STATUS CODE" of the API's answer.
scan_status() {
	api_code POST "/v1/invites/$IID/scan" "{\"payload\":\"$P\",\"device\":\"$1\"}" |
	    awk '{ print $1 }'
}

scan_code() {
	api_code POST "/v1/invites/$IID/scan" "{\"payload\":\"$P\",\"device\":\"$1\"}" |
	    cut -d' ' -f2- | jq -r '.error.code // "ok"'
}

@test "invite collect: the target stores its token in DEVICE.token and sends with it" {
	make_invite
	SID=$(rtcs-scan --keys "$(keys dave-phone)" --submit --as dave-phone "$K/invite.png")
	[[ $SID =~ ^S[A-Z2-7]{16}$ ]]
	run rtcs-transfer --keys "$(keys carol-desk)" invite collect "$IID" --as carol-desk
	assert_success
	assert_output "$SID"
	[ "$(awk -v s="$SID" '$1 == s { print $2 }' "$(keys carol-desk)/carol-desk.token")" != "" ]
	[ "$(stat -c %a "$(keys carol-desk)/carol-desk.token")" = 600 ]
	run rtcs-session --keys "$(keys carol-desk)" send "$SID" --as carol-desk "hi dave"
	assert_success
	run api GET "/v1/sessions/$SID/log"
	assert_output --partial '"body":"hi dave"'
	# used once: nothing left to collect, and the stored token stays
	run rtcs-transfer --keys "$(keys carol-desk)" --json invite collect "$IID" --as carol-desk
	assert_success
	[ "$(jq -r '.sessions | length' <<<"$output")" = 0 ]
	# a device without the owner secret has nothing to collect with
	run rtcs-transfer --keys "$(keys dave-phone)" invite collect "$IID" --as dave-phone
	assert_failure 66
}

@test "invite list: the operator sees each invite, its state, uses, expiry; no secret" {
	make_invite --ttl 3600 --uses 2
	run rtcs-transfer invite list
	assert_success
	assert_output --partial "$IID  active"
	assert_output --partial "uses 0/2"
	run rtcs-scan --keys "$(keys dave-phone)" --submit --as dave-phone "$K/invite.png"
	assert_success
	run rtcs-transfer --json invite list
	assert_success
	[ "$(jq -r --arg i "$IID" '.invites[] | select(.id == $i) | "\(.state) \(.uses) \(.max_uses)"' <<<"$output")" = "active 1 2" ]
	[ "$(jq -r --arg i "$IID" '.invites[] | select(.id == $i) | .expires_at | test("^20")' <<<"$output")" = true ]
	! grep -q secret_hash <<<"$output"
	! grep -q owner <<<"$output"
	# operator only
	run api_code GET /v1/invites - "$(cut -d' ' -f2 "$(keys carol-desk)/carol-desk.invite")"
	assert_output --partial '403 '
}

@test "invite revoke: a later scan gets 410 gone, persisted over a restart; the session goes on" {
	make_invite
	SID=$(rtcs-scan --keys "$(keys dave-phone)" --submit --as dave-phone "$K/invite.png")
	run rtcs-transfer invite revoke "$IID"
	assert_success
	[ "$(scan_status erin-phone)" = 410 ]
	[ "$(scan_code erin-phone)" = gone ]
	run rtcs-scan --keys "$(keys erin-phone)" --submit --as erin-phone "$K/invite.png"
	assert_failure
	run rtcs-transfer invite revoke "$IID"
	assert_failure
	restart_server
	[ "$(scan_code erin-phone)" = gone ]
	run rtcs-transfer --json invite list
	[ "$(jq -r '.invites[0].state' <<<"$output")" = revoked ]
	run api GET /v1/events
	assert_output --partial '"event":"invite.revoked"'
	# the session it started is not touched: its owner still collects
	run rtcs-transfer --keys "$(keys carol-desk)" invite collect "$IID" --as carol-desk
	assert_success
	assert_output "$SID"
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}

@test "invite --ttl: once expired a scan gets 410 expired" {
	make_invite --ttl 1
	local end=$((SECONDS + 10)) code
	code=$(scan_code erin-phone)
	# the first scan may come in time; wait on the server's own answer, bounded
	while [ "$code" != expired ] && [ $SECONDS -lt $end ]; do
		_tick
		code=$(scan_code "frank-$RANDOM")
	done
	[ "$code" = expired ]
	[ "$(scan_status gina-phone)" = 410 ]
	run rtcs-transfer --json invite list
	[ "$(jq -r '.invites[0].state' <<<"$output")" = expired ]
	run rtcs-transfer invite --to carol-desk --ttl 0
	assert_failure 64
}

@test "invite --uses N: the scan beyond the count gets 410" {
	make_invite --uses 1
	[ "$(scan_status dave-phone)" = 201 ]
	[ "$(scan_status erin-phone)" = 410 ]
	[ "$(scan_code erin-phone)" = used_up ]
	run api_code POST /v1/invites '{"to":"carol-desk","uses":0}'
	assert_output --partial '400 '
}

@test "devices: a participant moved by a transfer shows both its channels" {
	two_devices
	push_code --proof scanner --confirm none
	run scan alice-tablet --wait
	assert_success
	rtcs-session --keys "$(keys alice-tablet)" send "$SID" --as alice-tablet "moved"
	run rtcs-session devices "$SID"
	assert_success
	assert_output --regexp 'alice +alice-phone +closed .* transferred'
	assert_output --regexp 'alice +alice-tablet +open '
	run rtcs-session --json devices "$SID"
	assert_success
	[ "$(jq -r '.participants[] | select(.name == "alice") | [.channels[] | .device + ":" + .state + ":" + (.closed_reason // "-")] | join(" ")' <<<"$output")" = "alice-phone:closed:transferred alice-tablet:open:-" ]
	[ "$(jq -r '.participants[] | select(.name == "alice") | .device' <<<"$output")" = alice-tablet ]
	# the channel that spoke last has been seen
	[ "$(jq -r '.participants[] | select(.name == "alice") | .channels[1].last_seen_at | test("^20")' <<<"$output")" = true ]
}

@test "unlink: the old token gets 401, its stream ends unlinked, the others are told" {
	two_devices
	old=$(dev_token alice-phone)
	stream_open phone "$SID" "$old"
	stream_open bob "$SID" "$(dev_token bob-pc)"
	wait_grep "$RTCS_TEST_DIR/bob.out" '"seq"' || true
	run rtcs-session unlink "$SID" alice-phone
	assert_success
	wait_grep "$RTCS_TEST_DIR/phone.out" '"event":"channel.closed"'
	grep '"channel.closed"' "$RTCS_TEST_DIR/phone.out" | grep -q '"reason":"unlinked"'
	wait_grep "$RTCS_TEST_DIR/bob.out" '"event":"device.unlinked"'
	grep '"device.unlinked"' "$RTCS_TEST_DIR/bob.out" | grep -q '"device":"alice-phone"'
	run api_code POST "/v1/sessions/$SID/messages" '{"body":"still?"}' "$old"
	assert_output --partial '401 '
	run api GET "/v1/sessions/$SID/log"
	assert_output --partial '"event":"device.unlinked"'
	run api GET /v1/events
	assert_output --partial '"event":"device.unlinked"'
	# twice: nothing open any more; operator only
	run rtcs-session unlink "$SID" alice-phone
	assert_failure
	run api_code DELETE "/v1/sessions/$SID/devices/bob-pc" - "$(dev_token bob-pc)"
	assert_output --partial '403 '
	run rtcs-session devices "$SID"
	assert_output --regexp 'alice +alice-phone +closed .* unlinked'
}

@test "join NAME@NEWDEVICE: only a participant with no open channel gets a new device" {
	two_devices
	# alice still speaks through alice-phone: refused
	run rtcs-session join "$SID" "alice@alice-laptop:$(keys alice-laptop)"
	assert_failure
	run rtcs-session unlink "$SID" alice-phone
	assert_success
	# a device with an open channel cannot take a second one
	run rtcs-session join "$SID" "alice@bob-pc:$(keys bob-pc)"
	assert_failure
	run rtcs-session join "$SID" "alice@alice-laptop:$(keys alice-laptop)"
	assert_success
	run rtcs-session --keys "$(keys alice-laptop)" send "$SID" --as alice-laptop "back"
	assert_success
	run rtcs-session --json devices "$SID"
	[ "$(jq -r '.participants[] | select(.name == "alice") | [.channels[] | .device + ":" + .state] | join(" ")' <<<"$output")" = "alice-phone:closed alice-laptop:open" ]
	[ "$(jq -r '.participants | length' <<<"$output")" = 2 ]
	run api GET "/v1/sessions/$SID/log"
	assert_output --partial '"event":"participant.linked"'
	run rtcs-session join "$SID" "alice@alice-tv:$(keys alice-tv)"
	assert_failure
	restart_server
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
	run rtcs-session --keys "$(keys alice-laptop)" send "$SID" --as alice-laptop "after"
	assert_success
}
