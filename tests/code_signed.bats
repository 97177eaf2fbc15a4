#!/usr/bin/env bats
# Signed, self-describing codes (design.md 7.1): what a code will do, the
# server's signature, the server's key kept on first use, a changed key refused.
load lib
load server
load transfer_helper

setup() {
	start_server --name testsrv
	two_devices
}

teardown() {
	stop_server
}

# explain DEVICE [ARGS]: rtcs-scan --explain with DEVICE's key directory, on $K/code.png.
explain() {
	local dev=$1
	shift
	rtcs-scan --keys "$(keys "$dev")" --explain "$@" "$K/code.png"
}

@test "a push code says what it will do; explain checks it and keeps the server's key on first use" {
	push_code --ttl 90
	[[ $P =~ ^RTCS:1:$TID:[A-Z2-7]{26}:PUSH/CHAT/ALICE/ALICE-PHONE/TESTSRV/[0-9]+:[A-Z2-7]{103}$ ]]
	run explain alice-tablet
	assert_success
	assert_output --regexp "^move alice's chat from alice-phone to this device, on server testsrv, expires in (8[0-9]|90) s, signature valid"
	assert_output --partial "first use: kept the key of server testsrv"
	# The line kept is the one the operator prints, and the secret shows nowhere.
	run rtcs-serve --print-key -D "$RTCS_STORE"
	assert_success
	[ "$(cat "$(keys alice-tablet)/servers.known")" = "$output" ]
	[[ $output =~ ^testsrv\ [0-9a-f]{64}$ ]]
	secret=$(cut -d: -f4 <<<"$P")
	run explain alice-tablet --json
	assert_success
	refute_output --partial "$secret"
	run jq -e '.code == "transfer" and .direction == "push" and .kind == "chat" and
	    .participant == "alice" and .device == "alice-phone" and .server == "testsrv" and
	    .signature == "valid" and .suspicious == false and .key_kept_now == false and
	    .expires_in_s <= 90 and .expires_in_s >= 80' <<<"$output"
	assert_success
	# Nothing was submitted.
	[ "$(api GET "/v1/transfers/$TID" | jq -r '.transfer.state + " " + (.transfer.attempts_left|tostring)')" = "issued 5" ]
}

@test "an altered code: bad signature, not submitted; sent anyway, the server counts it a wrong code" {
	push_code --proof scanner --confirm none
	forged=${P/ALICE-PHONE/MALLORY-PC}
	rtcs-code -t png -o "$K/code.png" "$forged"
	run explain alice-tablet
	assert_failure 1
	assert_output --partial "move alice's chat from mallory-pc to this device, on server testsrv"
	assert_output --partial "signature BAD"
	assert_output --partial "suspicious: bad signature"
	run scan alice-tablet
	assert_failure 1
	assert_output --partial "signature is not server testsrv's (forged or altered): not submitted"
	[ "$(api GET "/v1/transfers/$TID" | jq -r .transfer.attempts_left)" = 5 ]
	# Straight to the API: the server checks its own signature.
	run api_code POST "/v1/transfers/$TID/image" "{\"device\":\"alice-tablet\",\"payload\":\"$forged\"}"
	[[ $output == 403* ]]
	[ "$(api GET "/v1/transfers/$TID" | jq -r '.transfer.state + " " + (.transfer.attempts_left|tostring)')" = "issued 4" ]
	# The true code still moves the session.
	rtcs-code -t png -o "$K/code.png" "$P"
	run scan alice-tablet
	assert_success
	[ "$(tstate)" = completed ]
}

@test "a code of a server the device never met: unknown key, whether or not a server answers" {
	push_code
	# Offline (no server at that socket) with an empty key directory.
	mkdir -m 700 "$K/fresh"
	run rtcs-scan --keys "$K/fresh" -S "$K/nothing.sock" --explain "$K/code.png"
	assert_failure 1
	assert_output --partial "signature unknown"
	assert_output --partial "suspicious: unknown server key"
	[ ! -e "$K/fresh/servers.known" ]
	# The server that answers is another one: its key is kept, but it is not the code's.
	restart_server --name othersrv
	run rtcs-scan --keys "$K/fresh" --explain "$K/code.png"
	assert_failure 1
	assert_output --partial "suspicious: unknown server key"
	grep -q '^othersrv ' "$K/fresh/servers.known"
	# And a scan to it is refused before anything is sent.
	run scan alice-tablet
	assert_failure 1
	assert_output --partial "the code is from server testsrv, the server at"
	assert_output --partial "is othersrv: not submitted"
}

