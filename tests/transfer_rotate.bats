#!/usr/bin/env bats
# Rotating codes (design.md 7.1, issue 12 item 3): while a transfer is issued
# its secret is replaced every --rotate S seconds; the previous one is valid
# 2 s more, then 410 code_rotated (not a failed attempt). Time passing is
# waited on as the transfer.code events of the server's event log.
load lib
load server
load transfer_helper

teardown() { stop_server; }

# The server's event log, followed, in $K/events.out.
follow_events() {
	curl -sS -N --unix-socket "$RTCS_SOCKET" "http://rtcs/v1/events?follow=1" \
	    >"$RTCS_TEST_DIR/events.out" 2>/dev/null 3>&- &
	echo $! >"$RTCS_TEST_DIR/events.pid"
}

# wait_codes N: until the event log told N new codes of $TID.
wait_codes() {
	wait_lines_of "\"transfer.code\".*\"$TID\"" "$1" "${2:-15}"
}

wait_lines_of() {
	local pat=$1 n=$2 secs=$3 end=$((SECONDS + $3))
	until [ "$(grep -cE -- "$pat" "$RTCS_TEST_DIR/events.out" 2>/dev/null)" -ge "$n" ]; do
		[ $SECONDS -lt $end ] || { echo "no $n x /$pat/:" >&2; cat "$RTCS_TEST_DIR/events.out" >&2; return 1; }
		read -r -t 0.02 <> <(:) || true
	done
}

image() {	# PAYLOAD [DEVICE]: STATUS BODY of a scan
	api_code POST "/v1/transfers/$TID/image" '{"device":"'"${2:-alice-tablet}"'","payload":"'"$1"'"}'
}

attempts() {
	api GET "/v1/transfers/$TID" | jq .transfer.attempts_left
}

# A push by alice-phone through the API: $TID, $P.
api_push() {
	local out
	out=$(api POST /v1/transfers '{"session":"'"$SID"'"'"${1:+,$1}"'}' "$(dev_token alice-phone)") || {
		echo "$out" >&2; return 1; }
	TID=$(jq -r .transfer.id <<<"$out") P=$(jq -r .payload <<<"$out")
}

@test "a rotating code: a new secret at the period, the old one valid for its grace, then 410 code_rotated without costing an attempt; a never-valid one still costs one" {
	start_server --proof scanner --confirm none
	two_devices
	follow_events
	api_push '"rotate":2'
	old=$P
	[ "$(api GET "/v1/transfers/$TID" | jq .transfer.rotate)" = 2 ]
	wait_codes 1
	now=$(api GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)" | jq -r .payload)
	[ "$now" != "$old" ]
	# Another secret for the same transfer, the same description signed anew.
	[ "$(cut -d: -f1-3 <<<"$now")" = "$(cut -d: -f1-3 <<<"$old")" ]
	[ "$(cut -d: -f4 <<<"$now")" != "$(cut -d: -f4 <<<"$old")" ]
	[ "$(cut -d: -f5 <<<"$now")" = "$(cut -d: -f5 <<<"$old")" ]
	# After the next rotation, old is two secrets back: past its grace.
	wait_codes 2
	run image "$old"
	[[ $output == "410 "*'"code_rotated"'* ]]
	[ "$(attempts)" = 5 ]
	run image "RTCS:1:$TID:AAAAAAAAAAAAAAAAAAAAAAAAAA"
	[[ $output == "403 "*'"code_mismatch"'* ]]
	[ "$(attempts)" = 4 ]
	# The previous code still works within its grace: the one told just before a rotation.
	# (counted before and after the fetch: a rotation between them is fetched again)
	while :; do
		n=$(grep -c '"transfer.code"' "$RTCS_TEST_DIR/events.out")
		prev=$(api GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)" | jq -r .payload)
		[ "$(grep -c '"transfer.code"' "$RTCS_TEST_DIR/events.out")" = "$n" ] && break
	done
	wait_codes $((n + 1))
	run image "$prev"
	[[ $output == "200 "* ]]
	[ "$(tstate)" = completed ]
}

@test "rotation stops at the first valid scan, and is off by default" {
	start_server --proof scanner --confirm origin
	two_devices
	follow_events
	api_push '"rotate":2'
	wait_codes 1
	now=$(api GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)" | jq -r .payload)
	run image "$now"
	[[ $output == "200 "* ]]
	n=$(grep -c '"transfer.code"' "$RTCS_TEST_DIR/events.out")
	run api_code GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)"
	[[ $output == "409 "* ]]
	# A default transfer: no rotation; its first code is still valid after ours rotated on.
	api_push
	TID1=$TID P1=$P
	api_push '"rotate":2'
	wait_codes 2
	[ "$(grep -c "\"transfer.code\".*\"$TID1\"" "$RTCS_TEST_DIR/events.out")" = 0 ]
	TID=$TID1
	run image "$P1"
	[[ $output == "200 "* ]]
	[ "$(grep -c '"transfer.code"' "$RTCS_TEST_DIR/events.out")" -ge "$n" ]
}

