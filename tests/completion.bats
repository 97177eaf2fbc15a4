#!/usr/bin/env bats
# The completions in each shell (bash, zsh, fish): commands, each command's
# own options (every one the program takes, none it refuses), and live values:
# transfers and sessions from the server on the line's -S, devices from the
# key directory on the line's --keys.
load lib
load client_server

setup() {
	start_server
	SID=$(rtcs-session new alice@alice-phone:"$T/kp" bob@bob-pc:"$T/kb")
	P=$(rtcs-transfer --keys "$T/kp" request "$SID" --as alice-phone)
	TID=$(cut -d: -f3 <<<"$P")
	# the live values must come from the line, not from the environment
	unset RTCS_SOCKET RTCS_KEYS
	export XDG_STATE_HOME=$T/nowhere
}

teardown() {
	stop_server
}

# complete_in SHELL LINE: what SHELL's completion offers for LINE, sorted, one a line.
complete_in() {
	local prog=${2%% *}
	case $1 in
	bash)
		bash -c '. "$1"; read -ra COMP_WORDS <<<"$2"; [[ $2 == *" " ]] && COMP_WORDS+=("")
			COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE=$2; COMP_POINT=${#2}
			fn=$(complete -p "${COMP_WORDS[0]}" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
			"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
			printf "%s\n" "${COMPREPLY[@]}"' - "$RTCS_TOP/completions/bash/$prog" "$2" ;;
	zsh)
		timeout 30 zsh -f "$RTCS_TOP/tests/tools/zsh-complete" "$RTCS_TOP/completions/zsh" "$2" ;;
	fish)
		timeout 30 fish --no-config -c "source $RTCS_TOP/completions/fish/$prog.fish; complete -C $(printf '%q' "$2")" |
		    cut -f1 ;;
	esac | grep . | sort -u
}

# offers SHELL LINE WORD...: the completion of LINE offers every WORD.
offers() {
	local sh=$1 line=$2 w got
	shift 2
	got=$(complete_in "$sh" "$line")
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$got" || fail "$sh: '$line' does not offer '$w'; it offers: $(echo $got)"
	done
}

# offers_not SHELL LINE WORD...
offers_not() {
	local sh=$1 line=$2 w got
	shift 2
	got=$(complete_in "$sh" "$line")
	for w in "$@"; do
		! grep -qxF -- "$w" <<<"$got" || fail "$sh: '$line' offers '$w'"
	done
}

shells() {
	require_cmd zsh zsh
	require_cmd fish fish
	echo bash zsh fish
}

@test "completion: commands, including submit, in every shell" {
	local sh
	for sh in $(shells); do
		offers "$sh" "rtcs-transfer " request offer show list confirm reject cancel wait watch run invite submit
		offers "$sh" "rtcs-session " new list show end join attach send log
	done
}

@test "completion: live transfers and sessions from the server named by -S on the line" {
	local sh
	for sh in $(shells); do
		offers "$sh" "rtcs-transfer -S $T/sock confirm " "$TID"
		offers "$sh" "rtcs-transfer -S $T/sock request " "$SID"
		offers "$sh" "rtcs-session -S $T/sock attach " "$SID"
		offers "$sh" "rtcs-scan -S $T/sock --submit --session " "$SID"
	done
}

@test "completion: devices from the key directory named by --keys on the line, after --as, --to, --from" {
	local sh
	mkdir -m 700 "$T/kt" && touch "$T/kt/alice-tablet.claim"
	for sh in $(shells); do
		offers "$sh" "rtcs-transfer --keys $T/kp confirm $TID --as " alice-phone
		offers_not "$sh" "rtcs-transfer --keys $T/kp confirm $TID --as " bob-pc "$SID"
		offers "$sh" "rtcs-transfer request $SID --keys $T/kb --as " bob-pc
		offers "$sh" "rtcs-transfer --keys $T/kt run $SID --from " alice-tablet
		offers "$sh" "rtcs-session --keys $T/kb send $SID --as " bob-pc
		offers "$sh" "rtcs-scan --keys $T/kt --submit --as " alice-tablet
	done
}

@test "completion: after a command, that command's options, in every shell" {
	local sh
	for sh in $(shells); do
		offers "$sh" "rtcs-transfer confirm $TID --" --as --match --keys --socket --json
		offers_not "$sh" "rtcs-transfer confirm $TID --" --ttl --upload --from
		offers "$sh" "rtcs-transfer run $SID --" --from --to --output --match --confirm --proof --ttl
		offers "$sh" "rtcs-session log $SID --" --follow --since --as --store
		offers_not "$sh" "rtcs-session log $SID --" --kind
	done
}

# Every option bash offers after each command is one the program takes there,
# and every long option of the command's usage line is offered, in each shell.
@test "completion: each command's options agree with what the program takes and its usage line" {
	local prog cmd o usage got sh
	for prog in rtcs-transfer rtcs-session; do
		for cmd in $("$RTCS_BIN/$prog" --help | sed -n 's/^  \([a-z]*\) .*/\1/p; s/^  \([a-z]*\)$/\1/p'); do
			usage=$("$RTCS_BIN/$prog" "$cmd" --help | head -n 1)
			for sh in $(shells); do
				got=$(complete_in "$sh" "$prog $cmd --")
				for o in $(grep -oE -- '--[a-z][a-z-]*' <<<"$usage" | sort -u) $(grep -q ' -o ' <<<"$usage" && echo --output); do
					grep -qxF -- "$o" <<<"$got" || fail "$sh: $prog $cmd: $o is in its usage, not offered"
				done
				[ "$sh" = bash ] || continue
				for o in $got; do
					run "$RTCS_BIN/$prog" -S "$T/none" "$cmd" "$o" x </dev/null
					[[ $output != *"unknown option '$o'"* ]] || fail "$prog $cmd refuses $o, which bash offers"
				done
			done
		done
	done
}

@test "completion: the installed files find their shared helpers beside them" {
	local d=$T/root/usr/local/share
	make -s -C "$RTCS_TOP" O="${RTCS_O:-build}" install DESTDIR="$T/root" PREFIX=/usr/local >"$T/install.log" 2>&1 ||
	    fail "$(cat "$T/install.log")"
	run bash -c '. "$1"; COMP_WORDS=(rtcs-transfer --keys "$2" confirm T --as ""); COMP_CWORD=6
		_rtcs_transfer rtcs-transfer "" --as; printf "%s\n" "${COMPREPLY[@]}"' - \
	    "$d/bash-completion/completions/rtcs-transfer" "$T/kp"
	assert_output alice-phone
	require_cmd fish fish
	run fish --no-config -c "source $d/fish/vendor_completions.d/rtcs-session.fish; complete -C 'rtcs-session --keys $T/kb send x --as '"
	assert_output --partial bob-pc
	[ -f "$d/zsh/site-functions/_rtcs_common" ]
}
