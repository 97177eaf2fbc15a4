#!/usr/bin/env bats
# rtcs-serve: regressions from the store and model review (fd leaks, crash order, memory vs disk).
load lib
load server

teardown() { stop_server; }

nfds() { ls "/proc/$SERVER_PID/fd" | wc -l; }

@test "--sync batch: ending sessions closes their logs (no descriptor leak)" {
	start_server --sync batch
	session_new alice@alice-phone bob@bob-pc
	api DELETE "/v1/sessions/$SID" >/dev/null
	before=$(nfds)
	for i in $(seq 1 20); do
		session_new alice@alice-phone bob@bob-pc
		api DELETE "/v1/sessions/$SID" >/dev/null
	done
	after=$(nfds)
	[ "$after" -le "$((before + 2))" ] || { echo "fds $before -> $after"; false; }
}
