#!/usr/bin/env bats
# rtcs-serve's files call each other in one direction only (issue 9): the
# references between its object files, read with nm, form no cycle.
load lib

@test "rtcs-serve: no two files call each other in a circle; the core calls no HTTP and no stream" {
	command -v nm >/dev/null || skip "no nm (binutils)"
	objs=$RTCS_TOP/${RTCS_O:-build}/cmd/rtcs-serve
	[ -e "$objs/main.o" ] || skip "build rtcs-serve first"
	tmp=$(rtcs_tmpdir)
	for c in "$RTCS_TOP"/cmd/rtcs-serve/*.c; do
		f=$(basename "$c" .c)
		nm -g --defined-only "$objs/$f.o" | awk -v f="$f" 'NF == 3 { print $3, f }'
	done | sort >"$tmp/defined"
	for c in "$RTCS_TOP"/cmd/rtcs-serve/*.c; do
		f=$(basename "$c" .c)
		nm -u "$objs/$f.o" | awk -v f="$f" '{ print $2, f }'
	done | sort >"$tmp/used"
	join "$tmp/used" "$tmp/defined" | awk '$2 != $3 { print $2, $3 }' | sort -u >"$tmp/edges"
	[ -s "$tmp/edges" ]
	run tsort "$tmp/edges"
	assert_success
	refute_output --partial loop
	# The core's files reach nothing above them.
	run grep -E '^core[a-z_]* (http|reply|stream|api_[a-z]+|server|ratelimit)$' "$tmp/edges"
	assert_failure
	rm -rf "$tmp"
	[ ! -e "$RTCS_TOP/cmd/rtcs-serve/serve.h" ]
}
