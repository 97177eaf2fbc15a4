#!/usr/bin/env bats
# rtcs-scan on tilted and turned photos: synthetic keystones made with ImageMagick.
load lib
load code_helper
bats_require_minimum_version 1.5.0

PAYLOAD=RTCS:1:TABCDEFGHIJKLMNOP:ABCDEFGHIJKLMNOPQRSTUVWXYZ

setup() {
	command -v convert > /dev/null || skip "ImageMagick (convert) not installed: no tilted photos to make"
	T=$(rtcs_tmpdir)
	rtcs-code -s 5 -o "$T/code.png" "$PAYLOAD"
	convert "$T/code.png" -bordercolor white -border 100 "$T/flat.png"
}

teardown() {
	[ -n "${T:-}" ] && rm -rf "$T"
}

@test "scan: keystones down to 0.5 at any angle are read; the same photos beside zbarimg" {
	local r a n=0 ours=0 theirs=0 missed=
	for r in 0.7 0.6 0.55 0.5; do
		for a in 0 30 45 100 135 200 270 315; do
			tilted_photo "$T/flat.png" "$r" "$a" > "$T/p.png"
			n=$((n + 1))
			[ "$(rtcs-scan -q "$T/p.png")" = "$PAYLOAD" ] && ours=$((ours + 1)) || missed="$missed $r@$a"
			[ "$(zbarimg --nodbus --raw -q "$T/p.png" 2> /dev/null)" = "$PAYLOAD" ] && theirs=$((theirs + 1))
		done
	done
	echo "# tilted photos read: rtcs-scan $ours/$n, zbarimg $theirs/$n" >&3
	[ -z "$missed" ] || fail "rtcs-scan missed (keystone@angle):$missed"
}

@test "scan: a tilted inverted code (light on dark) is read too" {
	tilted_photo "$T/flat.png" 0.5 30 | convert - -negate "$T/neg.png"
	run rtcs-scan "$T/neg.png"
	assert_success
	assert_output "$PAYLOAD"
}

@test "scan: --json corners of a tilted code are the photo's pixels, not the corrected view's" {
	tilted_photo "$T/flat.png" 0.5 30 > "$T/p.png"
	read -r w h < <(identify -format '%w %h\n' "$T/p.png")
	run rtcs-scan --json "$T/p.png"
	assert_success
	run jq -r '.points[] | "\(.[0]) \(.[1])"' <<< "$output"
	assert_equal "${#lines[@]}" 4
	local line x y
	for line in "${lines[@]}"; do
		read -r x y <<< "$line"
		(( x > 50 && x < w - 50 && y > 50 && y < h - 50 )) || fail "corner $x,$y outside the code in a ${w}x$h photo"
	done
}

@test "scan: a blank and a noisy photo still say no code, exit 1" {
	convert -size 400x400 xc:white "$T/blank.png"
	convert -size 400x400 xc: +noise Random -colorspace gray "$T/noise.png"
	for f in blank noise; do
		run --separate-stderr rtcs-scan "$T/$f.png"
		assert_failure 1
		assert_equal "$stderr" "rtcs-scan: $T/$f.png: no code found"
	done
}
