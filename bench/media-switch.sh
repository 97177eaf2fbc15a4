#!/bin/bash
# A call moved in the middle (issue 13): alice and bob send a sine sweep both
# ways with rtcs-session media while alice moves from her phone to her tablet
# (push; the tablet is ready with --transfer, so it goes on as soon as the
# switch is made). Prints one JSON line: frames lost and duplicated on both
# sides, the longest gap bob heard, the mover's gap from the commit to the
# tablet's first frame, the clients' CPU, and the WAV comparisons.
# usage: bench/media-switch.sh SOCKET [SECONDS]   (a running rtcs-serve on SOCKET)
set -eu
sock=$1 secs=${2:-6}
: "${RTCS_BIN:=$(cd "$(dirname "$0")/.." && pwd)/build/bin}"
: "${WAVCMP:=$(cd "$(dirname "$0")/.." && pwd)/build/tools/wavcmp}"
d=$(mktemp -d /tmp/rtcs.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$d"' EXIT
export RTCS_SOCKET=$sock
S=$RTCS_BIN/rtcs-session
sox -n -r 48000 -c 1 -b 16 "$d/sweep.wav" synth "$secs" sine 200-4000 gain -6
sid=$("$S" new --kind telephony "alice@alice-phone:$d/kp" "bob@bob-pc:$d/kb")
media() {	# NAME KEYS DEVICE [ARGS]
	local name=$1 keys=$2 dev=$3
	shift 3
	"$S" --keys "$keys" --json media "$sid" --as "$dev" --send "$d/sweep.wav" \
	    --receive "$d/$name.wav" "$@" >"$d/$name.json" 2>"$d/$name.err" &
	pids+=($!)
}
heard() {	# PARTICIPANT N: the server has N of its frames
	local i
	for i in $(seq 500); do
		[ "$(curl -s --unix-socket "$sock" "http://rtcs/v1/sessions/$sid/media" |
		    jq --arg p "$1" '[.media.senders[] | select(.participant == $p) | .frame] | max // 0')" -ge "$2" ] &&
		    return 0
		sleep 0.02
	done
	return 1
}
media bob "$d/kb" bob-pc
media phone "$d/kp" alice-phone
heard alice 50 && heard bob 50
p=$("$RTCS_BIN/rtcs-transfer" --keys "$d/kp" request "$sid" --as alice-phone --to alice-tablet)
tid=$(cut -d: -f3 <<<"$p")
"$RTCS_BIN/rtcs-code" -t png -o "$d/code.png" "$p"
"$RTCS_BIN/rtcs-scan" --keys "$d/kp" --submit --as alice-phone "$d/code.png" >/dev/null
match=$("$RTCS_BIN/rtcs-scan" --json --keys "$d/kt" --submit --as alice-tablet "$d/code.png" | jq -r .match)
before=$(curl -s --unix-socket "$sock" http://rtcs/v1/health | jq .streams)
media tablet "$d/kt" alice-tablet --resume --transfer "$tid"
# The tablet waits on the server's events: confirm once its stream is open.
streams() { curl -s --unix-socket "$sock" http://rtcs/v1/health | jq .streams; }
for i in $(seq 500); do [ "$(streams)" -gt "$before" ] && break; sleep 0.01; done
"$RTCS_BIN/rtcs-transfer" --keys "$d/kp" confirm "$tid" --as alice-phone --match "$match" >/dev/null
for p in "${pids[@]}"; do wait "$p"; done
pids=()
completed=$(curl -s --unix-socket "$sock" "http://rtcs/v1/transfers/$tid" | jq -r .transfer.completed_at)
bobcmp=$("$WAVCMP" "$d/sweep.wav" "$d/bob.wav")
movercmp=$("$WAVCMP" "$d/sweep.wav" "$d/phone.wav@$(jq '.received[0].first_pts' "$d/phone.json")" \
    "$d/tablet.wav@$(jq '.received[0].first_pts' "$d/tablet.json")")
jq -c -n --slurpfile P "$d/phone.json" --slurpfile T "$d/tablet.json" --slurpfile B "$d/bob.json" \
    --arg completed "$completed" --argjson bobcmp "$bobcmp" --argjson movercmp "$movercmp" '
    def ms: (sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) * 1000 + (capture("\\.(?<f>[0-9]+)Z$").f | tonumber);
    def from(p): .received[] | select(.participant == p and .media == "audio");
    ($P[0] | from("bob")) as $pb | ($T[0] | from("bob")) as $tb | ($B[0] | from("alice")) as $ba
    | ($B[0].sent[0].frames) as $n
    | {
	frames: $n,
	peer_lost: (($P[0].sent[0].frames + $T[0].sent[0].frames) - $ba.frames),
	peer_duplicated: $ba.duplicated,
	mover_lost: ($n - $pb.frames - $tb.frames),
	mover_duplicated: ($pb.duplicated + $tb.duplicated
	    + (if $tb.first_frame <= $pb.last_frame then $pb.last_frame - $tb.first_frame + 1 else 0 end)),
	peer_gap_ms: $ba.gap_ms,
	mover_gap_ms: (($tb.first_at | ms) - ($completed | ms)),
	mover_phone_to_tablet_ms: (($tb.first_at | ms) - ($pb.last_at | ms)),
	client_cpu_pct: (100 * $B[0].cpu_ms / ($n * 20)),
	peer_wav: $bobcmp, mover_wav: $movercmp
    }'
