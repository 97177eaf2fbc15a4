# Transfer tests against a real rtcs-serve (tests/server.bash) with the real
# clients: each device has its own key directory under $RTCS_TEST_DIR.
#
# Usage (after "load lib" and "load server"):
#   load transfer_helper
#   setup() { start_server; two_devices; }   # alice@alice-phone, bob@bob-pc
#
# K                       the test directory (keys: $K/k-DEVICE)
# keys DEVICE             the key directory of DEVICE
# new_session NAME@DEV... a session; $SID; each device's token in its own key directory
# push_code [OPTS]        alice-phone asks for a code: $P payload, $TID id, $K/code.png
# scan DEVICE [ARGS]      rtcs-scan --submit --as DEVICE $K/code.png (run it under "run")
# tstate                  "STATE REASON" of $TID (operator view)
# dev_token DEVICE        the device's token for $SID from its key directory
# assert_session_on DEV   alice speaks through DEV, and DEV can still send

keys() {
	printf '%s/k-%s' "$K" "$1"
}

new_session() {
	local p args=()
	K=$RTCS_TEST_DIR
	for p in "$@"; do
		args+=("$p:$(keys "${p#*@}")")
	done
	SID=$(rtcs-session new "${args[@]}")
	[[ $SID =~ ^S[A-Z2-7]{16}$ ]]
}

two_devices() {
	new_session alice@alice-phone bob@bob-pc
}

push_code() {
	P=$(rtcs-transfer --keys "$(keys alice-phone)" request "$SID" --as alice-phone "$@")
	TID=$(cut -d: -f3 <<<"$P")
	[[ $TID =~ ^T[A-Z2-7]{16}$ ]]
	rtcs-code -t png -o "$K/code.png" "$P"
}

scan() {
	local dev=$1
	shift
	rtcs-scan --keys "$(keys "$dev")" --submit --as "$dev" "$@" "$K/code.png"
}

tstate() {
	api GET "/v1/transfers/$TID" | jq -r '.transfer.state + " " + (.transfer.reason // "")' |
	    sed 's/ $//'
}

dev_token() {
	awk -v s="$SID" '$1 == s { print $2 }' "$(keys "$1")/$1.token"
}

assert_session_on() {
	local dev
	dev=$(api GET "/v1/sessions/$SID" | jq -r '.session.participants[] | select(.name == "alice") | .device')
	[ "$dev" = "$1" ] || { echo "alice speaks through $dev, not $1" >&2; return 1; }
	rtcs-session --keys "$(keys "$1")" send "$SID" --as "$1" "still here" >/dev/null
}
