#!/usr/bin/env bats
# Invite codes (design.md 4.5): create, render, scan; the session has both devices.
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

@test "invite: a scanner token that cannot be stored is printed once, exit 74" {
	run rtcs-transfer --keys "$(keys carol-desk)" invite --to carol-desk -o "$K/invite.png"
	assert_success
	mkdir -p -m 700 "$(keys dave-phone)"
	mkdir "$(keys dave-phone)/dave-phone.token"	# the token cannot be written
	run rtcs-scan --keys "$(keys dave-phone)" --submit --as dave-phone "$K/invite.png"
	assert_failure 74
	assert_output --partial "cannot store the token of dave-phone"
	read -r SID tok < <(grep '^S' <<<"$output")
	[[ $tok =~ ^[A-Z2-7]{26}$ ]]
	run api POST "/v1/sessions/$SID/messages" '{"body":"kept"}' "$tok"
	assert_success
}

@test "invite: create, render, scan; the new session has both devices and both tokens work" {
	run rtcs-transfer --keys "$(keys carol-desk)" invite --to carol-desk --name carol --kind chat -o "$K/invite.png"
	assert_success
	[[ $output =~ ^RTCS:1:I:I[A-Z2-7]{16}: ]]
	IID=$(cut -d: -f4 <<<"$output")
	assert_file_exist "$K/invite.png"
	assert_file_exist "$(keys carol-desk)/carol-desk.invite"
	run rtcs-scan "$K/invite.png"
	assert_success
	[[ $output == RTCS:1:I:* ]]
	run rtcs-scan --keys "$(keys dave-phone)" --submit --as dave-phone --name dave "$K/invite.png"
	assert_success
	SID=$output
	[[ $SID =~ ^S[A-Z2-7]{16}$ ]]
	run api GET "/v1/sessions/$SID"
	[ "$(jq -r '[.session.participants[] | .name + "@" + .device] | sort | join(" ")' <<<"$output")" = "carol@carol-desk dave@dave-phone" ]
	# the scanner's token works at once
	rtcs-session --keys "$(keys dave-phone)" send "$SID" --as dave-phone "hello carol"
	# the target collects its token with the owner secret, once
	owner=$(awk -v i="$IID" '$1 == i { print $2 }' "$(keys carol-desk)/carol-desk.invite")
	run api GET "/v1/invites/$IID/sessions" - "$owner"
	assert_success
	[ "$(jq -r '.sessions[0].session' <<<"$output")" = "$SID" ]
	tok=$(jq -r '.sessions[0].token' <<<"$output")
	run api POST "/v1/sessions/$SID/messages" '{"body":"hi dave"}' "$tok"
	assert_success
	run api GET "/v1/invites/$IID/sessions" - "$owner"
	[ "$(jq -r '.sessions | length' <<<"$output")" = 0 ]
	run api GET "/v1/sessions/$SID/log"
	assert_output --partial '"body":"hello carol"'
	assert_output --partial '"body":"hi dave"'
	run api GET /v1/events
	assert_output --partial '"event":"invite.created"'
	assert_output --partial '"event":"invite.used"'
}

@test "invite refusals: another secret, the owner secret of another invite, no owner secret" {
	P=$(rtcs-transfer --keys "$(keys carol-desk)" invite --to carol-desk)
	IID=$(cut -d: -f4 <<<"$P")
	run rtcs-transfer --keys "$(keys erin-desk)" invite --to erin-desk
	rtcs-code -t png -o "$K/forged.png" "RTCS:1:I:$IID:AAAAAAAAAAAAAAAAAAAAAAAAAA"
	run rtcs-scan --keys "$(keys dave-phone)" --submit --as dave-phone "$K/forged.png"
	assert_failure 1
	run api_code POST "/v1/invites/$IID/scan" "{\"payload\":\"$P\",\"device\":\"carol-desk\"}"
	assert_output --partial '409 '
	run api_code GET "/v1/invites/$IID/sessions"
	assert_output --partial '401 '
	other=$(cut -d' ' -f2 "$(keys erin-desk)/erin-desk.invite")
	run api_code GET "/v1/invites/$IID/sessions" - "$other"
	assert_output --partial '403 '
	run api_code POST /v1/invites '{"to":"Not A Name"}'
	assert_output --partial '400 '
}

@test "invite tokens survive a restart (sealed to the owner secret, not kept in clear)" {
	P=$(rtcs-transfer --keys "$(keys carol-desk)" invite --to carol-desk)
	IID=$(cut -d: -f4 <<<"$P")
	rtcs-code -t png -o "$K/invite.png" "$P"
	SID=$(rtcs-scan --keys "$(keys dave-phone)" --submit --as dave-phone "$K/invite.png")
	restart_server
	owner=$(cut -d' ' -f2 "$(keys carol-desk)/carol-desk.invite")
	! grep -rq "$owner" "$RTCS_STORE"
	tok=$(api GET "/v1/invites/$IID/sessions" - "$owner" | jq -r '.sessions[0].token')
	! grep -rq "$tok" "$RTCS_STORE"
	run api POST "/v1/sessions/$SID/messages" '{"body":"after the restart"}' "$tok"
	assert_success
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}
