#!/usr/bin/env bats
# The store's integrity (issue 8): a read error at start changes nothing, every
# flipped byte and every cut log is detected, repairs keep what they remove.
load lib
load server
load xfer_steps

teardown() { stop_server; }

# A store with every kind of document: a session that moved through a push
# transfer, a cancelled transfer, an invite, 30 messages, the checkpoint.
rich_store() {
	start_server
	xfer_session
	push_request
	push_show
	push_scan
	push_confirm
	push_collect
	for i in $(seq 1 30); do
		rtcs-session --keys "$KB" send "$SID" --as bob-pc "line $i" >/dev/null
	done
	P=$(rtcs-transfer --keys "$KT" request "$SID" --as alice-tablet --to alice-watch)
	api DELETE "/v1/transfers/$(cut -d: -f3 <<<"$P")" >/dev/null
	api POST /v1/invites '{"to":"kiosk"}' >/dev/null
	stop_server --keep
	[ -s "$RTCS_STORE/checkpoint" ]
}

# Every file of the store with its checksum, for "nothing changed".
tree_sums() {
	(cd "$1" && find . -type f ! -name lock -print0 | sort -z | xargs -0 sha256sum)
}

@test "a store whose sessions/ or logs/ cannot be read (EIO) is an I/O error at start that changes nothing" {
	rich_store
	tree_sums "$RTCS_STORE" >"$RTCS_TEST_DIR/before"
	for fp in store-list-sessions=EIO store-list-logs=EIO store-read-doc=EIO store-read-log=EIO \
	    store-open-log=EIO store-list-transfers=EIO; do
		run env RTCS_FAILPOINT=$fp timeout 10 rtcs-serve -S "$RTCS_SOCKET" -D "$RTCS_STORE"
		assert_failure 74
		assert_output --partial "cannot read"
		run env RTCS_FAILPOINT=$fp rtcs-serve --fsck -D "$RTCS_STORE"
		assert_failure 74
		tree_sums "$RTCS_STORE" | diff "$RTCS_TEST_DIR/before" -
	done
	_server_launch
	run api GET "/v1/sessions/$SID"
	assert_success
	assert_output --partial '"last_seq":32'
}

@test "a store whose directories refuse us (EACCES, as another user) is an I/O error that deletes nothing" {
	command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
	rich_store
	tree_sums "$RTCS_STORE" >"$RTCS_TEST_DIR/before"
	chown -R nobody "$RTCS_TEST_DIR"
	for d in sessions logs transfers; do
		chmod 000 "$RTCS_STORE/$d"
		run setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    timeout 10 rtcs-serve -S "$RTCS_SOCKET" -D "$RTCS_STORE"
		assert_failure 74
		assert_output --partial "Permission denied"
		chmod 700 "$RTCS_STORE/$d"
	done
	chown -R root "$RTCS_TEST_DIR"
	tree_sums "$RTCS_STORE" | diff "$RTCS_TEST_DIR/before" -
	_server_launch
	run api GET "/v1/sessions/$SID"
	assert_output --partial '"last_seq":32'
}

# Flips one byte of FILE at OFFSET with XOR MASK.
flip() {
	perl -e 'open(my $f, "+<", $ARGV[0]) or die; seek($f, $ARGV[1], 0); read($f, my $c, 1);
	    seek($f, $ARGV[1], 0); print $f chr(ord($c) ^ $ARGV[2]); close($f) or die' "$1" "$2" "$3"
}

