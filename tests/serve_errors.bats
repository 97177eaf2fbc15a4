#!/usr/bin/env bats
# rtcs-serve: every bad request gets a JSON error, and the server keeps serving.
load lib
load server

setup() { start_server; }
teardown() { stop_server; }

healthy() {
	run api GET /v1/health
	assert_success
	assert_output --partial '"status":"ok"'
}

@test "malformed JSON, non-objects, deep nesting: 400 bad_json" {
	run api_code POST /v1/sessions '{"kind":'
	assert_output --partial '400 {"error":{"code":"bad_json","message":"malformed JSON"}}'
	run api_code POST /v1/sessions '[1,2]'
	assert_output --partial '400 {"error":{"code":"bad_json"'
	run api_code POST /v1/sessions '{} {}'
	assert_output --partial '400 {"error":{"code":"bad_json"'
	deep=$(printf '%.0s[' {1..40})1$(printf '%.0s]' {1..40})
	run api_code POST /v1/sessions "{\"a\":$deep}"
	assert_output --partial '400 {"error":{"code":"bad_json","message":"JSON nested deeper than 32"}}'
	run api_code POST /v1/sessions ""
	assert_output --partial '400 {"error":{"code":"bad_json"'
	# a number beyond a double is infinity, which prints as null: refused (found by fuzz_json)
	run api_code POST /v1/sessions '{"kind":"chat","x":[8888888e881]}'
	assert_output --partial '400 {"error":{"code":"bad_json","message":"a number too large'
	healthy
}

@test "wrong types and values: 400 bad_field" {
	run api_code POST /v1/sessions '{"participants":"alice"}'
	assert_output --partial '400 {"error":{"code":"bad_field"'
	run api_code POST /v1/sessions '{"kind":5,"participants":[{"name":"a","device":"b"}]}'
	assert_output --partial '400 {"error":{"code":"bad_field"'
	run api_code POST /v1/sessions '{"participants":[{"name":"Alice","device":"b"}]}'
	assert_output --partial '400 {"error":{"code":"bad_field"'
	run api_code POST /v1/sessions '{"participants":[{"name":"a","device":"x"},{"name":"b","device":"x"}]}'
	assert_output --partial '400 {"error":{"code":"bad_field"'
	run api_code POST /v1/sessions '{"participants":[]}'
	assert_output --partial '400 '
	session_new alice@alice-phone
	run api_code POST "/v1/sessions/$SID/messages" '{"type":"text","body":7}' "$(token alice-phone)"
	assert_output --partial '400 {"error":{"code":"bad_field"'
	run api_code POST "/v1/sessions/$SID/messages" '{"type":"fax","body":"x"}' "$(token alice-phone)"
	assert_output --partial '400 {"error":{"code":"bad_field"'
	run api_code GET "/v1/sessions?state=maybe"
	assert_output --partial '400 '
	run api_code GET "/v1/sessions/$SID/log?since=-1"
	assert_output --partial '400 '
	healthy
}

@test "oversized bodies: 413 too_large" {
	head -c 1200000 /dev/zero | tr '\0' a >"$RTCS_TEST_DIR/big"
	run curl -sS --unix-socket "$RTCS_SOCKET" -H 'Content-Type: application/json' \
	    --data-binary @"$RTCS_TEST_DIR/big" -w ' %{http_code}' http://rtcs/v1/sessions
	assert_line -n 0 '{"error":{"code":"too_large","message":"body over 1048576 bytes"}}'
	assert_line -n 1 ' 413'
	session_new alice@alice-phone
	printf '{"type":"text","body":"%s"}' "$(head -c 70000 /dev/zero | tr '\0' a)" >"$RTCS_TEST_DIR/text"
	run curl -sS --unix-socket "$RTCS_SOCKET" -H "Authorization: Bearer $(token alice-phone)" \
	    --data-binary @"$RTCS_TEST_DIR/text" -w ' %{http_code}' "http://rtcs/v1/sessions/$SID/messages"
	assert_output --partial '"code":"too_large"'
	assert_output --partial ' 413'
	# far beyond the limit libevent refuses before reading it all
	head -c 5000000 /dev/zero >"$RTCS_TEST_DIR/huge"
	run curl -sS --unix-socket "$RTCS_SOCKET" --data-binary @"$RTCS_TEST_DIR/huge" \
	    -o /dev/null -w '%{http_code}' http://rtcs/v1/sessions
	assert_output --partial 413
	healthy
}

@test "oversized request head is refused" {
	run curl -sS --unix-socket "$RTCS_SOCKET" -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" \
	    -o /dev/null -w '%{http_code}' http://rtcs/v1/health
	refute_output 200
	healthy
}

@test "unknown paths 404, wrong methods 405, wrong media type 415, all JSON" {
	run api_code GET /v1/nothing
	assert_output '404 {"error":{"code":"not_found","message":"no such resource: /v1/nothing"}}'
	run api_code GET /
	assert_output --partial '404 {"error"'
	run api_code PUT /v1/sessions '{}'
	assert_output --partial '405 {"error":{"code":"method_not_allowed"'
	run api_code PATCH /v1/health
	assert_output --partial '405 {"error":{"code":"method_not_allowed"'
	run api_code POST /v1/version '{}'
	assert_output --partial '405 '
	run curl -sS --unix-socket "$RTCS_SOCKET" -H 'Content-Type: text/plain' -d '{}' \
	    -w ' %{http_code}' http://rtcs/v1/sessions
	assert_output --partial '"code":"unsupported_media_type"'
	assert_output --partial ' 415'
	run curl -sS --unix-socket "$RTCS_SOCKET" -H 'Authorization: Basic eDp5' \
	    -w ' %{http_code}' http://rtcs/v1/health
	assert_output --partial ' 401'
	run curl -sS -i --unix-socket "$RTCS_SOCKET" http://rtcs/v1/nothing
	assert_output --partial 'Content-Type: application/json'
	healthy
}

@test "garbage on the socket does not hurt the server" {
	printf 'GARBAGE\r\n\r\n' | timeout 5 curl -sS --unix-socket "$RTCS_SOCKET" -X 'BAD METHOD' http://rtcs/v1/health -o /dev/null || true
	healthy
}

@test "connections beyond --max-connections get 503 JSON" {
	stop_server
	start_server --max-connections 2
	session_new alice@alice-phone bob@bob-pc
	stream_open a "$SID" "$(token alice-phone)"
	stream_open b "$SID" "$(token bob-pc)"
	wait_lines "$RTCS_TEST_DIR/a.out" 1
	wait_lines "$RTCS_TEST_DIR/b.out" 1
	run api_code GET /v1/health
	assert_output --partial '503 {"error":{"code":"unavailable","message":"too many connections"}}'
	kill "$(cat "$RTCS_TEST_DIR/a.pid")"
	end=$((SECONDS + 10))
	until api GET /v1/health >/dev/null || [ $SECONDS -ge $end ]; do _tick; done
	healthy
}