@test "a server whose key changed is refused loudly (77), and the code is not submitted" {
	push_code
	k=$(keys alice-tablet)
	mkdir -p -m 700 "$k"
	printf 'testsrv %064d\n' 0 >"$k/servers.known"
	chmod 600 "$k/servers.known"
	run explain alice-tablet
	assert_failure 77
	assert_output --partial "the signing key of server testsrv CHANGED"
	assert_output --partial "delete its line there"
	run scan alice-tablet
	assert_failure 77
	assert_output --partial "CHANGED"
	[ "$(api GET "/v1/transfers/$TID" | jq -r '.transfer.state + " " + (.transfer.attempts_left|tostring)')" = "issued 5" ]
	# The file was left as it was: the refusal keeps nothing.
	[ "$(cat "$k/servers.known")" = "testsrv $(printf '%064d' 0)" ]
}

@test "an expired code is suspicious; a restart keeps the server's key and name" {
	require_cmd faketime faketime
	push_code --ttl 30
	# (libfaketime comes before the sanitizer's runtime under make sanitize)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    run faketime -f +60 rtcs-scan --keys "$(keys alice-tablet)" --explain "$K/code.png"
	assert_failure 1
	assert_output --regexp "expired (29|3[0-9]) s ago, signature valid"
	assert_output --partial "suspicious: expired"
	key=$(rtcs-serve --print-key -D "$RTCS_STORE")
	[[ $key == "testsrv "* ]]
	# Without --name the store's name and key stay: the code still checks out.
	restart_server
	[ "$(rtcs-serve --print-key -D "$RTCS_STORE")" = "$key" ]
	[ "$(api GET /v1/version | jq -r .server)" = testsrv ]
	run explain alice-tablet
	assert_success
}

