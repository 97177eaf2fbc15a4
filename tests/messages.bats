#!/usr/bin/env bats
# Every error is one line "prog: what: why": no raw server code, no id said
# twice, the program's own name; exit codes as design.md 9 (77 for a refused
# socket); a key file's problems told apart.
bats_require_minimum_version 1.5.0
load lib
load client_server

setup() {
	start_server
	SID=$(rtcs-session new alice@alice-phone:"$T/kp" bob@bob-pc:"$T/kb")
}

teardown() {
	stop_server
}

# refused EXIT LINE CMD...: CMD fails with EXIT and prints exactly LINE on stderr.
refused() {
	local code=$1 line=$2
	shift 2
	run --separate-stderr "$@"
	[ "$status" -eq "$code" ] || fail "exit $status, not $code: $stderr"
	[ "$stderr" = "$line" ] || fail "stderr: '$stderr', not '$line'"
}

@test "messages: a refused step says where the transfer stands, with its id once" {
	P=$(rtcs-transfer --keys "$T/kp" request "$SID" --as alice-phone)
	tid=$(cut -d: -f3 <<<"$P")
	refused 65 "rtcs-transfer: confirm $tid: the transfer is issued: nobody has scanned its code yet" \
	    rtcs-transfer --keys "$T/kp" confirm "$tid" --as alice-phone --match 123456
	refused 66 "rtcs-transfer: show TAAAAAAAAAAAAAAAA: no such transfer" rtcs-transfer show TAAAAAAAAAAAAAAAA
	rtcs-transfer cancel "$tid"
	refused 1 "rtcs-transfer: cancel $tid: the transfer was cancelled" rtcs-transfer cancel "$tid"
	refused 1 "rtcs-transfer: wait $tid: the transfer failed: it was cancelled" rtcs-transfer wait "$tid"
	refused 66 "rtcs-session: end SAAAAAAAAAAAAAAAA: no such session" rtcs-session end SAAAAAAAAAAAAAAAA
}

@test "messages: rtcs-scan --submit speaks as rtcs-scan" {
	P=$(rtcs-transfer --keys "$T/kp" request "$SID" --as alice-phone --proof scanner)
	tid=$(cut -d: -f3 <<<"$P")
	rtcs-code -o "$T/code.png" "$P"
	rtcs-scan --keys "$T/kt" --submit --as alice-tablet "$T/code.png" >/dev/null 2>&1
	refused 1 "rtcs-scan: submit $tid: another device scanned the code first" \
	    rtcs-scan --keys "$T/km" --submit --as mallory "$T/code.png"
}

@test "messages: an option given a value it does not take is named, not a garbage byte" {
	refused 64 "rtcs-transfer: option '--json' takes no value (see rtcs-transfer --help)" \
	    rtcs-transfer --json=1 list
	refused 64 "rtcs-session: list: option '--json' takes no value (see rtcs-session list --help)" \
	    rtcs-session list --json=yes
	refused 64 "rtcs-transfer: unknown option '-Z' (see rtcs-transfer --help)" rtcs-transfer -Z list
}

@test "messages: a missing key directory, a session the device is not in and a broken key file differ" {
	refused 66 "rtcs-session: send $SID: no key directory $T/none (give --keys DIR or set RTCS_KEYS)" \
	    rtcs-session --keys "$T/none" send "$SID" --as alice-phone hi
	refused 66 "rtcs-session: send $SID: alice-tablet has no token in $T/kp (no file $T/kp/alice-tablet.token)" \
	    rtcs-session --keys "$T/kp" send "$SID" --as alice-tablet hi
	refused 66 "rtcs-session: send SAAAAAAAAAAAAAAAA: $T/kp/alice-phone.token has no token for the session" \
	    rtcs-session --keys "$T/kp" send SAAAAAAAAAAAAAAAA --as alice-phone hi
	echo garbage >>"$T/kp/alice-phone.token"
	refused 65 "rtcs-session: send $SID: $T/kp/alice-phone.token: line 2 is not \"ID SECRET\"" \
	    rtcs-session --keys "$T/kp" send "$SID" --as alice-phone hi
}

@test "messages: a socket we may not use exits 77, not 69" {
	if [ "$(id -u)" = 0 ]; then
		# another user cannot reach root's socket at all
		refused 77 "rtcs-session: list: cannot reach rtcs-serve at $T/sock: Permission denied" \
		    setpriv --reuid=65534 --regid=65534 --clear-groups rtcs-session list
	else
		mkdir "$T/shut" && ln -s "$T/sock" "$T/shut/sock" && chmod 0 "$T/shut"
		refused 77 "rtcs-session: list: cannot reach rtcs-serve at $T/shut/sock: Permission denied" \
		    rtcs-session -S "$T/shut/sock" list
		chmod 700 "$T/shut"
	fi
}

@test "messages: a token is never sent through a socket whose directory is open to others (77)" {
	mkdir -m 0755 "$T/open"
	ln "$T/sock" "$T/open/sock"	# the same socket, reached through an unsafe directory
	refused 77 "rtcs-session: send $SID: will not send a token through $T/open/sock: its directory $T/open is not ours with mode 0700 (mode 0755, uid $(id -u))" \
	    rtcs-session --keys "$T/kp" -S "$T/open/sock" send "$SID" --as alice-phone hi
	ln -s "$T" "$T/link"
	refused 77 "rtcs-session: send $SID: will not send a token through $T/link/sock: its directory $T/link is a symbolic link" \
	    rtcs-session --keys "$T/kp" -S "$T/link/sock" send "$SID" --as alice-phone hi
	# the operator's calls carry no token
	run rtcs-session -S "$T/open/sock" list
	assert_success
}