@test "every flipped byte of every kind of document is detected by fsck and refused at start" {
	rich_store
	cp -a "$RTCS_STORE" "$RTCS_TEST_DIR/clean"
	docs=$(cd "$RTCS_STORE" && ls sessions/*.json transfers/*.json invites/*.json checkpoint)
	[ "$(wc -w <<<"$docs")" -ge 5 ]
	tried=0 caught=0 refused=0 starts=0
	RANDOM=8
	for f in $docs; do
		size=$(stat -c %s "$RTCS_STORE/$f")
		for i in $(seq 1 40); do
			off=$((RANDOM * 32768 + RANDOM)); off=$((off % size))
			flip "$RTCS_STORE/$f" "$off" $((RANDOM % 255 + 1))
			tried=$((tried + 1))
			rtcs-serve --fsck -D "$RTCS_STORE" >/dev/null 2>&1 && echo "undetected: $f at $off" ||
			    caught=$((caught + 1))
			if [ $((i % 8)) = 0 ]; then
				starts=$((starts + 1))
				rc=0
				timeout 10 rtcs-serve -S "$RTCS_SOCKET" -D "$RTCS_STORE" 2>/dev/null || rc=$?
				[ "$rc" != 65 ] || refused=$((refused + 1))
			fi
			cp "$RTCS_TEST_DIR/clean/$f" "$RTCS_STORE/$f"
		done
	done
	echo "flipped $tried bytes: fsck caught $caught; refused $refused of $starts starts" >&3
	assert_equal "$caught" "$tried"
	assert_equal "$refused" "$starts"
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}

@test "a log cut at any record boundary, or with a flipped byte, is detected (the checkpoint vouches for it)" {
	rich_store
	log=$RTCS_STORE/logs/$SID.log
	cp "$log" "$RTCS_TEST_DIR/log"
	n=$(wc -l <"$log")
	[ "$n" -ge 30 ]
	caught=0
	for k in $(seq 0 $((n - 1))); do
		head -n "$k" "$RTCS_TEST_DIR/log" >"$log"
		run rtcs-serve --fsck -D "$RTCS_STORE"
		[ "$status" = 1 ] && [[ $output == *"(records cut)"* ]] && caught=$((caught + 1))
	done
	echo "cut the log at $n boundaries: fsck caught $caught" >&3
	assert_equal "$caught" "$n"
	head -n $((n - 1)) "$RTCS_TEST_DIR/log" >"$log"
	run rtcs-serve -S "$RTCS_SOCKET" -D "$RTCS_STORE"
	assert_failure 65
	cmp "$log" <(head -n $((n - 1)) "$RTCS_TEST_DIR/log")
	caught=0 tried=0 size=$(stat -c %s "$RTCS_TEST_DIR/log")
	RANDOM=3
	for i in $(seq 1 60); do
		cp "$RTCS_TEST_DIR/log" "$log"
		off=$(( (RANDOM * 32768 + RANDOM) % size ))
		flip "$log" "$off" $((RANDOM % 255 + 1))
		tried=$((tried + 1))
		rtcs-serve --fsck -D "$RTCS_STORE" >/dev/null 2>&1 || caught=$((caught + 1))
	done
	echo "flipped $tried bytes of the log: fsck caught $caught" >&3
	assert_equal "$caught" "$tried"
	cp "$RTCS_TEST_DIR/log" "$log"
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_success
}

@test "after a crash, records the checkpoint saw are vouched for: cutting one is refused" {
	start_server
	xfer_session
	for i in 1 2 3; do
		rtcs-session --keys "$KB" send "$SID" --as bob-pc "line $i" >/dev/null
	done
	# The checkpoint follows within a second: wait for it to name seq 4.
	wait_grep "$RTCS_STORE/checkpoint" "\"$SID\":4"
	kill -9 "$SERVER_PID"
	wait "$SERVER_PID" || true
	SERVER_PID=
	log=$RTCS_STORE/logs/$SID.log
	head -n 3 "$log" >"$RTCS_TEST_DIR/cut" && cp "$RTCS_TEST_DIR/cut" "$log"
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_failure 1
	assert_output --partial "ends at record 3, but the checkpoint says 4 were acknowledged (records cut)"
	run rtcs-serve -S "$RTCS_SOCKET" -D "$RTCS_STORE"
	assert_failure 65
}

@test "an orphan log is moved to quarantine, never deleted; fsck lists the quarantine" {
	start_server
	session_new alice@alice-phone
	stop_server --keep
	cp "$RTCS_STORE/logs/$SID.log" "$RTCS_STORE/logs/SORPHANORPHANORPH.log"
	sum=$(sha256sum <"$RTCS_STORE/logs/SORPHANORPHANORPH.log")
	run rtcs-serve --fsck -D "$RTCS_STORE"
	assert_failure 1
	assert_output --partial "SORPHANORPHANORPH.log: a log without a session document, set aside at the next start"
	_server_launch
	grep -q "moved to $RTCS_STORE/quarantine/" "$RTCS_TEST_DIR/server.log"
	stop_server --keep
	[ ! -e "$RTCS_STORE/logs/SORPHANORPHANORPH.log" ]
	assert_equal "$(sha256sum <"$RTCS_STORE"/quarantine/*-logs-SORPHANORPHANORPH.log)" "$sum"
	run rtcs-serve --fsck --json -D "$RTCS_STORE"
	assert_success
	assert_equal "$(jq -r 'select(.note) | .path' <<<"$output" | grep -c quarantine)" 1
}
