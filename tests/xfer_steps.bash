# Push transfers driven step by step with the real programs, for the
# continuity and crash tests. Load after lib and server:
#   load lib; load server; load xfer_steps
#
# xfer_session            alice@alice-phone, bob@bob-pc in a new chat; $SID;
#                         key dirs $KP (phone), $KB (bob), $KT (tablet, empty)
# key_token DIR DEVICE    the device's token for $SID from its key directory
# push_request            the phone asks for a code to alice-tablet: $P, $TID
# push_show               the code as $RTCS_TEST_DIR/code.png; the phone submits
#                         the image it shows (displayer proof)
# push_scan               the tablet scans code.png: $MATCH (6 digits)
# push_confirm            the phone confirms with $MATCH
# push_collect            the tablet waits for completed and stores its token
# pull_offer              pull: the tablet asks for a code: $P, $TID
# pull_show               the code as code.png; the tablet submits the image it shows
# pull_scan               the phone scans code.png (binds the offer to its session)
# pull_confirm            the phone confirms (no match code in a pull)
#                         (then push_collect: the tablet collects its token)
# stamp_stream NAME DIR DEVICE [QUERY]
#                         curl -N on DEVICE's stream; each line goes to
#                         $RTCS_TEST_DIR/NAME.out prefixed with the time it
#                         arrived (microseconds since the epoch) and a space
# stamped_json FILE       the JSON of a stamped file, each object with "rx" (µs)

xfer_session() {
	KP=$RTCS_TEST_DIR/kp KB=$RTCS_TEST_DIR/kb KT=$RTCS_TEST_DIR/kt
	SID=$(rtcs-session new alice@alice-phone:"$KP" bob@bob-pc:"$KB")
	[[ $SID =~ ^S[A-Z2-7]{16}$ ]]
}

key_token() {
	awk -v s="$SID" '$1 == s { print $2 }' "$1/$2.token"
}

push_request() {
	P=$(rtcs-transfer --keys "$KP" request "$SID" --as alice-phone --to alice-tablet "$@") || return
	TID=$(cut -d: -f3 <<<"$P")
	[[ $TID =~ ^T[A-Z2-7]{16}$ ]]
}

push_show() {
	rtcs-code -t png -o "$RTCS_TEST_DIR/code.png" "$P" &&
	    rtcs-scan --keys "$KP" --submit --as alice-phone "$RTCS_TEST_DIR/code.png" >/dev/null
}

push_scan() {
	local out
	out=$(rtcs-scan --json --keys "$KT" --submit --as alice-tablet "$RTCS_TEST_DIR/code.png") || return
	MATCH=$(jq -r .match <<<"$out")
	[[ $MATCH =~ ^[0-9]{6}$ ]]
}

push_confirm() {
	rtcs-transfer --keys "$KP" confirm "$TID" --as alice-phone --match "$MATCH" >/dev/null
}

push_collect() {
	rtcs-transfer --keys "$KT" --timeout 20 wait "$TID" --as alice-tablet >/dev/null
}

pull_offer() {
	P=$(rtcs-transfer --keys "$KT" offer --as alice-tablet --session "$SID" "$@") || return
	TID=$(cut -d: -f3 <<<"$P")
	[[ $TID =~ ^T[A-Z2-7]{16}$ ]]
}

pull_show() {
	rtcs-code -t png -o "$RTCS_TEST_DIR/code.png" "$P" &&
	    rtcs-scan --keys "$KT" --submit --as alice-tablet "$RTCS_TEST_DIR/code.png" >/dev/null
}

pull_scan() {
	rtcs-scan --keys "$KP" --submit --as alice-phone "$RTCS_TEST_DIR/code.png" >/dev/null
}

# The tablet shows the check code once the phone's scan bound the offer; the phone types it.
pull_confirm() {
	rtcs-transfer --keys "$KT" --timeout 20 wait "$TID" --as alice-tablet --for verified |
	    rtcs-transfer --keys "$KP" confirm "$TID" --as alice-phone --check - >/dev/null
}

# Reads lines and writes them with the time each arrived; skips keep-alives.
_stamp() {
	local l
	while IFS= read -r l; do
		[ -n "$l" ] || continue
		printf '%s %s\n' "${EPOCHREALTIME/[.,]/}" "$l"
	done
}

stamp_stream() {
	local name=$1 dir=$2 dev=$3 query=${4:-} tok
	tok=$(key_token "$dir" "$dev")
	[ -n "$tok" ] || { echo "no token for $dev in $dir" >&2; return 1; }
	mkfifo "$RTCS_TEST_DIR/$name.fifo"
	_stamp <"$RTCS_TEST_DIR/$name.fifo" >"$RTCS_TEST_DIR/$name.out" 3>&- &
	echo $! >"$RTCS_TEST_DIR/$name-stamp.pid"
	curl -sS -N --unix-socket "$RTCS_SOCKET" -H "Authorization: Bearer $tok" \
	    "http://rtcs/v1/sessions/$SID/stream${query:+?$query}" \
	    >"$RTCS_TEST_DIR/$name.fifo" 2>"$RTCS_TEST_DIR/$name.err" 3>&- &
	echo $! >"$RTCS_TEST_DIR/$name.pid"
}

# stream_done NAME: waits (bounded) until NAME's curl and stamper exited.
stream_done() {
	local name=$1 p
	for p in "$RTCS_TEST_DIR/$name.pid" "$RTCS_TEST_DIR/$name-stamp.pid"; do
		timeout 10 tail --pid="$(cat "$p")" -f /dev/null || return 1
	done
}

stamped_json() {
	jq -c -R 'capture("^(?<rx>[0-9]+) (?<j>.*)$") | (.j | fromjson) + {rx: (.rx | tonumber)}' "$1"
}
