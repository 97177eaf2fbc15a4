#!/usr/bin/env bats
# rtcs-serve under systemd: an inherited listening socket (LISTEN_FDS, here from
# systemd-socket-activate), readiness and stopping through NOTIFY_SOCKET, the
# user units make install puts in place, and --version's build information.
load lib

setup() {
	T=$(rtcs_tmpdir)
	mkdir -m 0700 "$T/run"
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}

# notify_listen: a datagram socket at $T/notify, as systemd's; what it gets goes to $T/notify.out.
notify_listen() {
	python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)
' "$T/notify" >"$T/notify.out" &
	PIDS+=($!)
	wait_for "$T/notify.out" '^listening$'
}

# wait_sock PATH: until PATH is a socket (10 s at most).
wait_sock() {
	local end=$((SECONDS + 10))
	until [ -S "$1" ]; do
		[ $SECONDS -lt $end ] || { echo "no socket $1" >&2; return 1; }
		read -r -t 0.02 <> <(:) || true
	done
}

# wait_for FILE PATTERN: until a line of FILE matches (10 s at most, no sleep).
wait_for() {
	local end=$((SECONDS + 10))
	until grep -qE -- "$2" "$1" 2>/dev/null; do
		[ $SECONDS -lt $end ] || { echo "no /$2/ in $1: $(cat "$1")" >&2; return 1; }
		read -r -t 0.02 <> <(:) || true
	done
}

@test "systemd: rtcs-serve serves the socket systemd-socket-activate passes, says READY=1 and STOPPING=1" {
	require_cmd systemd-socket-activate systemd
	require_cmd python3 python3
	notify_listen
	NOTIFY_SOCKET=$T/notify systemd-socket-activate -l "$T/run/rtcs.sock" -E NOTIFY_SOCKET \
	    "$RTCS_BIN/rtcs-serve" -D "$T/store" 2>"$T/serve.log" &
	pid=$!
	PIDS+=($pid)
	# the socket exists before the server: the first call starts it, and is answered
	wait_sock "$T/run/rtcs.sock"
	run rtcs-session -S "$T/run/rtcs.sock" new alice@alice-phone:"$T/kp"
	assert_success
	[[ $output =~ ^S[A-Z2-7]{16}$ ]]
	wait_for "$T/notify.out" "READY=1 STATUS=listening on $T/run/rtcs.sock MAINPID=$pid"
	run rtcs-session -S "$T/run/rtcs.sock" list
	assert_success
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || fail "exit $rc: $(cat "$T/serve.log")"
	wait_for "$T/notify.out" '^STOPPING=1'
	# the socket is systemd's: it stays for the next start
	[ -S "$T/run/rtcs.sock" ]
	run rtcs-serve --fsck -D "$T/store"
	assert_success
}

@test "systemd: a socket that is not a listening UNIX stream socket is refused" {
	require_cmd systemd-socket-activate systemd
	require_cmd python3 python3
	systemd-socket-activate --datagram -l "$T/run/dgram.sock" "$RTCS_BIN/rtcs-serve" -D "$T/store" &
	PIDS+=($!)
	wait_sock "$T/run/dgram.sock"
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"x", sys.argv[1])' "$T/run/dgram.sock"
	rc=0
	wait "${PIDS[-1]}" || rc=$?
	[ "$rc" -ne 0 ]
}

@test "systemd: make install puts a user socket and service unit in place" {
	make -s -C "$RTCS_TOP" O="${RTCS_O:-build}" install DESTDIR="$T/root" PREFIX=/usr/local >"$T/install.log" 2>&1 ||
	    fail "$(cat "$T/install.log")"
	u=$T/root/usr/local/lib/systemd/user
	run cat "$u/rtcs-serve.socket"
	assert_line 'ListenStream=%t/rtcs/rtcs.sock'	# where the clients look ($XDG_RUNTIME_DIR)
	assert_line 'SocketMode=0600'
	assert_line 'DirectoryMode=0700'
	run cat "$u/rtcs-serve.service"
	assert_line 'Type=notify'
	assert_line 'ExecStart=/usr/local/bin/rtcs-serve'
	assert_line 'Requires=rtcs-serve.socket'
	[ -x "$T/root/usr/local/bin/rtcs-serve" ]
	make -s -C "$RTCS_TOP" O="${RTCS_O:-build}" uninstall DESTDIR="$T/root" PREFIX=/usr/local >/dev/null 2>&1
	assert_file_not_exist "$u/rtcs-serve.service"
}

@test "--version: the version, the git revision and the libraries, for every program" {
	local p
	for p in "$RTCS_BIN"/rtcs-*; do
		run "$p" --version
		assert_success
		assert_line --index 0 --regexp "^$(basename "$p") [0-9]+\.[0-9]+\.[0-9]+ \(git ([0-9a-f]{7,}(-dirty)?|unknown)\)$"
		assert_line --index 1 --regexp '^libraries: [A-Za-z]+ [0-9]'
	done
	run rtcs-serve --version
	assert_output --regexp 'libevent [0-9.]+-stable, cJSON [0-9.]+, zbar [0-9.]+, libpng [0-9.]+, libsodium [0-9.]+, libsystemd [0-9]+'
	run rtcs-scan --version
	refute_output --partial libcurl		# rtcs-scan stays free of the HTTP client
}