@test "a pull's code names the new device; the origin's explain says so" {
	P=$(rtcs-transfer --keys "$(keys alice-tablet)" offer --as alice-tablet)
	[[ $P =~ :PULL///ALICE-TABLET/TESTSRV/ ]]
	rtcs-code -t png -o "$K/code.png" "$P"
	run explain alice-phone
	assert_success
	assert_output --partial "hand your place in a session to the new device that calls itself alice-tablet, on server testsrv"
	P=$(rtcs-transfer --keys "$(keys alice-tablet)" offer --as alice-tablet --session "$SID")
	[[ $P =~ :PULL/CHAT//ALICE-TABLET/TESTSRV/ ]]
}

@test "old unsigned payloads stay valid; explain calls them unsigned" {
	push_code --proof scanner --confirm none
	old=$(cut -d: -f1-4 <<<"$P")
	rtcs-code -t png -o "$K/code.png" "$old"
	run explain alice-tablet
	assert_failure 1
	assert_output --partial "a transfer code $TID, unsigned"
	assert_output --partial "suspicious: it is not signed"
	run scan alice-tablet
	assert_success
	[ "$(tstate)" = completed ]
}

@test "the longest signed payload fits QR version 10 at level M; a name too long is left out" {
	long=abcdefghijklmnopqrstuvwx		# 24 characters: the longest a code carries
	stop_server
	start_server --name "$long"
	K=$RTCS_TEST_DIR
	SID=$(rtcs-session new --kind abcdefghijklmnopqrstuvwxyz012345 "$long@$long:$(keys "$long")" \
	    "bob@bob-pc:$(keys bob-pc)")
	P=$(rtcs-transfer --keys "$(keys "$long")" request "$SID" --as "$long")
	[ ${#P} -eq 279 ]	# with a 10-digit expiry (until 2286), 283 with 12
	run rtcs-code --json -l m "$P"
	assert_success
	[ "$(jq -r .version <<<"$output")" -le 10 ]
	[ "$(jq -r .mode <<<"$output")" = alphanumeric ]
	# 25 characters: the code says "a device" rather than cut a name.
	new_session "carol@${long}y" bob@bob-pc
	P=$(rtcs-transfer --keys "$(keys "${long}y")" request "$SID" --as "${long}y")
	[[ $P =~ :PUSH/CHAT/CAROL//${long^^}/ ]]
	rtcs-code -t png -o "$K/code.png" "$P"
	run explain bob-pc
	assert_success
	assert_output --partial "move carol's chat from a device to this device"
}

@test "rtcs-scan --explain: a code that is not rtcs's is bad input; --print-key needs a store and a name" {
	rtcs-code -t png -o "$K/code.png" "https://example.org/"
	run explain alice-tablet
	assert_failure 65
	assert_output --partial "not an rtcs code"
	run rtcs-scan --explain --as alice-tablet "$K/code.png"
	assert_failure 64
	mkdir -m 700 "$K/empty"
	run rtcs-serve --print-key -D "$K/empty"
	assert_failure 1
	assert_output --partial "not a store"
	run rtcs-serve --name "Bad Name" --print-key
	assert_failure 64
	assert_output --partial "--name: 'Bad Name' is not a name"
}

@test "a server that shows another's key without holding it is refused (77): it must sign a fresh nonce" {
	push_code
	key=$(api GET /v1/version | jq -r .key)
	# The server proves it: its signature of our nonce checks out with its key.
	nonce=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	[ "$(api GET "/v1/version?nonce=$nonce" | jq -r '.proof | length')" = 128 ]
	run api_code GET "/v1/version?nonce=abc"
	[[ $output == "400 "*'"bad_field"'* ]]
	# An impostor on its own socket repeats the real server's name and public key.
	mkdir -m 700 "$K/fake"
	python3 - "$K/fake/rtcs.sock" "$key" 3>&- <<'PY' &
import http.server, json, socketserver, sys
path, key = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"name": "rtcs", "version": "0.1.0", "api": 1, "store_format": 1,
                           "server": "testsrv", "key": key, "proof": "00" * 64}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
class S(socketserver.UnixStreamServer):
    def get_request(self):
        r, _ = super().get_request()
        return r, ("local", 0)
s = S(path, H)
open(path + ".ready", "w").close()
s.serve_forever()
PY
	echo $! >"$RTCS_TEST_DIR/fake.pid"
	for _ in $(seq 500); do [ -e "$K/fake/rtcs.sock.ready" ] && break; read -r -t 0.02 <> <(:) || true; done
	[ -e "$K/fake/rtcs.sock.ready" ]
	run rtcs-scan --keys "$(keys alice-tablet)" -S "$K/fake/rtcs.sock" --submit --as alice-tablet "$K/code.png"
	assert_failure 77
	assert_output --partial "cannot prove it holds it"
	[ ! -e "$(keys alice-tablet)/servers.known" ]
	run rtcs-scan --keys "$(keys alice-tablet)" -S "$K/fake/rtcs.sock" --explain "$K/code.png"
	assert_failure 77
}

@test "a store from before signed codes gets its signing key and name at start, its match key kept" {
	stop_server --keep
	# meta/keys as the server wrote it before: the match key only.
	mk=$(head -n 1 "$RTCS_STORE/meta/keys.json" | jq -r .match_key)
	[[ $mk =~ ^[0-9a-f]{64}$ ]]
	printf '{"id":"keys","match_key":"%s"}' "$mk" | "$(rtcs_tool store-put)" "$RTCS_STORE" meta keys
	run rtcs-serve --print-key -D "$RTCS_STORE"
	assert_failure 66
	assert_output --partial "no signing key yet"
	_server_launch --name upgraded
	key=$(rtcs-serve --print-key -D "$RTCS_STORE")
	[[ $key =~ ^upgraded\ [0-9a-f]{64}$ ]]
	[ "$(head -n 1 "$RTCS_STORE/meta/keys.json" | jq -r .match_key)" = "$mk" ]
	# The sessions of the old store go on, and their codes are signed now.
	push_code
	[[ $P =~ :PUSH/CHAT/ALICE/ALICE-PHONE/UPGRADED/ ]]
	run explain alice-tablet
	assert_success
	assert_output --partial "on server upgraded"
}