@test "GET .../code: the origin and a pull's new device get it; a stranger, the operator and other devices get what an unknown id gets" {
	start_server --rotate 2 --proof scanner
	two_devices
	api_push
	out=$(api GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)")
	[ "$(jq -r .payload <<<"$out")" = "$P" ]
	[ "$(jq -r .rotate <<<"$out")" = 2 ]
	[ "$(jq -r .rotates_at <<<"$out")" != null ]
	for who in "$(dev_token bob-pc)" ""; do
		run api_code GET "/v1/transfers/$TID/code" - "$who"
		[[ $output == "404 "*'"not_found"'* ]]
	done
	run api_code GET "/v1/transfers/TAAAAAAAAAAAAAAAA/code" - "$(dev_token alice-phone)"
	[[ $output == "404 "*'"not_found"'* ]]
	# A pull: its new device's claim secret.
	out=$(api POST /v1/transfers '{"device":"alice-tablet"}')
	ptid=$(jq -r .transfer.id <<<"$out") claim=$(jq -r .claim <<<"$out")
	[ "$(api GET "/v1/transfers/$ptid/code" - "$claim" | jq -r .payload)" = "$(jq -r .payload <<<"$out")" ]
	run api_code GET "/v1/transfers/$ptid/code" - "$(dev_token alice-phone)"
	[[ $output == "404 "* ]]
	# Bad periods: one clear line each.
	run api_code POST /v1/transfers '{"session":"'"$SID"'","rotate":0}' "$(dev_token alice-phone)"
	[[ $output == "400 "*"not turn it off"* ]]
	run api_code POST /v1/transfers '{"session":"'"$SID"'","rotate":5}' "$(dev_token alice-phone)"
	[[ $output == "400 "*"only make it shorter"* ]]
	run api_code POST /v1/transfers '{"session":"'"$SID"'","rotate":"2"}' "$(dev_token alice-phone)"
	[[ $output == "400 "*"bad_field"* ]]
	run rtcs-serve --rotate 1 -S "$RTCS_TEST_DIR/x.sock" -D "$RTCS_TEST_DIR/x"
	[ "$status" = 64 ]
}

@test "a rotation whose write fails leaves the old secret in force and the server serving" {
	RTCS_TEST_DIR=$(mktemp -d /tmp/rtcs.XXXXXX)
	export RTCS_TEST_DIR RTCS_SOCKET="$RTCS_TEST_DIR/run/rtcs.sock" RTCS_STORE="$RTCS_TEST_DIR/store"
	export RTCS_FAILPOINT_FILE="$RTCS_TEST_DIR/faults"
	: >"$RTCS_FAILPOINT_FILE"
	_server_launch --proof scanner --confirm none -v
	two_devices
	follow_events
	api_push '"rotate":2'
	printf 'store-put=ENOSPC\n' >"$RTCS_FAILPOINT_FILE"
	wait_grep "$RTCS_TEST_DIR/server.log" "transfer $TID: its new code was not saved" 15
	: >"$RTCS_FAILPOINT_FILE"
	[ "$(grep -c '"transfer.code"' "$RTCS_TEST_DIR/events.out")" = 0 ]
	[ "$(api GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)" | jq -r .payload)" = "$P" ]
	api GET /v1/health >/dev/null
	run image "$P"
	[[ $output == "200 "* ]]
	[ "$(tstate)" = completed ]
}

@test "request --follow prints each new code and rewrites -o; it ends when the code is scanned" {
	start_server --proof scanner --confirm none
	two_devices
	follow_events
	rtcs-transfer --keys "$(keys alice-phone)" request "$SID" --as alice-phone --rotate 2 \
	    --follow -o "$K/follow.png" >"$K/follow.out" 2>"$K/follow.err" 3>&- &
	fpid=$!
	echo $fpid >"$RTCS_TEST_DIR/follow.pid"
	wait_lines "$K/follow.out" 1
	first=$(head -1 "$K/follow.out")
	TID=$(cut -d: -f3 <<<"$first")
	grep -qxF -- "$(rtcs-scan "$K/follow.png")" "$K/follow.out"
	wait_lines "$K/follow.out" 2 15
	second=$(sed -n 2p "$K/follow.out")
	[ "$second" != "$first" ]
	# The code the server shows now is printed too (at once, or as soon as follow fetched it).
	cur=$(api GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)" | jq -r .payload)
	for _ in $(seq 500); do grep -qxF -- "$cur" "$K/follow.out" && break; read -r -t 0.02 <> <(:) || true; done
	grep -qxF -- "$cur" "$K/follow.out"
	# The file follows (it is replaced after the line is printed's fetch: wait for it).
	for _ in $(seq 200); do [ "$(rtcs-scan "$K/follow.png")" != "$first" ] && break; read -r -t 0.02 <> <(:) || true; done
	[ "$(rtcs-scan "$K/follow.png")" != "$first" ]
	# It holds the code's secret: ours alone; and no temporary is left beside it.
	[ "$(stat -c %a "$K/follow.png")" = 600 ]
	! ls -a "$K" | grep -q rtcs-code
	now=$(api GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)" | jq -r .payload)
	rtcs-transfer submit --keys "$(keys alice-tablet)" --as alice-tablet - <<<"$now" >/dev/null
	wait "$fpid"
}

