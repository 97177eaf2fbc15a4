#!/bin/bash
# make demo: the main job of rtcs, start to finish, on a private server.
#
# Alice chats with bob from her phone, then moves the chat to her tablet
# through a QR code while bob keeps talking. Every step prints the command it
# runs ("$ rtcs-...") and what it printed. The server, its store and every
# device's key directory live in one temporary directory, removed at the end.
# Exits non-zero if any step fails.
#
# Usage: tools/demo.sh      (RTCS_BIN: where the programs are, default build/bin;
#                           RTCS_SERVE: another rtcs-serve to run, for tests)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PATH="${RTCS_BIN:-$here/../build/bin}:$PATH"
export NO_COLOR=1

D=$(mktemp -d /tmp/rtcs.XXXXXX)
SERVER_PID=
BOB_TALKS_PID=
ATTACH_PIDS=()

cleanup() {
	local p
	[ -z "$BOB_TALKS_PID" ] || kill "$BOB_TALKS_PID" 2>/dev/null || true
	for p in "${ATTACH_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	cd /
	rm -rf "$D"
}
trap cleanup EXIT
trap 'echo "demo: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

# Output helpers: a title, a command as typed, a file's lines indented.
step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; }
indent() { sed 's/^/    /' "$@"; }
# A pause without sleep(1): a read that times out on a pipe nobody writes.
pause() { read -r -t "$1" <> <(:) || true; }
# wait_for FILE PATTERN: until a line of FILE matches (grep -E), 10 s at most.
wait_for() {
	local i
	for ((i = 0; i < 500; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		pause 0.02
	done
	echo "demo: timed out waiting for /$2/ in $1:" >&2
	cat "$1" >&2
	return 1
}
# attach NAME KEYDIR DEVICE: "rtcs-session attach" in the background, its
# input from the FIFO NAME.in (kept open on fd IN_NAME), its output in NAME.log.
attach() {
	local name=$1 keys=$2 dev=$3 fd
	show "rtcs-session --keys $keys attach \$sid --as $dev    # in the background: $name.log"
	mkfifo "$name.in"
	rtcs-session --keys "$keys" attach "$sid" --as "$dev" <"$name.in" >"$name.log" 2>"$name.err" &
	ATTACH_PIDS+=($!)
	eval "PID_$name=$!"
	exec {fd}>"$name.in"
	eval "IN_$name=$fd"
}
# type_line NAME TEXT: the user of NAME's terminal types a line.
type_line() {
	local fd
	eval "fd=\$IN_$1"
	printf '%s\n' "$2" >&"$fd"
}

cd "$D"
export RTCS_SOCKET=$D/sock

step "1. A private server on a temporary store (it says \"ready\" on fd 3)"
show "export RTCS_SOCKET=$RTCS_SOCKET"
show "rtcs-serve -S \$RTCS_SOCKET -D store --ready-fd 3 3>ready &"
mkfifo ready
"${RTCS_SERVE:-rtcs-serve}" -S "$RTCS_SOCKET" -D store --ready-fd 3 3>ready 2>server.log &
SERVER_PID=$!
read -r -t 20 line <ready
say "$line"
[ "$line" = ready ]

step "2. A chat between alice on her phone and bob on his pc; each device keeps its token in its own key directory"
show "sid=\$(rtcs-session new alice@alice-phone:phone bob@bob-pc:pc)"
sid=$(rtcs-session new alice@alice-phone:phone bob@bob-pc:pc)
say "$sid"
show "ls -l phone pc"
ls -l phone pc | indent

step "3. Both devices attach to the chat and talk"
attach phone phone alice-phone
attach bob pc bob-pc
wait_for phone.log 'session created'
wait_for bob.log 'session created'
type_line phone "hi bob, I'm on my phone"
wait_for bob.log "alice: hi bob"
type_line bob "hi alice"
wait_for phone.log "bob: hi alice"
say "alice-phone's terminal:"
indent phone.log

step "4. From now on bob keeps talking, one line every 50 ms, through the whole switch"
say "(bob types \"bob line 1\", \"bob line 2\", ... into his attach until alice speaks from her tablet)"
(
	n=0 more=3	# once told to stop (bob.stop), three more lines
	while [ "$n" -lt 400 ] && [ "$more" -gt 0 ]; do
		[ ! -e bob.stop ] || more=$((more - 1))
		n=$((n + 1))
		printf 'bob line %d\n' "$n"
		pause 0.05
	done
	echo "$n" >bob.sent
) >bob.in &
BOB_TALKS_PID=$!
wait_for phone.log "bob: bob line 3$"

step "5. Alice asks to move the chat to her tablet; the server returns the code to show"
show "p=\$(rtcs-transfer --keys phone request \$sid --as alice-phone --to alice-tablet)"
p=$(rtcs-transfer --keys phone request "$sid" --as alice-phone --to alice-tablet)
say "$p"
tid=$(cut -d: -f3 <<<"$p")

step "6. The phone shows the code (here in the terminal, and as a PNG for the tablet's camera)"
show "rtcs-code -t utf8 -m 2 \"\$p\""
rtcs-code -t utf8 -m 2 "$p"
show "rtcs-code -o code.png \"\$p\""
rtcs-code -o code.png "$p"
show "rtcs-scan code.png                  # any QR reader sees the same payload"
rtcs-scan code.png | indent

step "7. The phone submits the image it shows (proof: both screens must hold the code)"
show "rtcs-scan --keys phone --submit --as alice-phone code.png"
rtcs-scan --keys phone --submit --as alice-phone code.png | indent

step "8. The tablet scans the code: it becomes the claimant and shows a match code"
show "rtcs-scan --keys tablet --submit --as alice-tablet code.png"
rtcs-scan --keys tablet --submit --as alice-tablet code.png >scan.out
indent scan.out
match=$(sed -n 's/^match code: //p' scan.out)
[[ $match =~ ^[0-9]{6}$ ]]
say "alice-phone's terminal asks for it:"
wait_for phone.log "alice-tablet asks to take over"
grep 'asks to take over' phone.log | indent

step "9. Alice types on the phone the match code the tablet shows"
show "rtcs-transfer --keys phone confirm $tid --as alice-phone --match $match"
rtcs-transfer --keys phone confirm "$tid" --as alice-phone --match "$match" | indent

step "10. The tablet collects its own token: the chat is now on the tablet"
show "rtcs-transfer --keys tablet wait $tid --as alice-tablet"
rtcs-transfer --keys tablet wait "$tid" --as alice-tablet | indent
show "ls -l tablet/*.token"
ls -l tablet/*.token | indent
wait_for phone.log "channel closed"
wait "$PID_phone"
say "alice-phone's attach ended (exit 0); its last lines:"
tail -n 3 phone.log | indent

step "11. Alice goes on talking from the tablet"
attach tablet tablet alice-tablet
wait_for tablet.log "bob: bob line"
type_line tablet "hello bob, I'm on my tablet now"
wait_for bob.log "alice: hello bob, I'm on my tablet now"
touch bob.stop
wait "$BOB_TALKS_PID"
BOB_TALKS_PID=
sent=$(cat bob.sent)
wait_for bob.log "bob: bob line $sent$"
wait_for tablet.log "bob: bob line $sent$"
type_line bob "welcome back, alice"
wait_for tablet.log "bob: welcome back, alice"
say "alice-tablet's terminal:"
indent tablet.log

step "12. Bob's terminal: the whole conversation, nothing missed"
indent bob.log

step "13. Checks"
# Every line bob sent is on bob's screen once, and on alice's screens (phone
# then tablet) once, with no line on both.
count() { grep -cE "^\[[0-9]+\] bob: bob line $2\$" "$1" || true; }
for ((k = 1; k <= sent; k++)); do
	b=$(count bob.log "$k") ph=$(count phone.log "$k") tb=$(count tablet.log "$k")
	if [ "$b" != 1 ] || [ $((ph + tb)) != 1 ]; then
		echo "demo: bob line $k: $b times on bob's screen, $ph on the phone, $tb on the tablet" >&2
		exit 1
	fi
done
on_phone=$(grep -cE '^\[[0-9]+\] bob: bob line' phone.log || true)
say "ok: bob sent $sent lines during the switch; alice saw each exactly once: $on_phone on the phone, $((sent - on_phone)) on the tablet"
grep -q "alice: hello bob, I'm on my tablet now" bob.log
say "ok: bob saw the tablet's message"
closed=$(rtcs-session show --json "$sid" |
    jq -r '.session.channels[] | select(.device == "alice-phone") | "\(.closed_reason) to \(.closed_to)"')
say "ok: alice-phone's channel closed: $closed"
[ "$closed" = "transferred to alice-tablet" ]
show "rtcs-session show \$sid"
rtcs-session show "$sid" | indent

step "14. The end: the session ends, every attached device is told"
show "rtcs-session end \$sid"
rtcs-session end "$sid" >/dev/null
wait "$PID_bob"
wait "$PID_tablet"
tail -n 1 bob.log | indent
ATTACH_PIDS=()
say "demo: done"
