#!/usr/bin/env bats
# Uploaded images are decoded off the event loop (design.md 8.1): worker
# processes with a CPU limit each, a bounded queue (503 beyond it), and an
# image with no code is a failed attempt. Events are ordered by what the
# server answers, never by timing.
load lib
load server
load transfer_helper

setup() {
	require_cmd convert imagemagick
}

teardown() {
	stop_server
}

# A PNG that keeps zbar busy: 4096x4096 of 8x8 black and white noise (~60 KB).
noisy_png() {
	convert -size 512x512 xc:gray50 +noise Random -colorspace Gray -threshold 50% \
	    -filter point -resize 4096x4096 -type Grayscale "$1"
}

# upload_bg NAME PNG DEVICE: POSTs PNG for $TID in the background; the reply
# (body, then the status on a line of its own) lands in $RTCS_TEST_DIR/NAME.out
# only when it arrives.
upload_bg() {
	local name=$1 png=$2 dev=$3
	printf '{"device":"%s","image":"%s"}' "$dev" "$(base64 -w0 "$png")" \
	    >"$RTCS_TEST_DIR/$name.json"
	curl -sS --unix-socket "$RTCS_SOCKET" -H 'Content-Type: application/json' \
	    --data-binary "@$RTCS_TEST_DIR/$name.json" -w '\n%{http_code}\n' \
	    "http://rtcs/v1/transfers/$TID/image" >"$RTCS_TEST_DIR/$name.tmp" 2>&1 3>&- &&
	    mv "$RTCS_TEST_DIR/$name.tmp" "$RTCS_TEST_DIR/$name.out" &
	echo $! >"$RTCS_TEST_DIR/$name.pid"
}

# wait_health JQ-CONDITION: polls GET /v1/health until the condition holds (10 s).
wait_health() {
	local end=$((SECONDS + 10))
	until api GET /v1/health | jq -e "$1" >/dev/null; do
		if [ $SECONDS -ge $end ]; then
			echo "timed out waiting for health to show $1:" >&2
			api GET /v1/health >&2
			return 1
		fi
		_tick
	done
}

attempts_left() {
	api GET "/v1/transfers/$TID" | jq -r .transfer.attempts_left
}

@test "a big upload decodes in a worker: another client's health answers before the upload's reply" {
	start_server --decode-cpu 1
	two_devices
	push_code --proof scanner --confirm none
	noisy_png "$K/noisy.png"
	upload_bg big "$K/noisy.png" alice-tablet
	# health answers while the worker decodes ...
	wait_health '.decode.busy == 1 and .decode.workers == 2 and .decode.cpu_s == 1'
	# ... and before the upload is answered
	[ ! -e "$RTCS_TEST_DIR/big.out" ]
	run api GET /v1/sessions
	assert_success
	[ ! -e "$RTCS_TEST_DIR/big.out" ]
	# connections opened and closed beside the worker (forked from the loop,
	# whose epoll changes are applied together at each turn): each is
	# answered, and with its own reply
	for i in 1 2 3 4; do
		run api GET "/v1/sessions/$SID"
		assert_success
		[ "$(jq -r .session.id <<<"$output")" = "$SID" ]
		run api GET /v1/sessions/S404NOSUCHSESSION
		assert_failure
	done
	wait_grep "$RTCS_TEST_DIR/big.out" "^[0-9]{3}$" 30
	run cat "$RTCS_TEST_DIR/big.out"
	assert_line --index 1 400
	assert_output --partial '"code":"no_code"'
	assert_output --partial 'within the decoding limit (1 s of CPU an image)'
	# the worker's time counts as a scan that found nothing
	[ "$(attempts_left)" = 4 ]
	wait_health '.decode.busy == 0 and .decode.queued == 0'
}

@test "an image with no code is a failed attempt: five of them burn the transfer" {
	start_server
	two_devices
	push_code --proof scanner --confirm none
	convert -size 64x64 xc:white "$K/blank.png"
	blank=$(base64 -w0 "$K/blank.png")
	for left in 4 3 2 1; do
		run api_code POST "/v1/transfers/$TID/image" "{\"device\":\"alice-tablet\",\"image\":\"$blank\"}"
		assert_output --regexp '^400 .*"code":"no_code"'
		assert_output --partial 'no code found in the image'
		[ "$(attempts_left)" = $left ]
		[ "$(tstate)" = issued ]
	done
	run api_code POST "/v1/transfers/$TID/image" "{\"device\":\"alice-tablet\",\"image\":\"$blank\"}"
	assert_output --regexp '^410 .*"code":"too_many_attempts"'
	[ "$(tstate)" = "failed too_many_attempts" ]
	[ "$(attempts_left)" = 0 ]
	# the real code is refused now
	run api_code POST "/v1/transfers/$TID/image" "{\"device\":\"alice-tablet\",\"payload\":\"$P\"}"
	assert_output --regexp '^410 .*"code":"too_many_attempts"'
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}

@test "every worker busy and the queue full: 503 unavailable with Retry-After" {
	start_server --decode-workers 1 --decode-queue 1 --decode-cpu 1
	two_devices
	push_code --proof scanner --confirm none
	noisy_png "$K/noisy.png"
	upload_bg one "$K/noisy.png" alice-tablet
	wait_health '.decode.busy == 1 and .decode.queued == 0'
	upload_bg two "$K/noisy.png" alice-tablet
	wait_health '.decode.busy == 1 and .decode.queued == 1 and .decode.queue == 1'
	printf '{"device":"alice-tablet","image":"%s"}' "$(base64 -w0 "$K/noisy.png")" >"$K/three.json"
	run curl -sS --unix-socket "$RTCS_SOCKET" -D - -H 'Content-Type: application/json' \
	    --data-binary "@$K/three.json" "http://rtcs/v1/transfers/$TID/image"
	assert_line --regexp '^HTTP/1.1 503 '
	assert_line --regexp '^Retry-After: 1'
	assert_output --partial '"code":"unavailable"'
	# the refused one was no attempt; the two decoded ones were
	wait_grep "$RTCS_TEST_DIR/one.out" "^[0-9]{3}$" 30
	wait_grep "$RTCS_TEST_DIR/two.out" "^[0-9]{3}$" 30
	grep -q '"code":"no_code"' "$RTCS_TEST_DIR/one.out"
	grep -q '"code":"no_code"' "$RTCS_TEST_DIR/two.out"
	[ "$(attempts_left)" = 3 ]
	wait_health '.decode.busy == 0 and .decode.queued == 0'
	# a free worker takes the next upload again
	rtcs-code -t png -o "$K/code.png" "$P"
	run api_code POST "/v1/transfers/$TID/image" \
	    "{\"device\":\"alice-tablet\",\"image\":\"$(base64 -w0 "$K/code.png")\"}"
	assert_output --regexp '^200 '
	[ "$(tstate)" = completed ]
}

@test "stopping with an upload decoding: the upload is answered 503, the server stops cleanly" {
	start_server --decode-cpu 30
	two_devices
	push_code --proof scanner --confirm none
	noisy_png "$K/noisy.png"
	upload_bg big "$K/noisy.png" alice-tablet
	wait_health '.decode.busy == 1'
	stop_server --keep
	wait_grep "$RTCS_TEST_DIR/big.out" "^[0-9]{3}$"
	run cat "$RTCS_TEST_DIR/big.out"
	assert_line --index 1 503
	assert_output --partial '"code":"unavailable"'
}