@test "run --rotate: the -o file and the --json lines follow each new code" {
	start_server --proof scanner
	two_devices
	follow_events
	rtcs-transfer --json --keys "$(keys alice-phone)" run "$SID" --from alice-phone --to alice-tablet \
	    --rotate 2 --confirm none -o "$K/run.png" >"$K/run.out" 2>"$K/run.err" 3>&- &
	rpid=$!
	echo $rpid >"$RTCS_TEST_DIR/run.pid"
	wait_grep "$K/run.out" '"step":"waiting"'
	TID=$(grep -m1 '"step":"requested"' "$K/run.out" | jq -r .id)
	wait_grep "$K/run.out" '"event":"transfer.code"' 15
	new=$(grep -m1 '"event":"transfer.code"' "$K/run.out" | jq -r .payload)
	[ "$(rtcs-scan "$K/run.png")" != "$(grep -m1 '"step":"requested"' "$K/run.out" | jq -r .payload)" ]
	now=$(api GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)" | jq -r .payload)
	rtcs-transfer submit --keys "$(keys alice-tablet)" --as alice-tablet - <<<"$now" >/dev/null
	wait "$rpid"
	[ -n "$new" ]
}

@test "offer --follow: a pull's new device shows each new code (fetched with its claim) until the origin scans it" {
	start_server --rotate 2
	two_devices
	follow_events
	rtcs-transfer --keys "$(keys alice-tablet)" offer --as alice-tablet --follow \
	    -o "$K/offer.png" >"$K/offer.out" 2>"$K/offer.err" 3>&- &
	fpid=$!
	echo $fpid >"$RTCS_TEST_DIR/offer.pid"
	wait_lines "$K/offer.out" 1
	first=$(head -1 "$K/offer.out")
	TID=$(cut -d: -f3 <<<"$first")
	# The file holds a code printed (the first, or a later one on a slow machine).
	grep -qxF -- "$(rtcs-scan "$K/offer.png")" "$K/offer.out"
	wait_lines "$K/offer.out" 2 15
	second=$(sed -n 2p "$K/offer.out")
	[ "$second" != "$first" ]
	[ "$(cut -d: -f1-3 <<<"$second")" = "$(cut -d: -f1-3 <<<"$first")" ]
	# The origin scans what the tablet shows now: the offer is bound, the follow ends.
	now=$(tail -1 "$K/offer.out")
	run rtcs-transfer submit --keys "$(keys alice-phone)" --as alice-phone - <<<"$now"
	assert_success
	assert_line "to: alice-tablet"
	wait "$fpid"
	[ "$(tstate)" = scanned ]	# proof both: the tablet's own image data comes next
}

@test "request --follow on a terminal redraws the code in place (cursor up, clear below)" {
	start_server --proof scanner --confirm none
	two_devices
	follow_events
	script -qfec "rtcs-transfer --keys '$(keys alice-phone)' request '$SID' --as alice-phone \
	    --rotate 2 --follow" /dev/null >"$K/tty.out" 2>&1 </dev/null 3>&- &
	spid=$!
	echo $spid >"$RTCS_TEST_DIR/tty.pid"
	wait_grep "$RTCS_TEST_DIR/events.out" '"transfer.code"' 15
	TID=$(grep -m1 '"transfer.code"' "$RTCS_TEST_DIR/events.out" | jq -r .transfer)
	# The second drawing goes over the first: up as many lines as it drew, then clear.
	rows=$(($(rtcs-code -t utf8 "$(api GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)" | jq -r .payload)" | wc -l)))
	wait_grep "$K/tty.out" "$(printf '\033')\\[${rows}A$(printf '\033')\\[J" 15
	[ "$(grep -c "$(printf '\033')\\[J" "$K/tty.out")" -ge 1 ]
	# No payload in clear on the terminal: the code is drawn, not printed.
	! grep -q "RTCS:1:" "$K/tty.out"
	now=$(api GET "/v1/transfers/$TID/code" - "$(dev_token alice-phone)" | jq -r .payload)
	rtcs-transfer submit --keys "$(keys alice-tablet)" --as alice-tablet - <<<"$now" >/dev/null
	wait "$spid"
}
