#!/usr/bin/env bats
# rtcs-scan: what it finds, and how it refuses what is not an image it takes.
load lib
load code_helper
bats_require_minimum_version 1.5.0

PAYLOAD=RTCS:1:TABCDEFGHIJKLMNOP:ABCDEFGHIJKLMNOPQRSTUVWXYZ

setup() {
	T=$(rtcs_tmpdir)
	rtcs-code -o "$T/good.png" "$PAYLOAD"
	# A blank white 64x64 gray image: a valid image with no code.
	{ printf 'P5\n64 64\n255\n'; head -c 4096 /dev/zero | tr '\0' '\377'; } > "$T/blank.pgm"
}

teardown() {
	rm -rf "$T"
}

# refused EXIT FILE...: exit code EXIT and exactly one "rtcs-scan: " line on stderr.
refused() {
	local code=$1
	shift
	run --separate-stderr rtcs-scan "$@"
	assert_failure "$code"
	assert_output ''
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == rtcs-scan:\ * ]] || fail "stderr: $stderr"
}

@test "scan: a code is printed, exit 0; from a file, from - and from a pipe" {
	run rtcs-scan "$T/good.png"
	assert_success
	assert_output "$PAYLOAD"
	run bash -c 'rtcs-scan - < "$0"' "$T/good.png"
	assert_output "$PAYLOAD"
	run bash -c 'cat "$0" | rtcs-scan' "$T/good.png"
	assert_output "$PAYLOAD"
	run bash -c 'rtcs-scan <(cat "$0")' "$T/good.png"
	assert_output "$PAYLOAD"
}

@test "scan: no code exits 1 with one line; -q keeps quiet" {
	refused 1 "$T/blank.pgm"
	assert_equal "$stderr" "rtcs-scan: $T/blank.pgm: no code found"
	run --separate-stderr rtcs-scan -q "$T/blank.pgm"
	assert_failure 1
	assert_equal "$stderr" ''
}

@test "scan: --json gives file, type, payload, bounding box and corners" {
	run rtcs-scan --json "$T/good.png"
	assert_success
	assert_output --regexp '^\{"file":"[^"]*good.png","type":"QR-Code","payload":"'"$PAYLOAD"'","x":[0-9]+,"y":[0-9]+,"width":[0-9]+,"height":[0-9]+,"points":\[\[[0-9]+,[0-9]+\],\[[0-9]+,[0-9]+\],\[[0-9]+,[0-9]+\],\[[0-9]+,[0-9]+\]\]\}$'
	# 8 px a module, 4 modules of quiet zone: the code starts near pixel 32.
	[[ $output =~ \"x\":(3[0-4]), ]]
	run rtcs-scan --json --symbols all "$T/good.png" "$T/good.png"
	assert_equal "${#lines[@]}" 2
}

@test "scan: PGM and PPM, 8 and 16 bit, with header comments" {
	rtcs-code -t ascii --invert "$PAYLOAD" | term_to_pgm wide 3 dark > "$T/c.pgm"
	# The same pixels as P6 (grey RGB), as 16-bit P5, and with comments in the header.
	perl -0777 -ne '/^P5\n(\d+) (\d+)\n255\n(.*)\z/s or die; print "P6\n$1 $2\n255\n", join("", map { $_ x 3 } split //, $3)' "$T/c.pgm" > "$T/c.ppm"
	perl -0777 -ne '/^P5\n(\d+) (\d+)\n255\n(.*)\z/s or die; print "P5\n$1 $2\n65535\n", join("", map { $_ x 2 } split //, $3)' "$T/c.pgm" > "$T/c16.pgm"
	perl -0777 -ne '/^P5\n(\d+) (\d+)\n255\n(.*)\z/s or die; print "P5 # made by a test\n#another\n$1\t$2 # size\n255\n$3"' "$T/c.pgm" > "$T/cc.pgm"
	run rtcs-scan "$T/c.pgm" "$T/c.ppm" "$T/c16.pgm" "$T/cc.pgm"
	assert_success
	assert_output "$(printf '%s\n' "$PAYLOAD" "$PAYLOAD" "$PAYLOAD" "$PAYLOAD")"
}

@test "scan: the format is found by magic bytes, not by extension" {
	cp "$T/good.png" "$T/photo.ppm"
	run rtcs-scan "$T/photo.ppm"
	assert_output "$PAYLOAD"
	echo "hello, I am text" > "$T/text.png"
	refused 65 "$T/text.png"
	assert_equal "$stderr" "rtcs-scan: $T/text.png: not a PNG, PGM or PPM image"
}

@test "scan: empty, truncated and corrupt PNGs exit 65" {
	: > "$T/empty.png"
	refused 65 "$T/empty.png"
	assert_equal "$stderr" "rtcs-scan: $T/empty.png: empty file"
	head -c 100 "$T/good.png" > "$T/trunc.png"
	refused 65 "$T/trunc.png"
	head -c 40 "$T/good.png" > "$T/trunc2.png"
	refused 65 "$T/trunc2.png"
	# One flipped byte in the image data: CRC or zlib error.
	cp "$T/good.png" "$T/flip.png"
	printf '\377' | dd of="$T/flip.png" bs=1 seek=60 conv=notrunc status=none
	refused 65 "$T/flip.png"
	: | refused 65 -
}

@test "scan: a PNG claiming 100000x100000 is refused at once, in little memory" {
	png_with_size 100000 100000 > "$T/huge.png"
	png_with_size 4097 16 > "$T/wide.png"
	refused 65 "$T/huge.png"
	assert_equal "$stderr" "rtcs-scan: $T/huge.png: image too large (100000x100000, limit 4096x4096)"
	refused 65 "$T/wide.png"
	run /usr/bin/time -f 'maxrss_kb=%M' rtcs-scan -q "$T/huge.png"
	assert_failure 65
	[[ $output =~ maxrss_kb=([0-9]+) ]]
	# 100000^2 bytes would be 10 GB; a refusal stays within a few MB (ASan adds some).
	(( BASH_REMATCH[1] < 100000 )) || fail "max RSS ${BASH_REMATCH[1]} kB"
}

@test "scan: bad PGM/PPM headers and short data exit 65" {
	local h i=0
	for h in 'P5\n' 'P5\n10\n' 'P5\n10 10\n' 'P5\n0 10\n255\n' 'P5\n10 -1\n255\n' \
	    'P5\n10 10\n0\n' 'P5\n10 10\n65536\n' 'P5\n10 10\n255' 'P5\n10x 10\n255\n' \
	    'P510 10\n255\n' 'P5\n5000 5000\n255\n' 'P5\n99999999999999999999 1\n255\n' \
	    'P6\n10 10\n255\n' 'P5\n10 10\n255\nshort' 'P6\n2 2\n65535\n0123456789' 'P3\n1 1\n255\n0 0 0\n'; do
		printf "$h" > "$T/bad$i.pgm"
		refused 65 "$T/bad$i.pgm"
		i=$((i + 1))
	done
}

@test "scan: a missing file and a directory exit 66" {
	refused 66 "$T/nope.png"
	assert_equal "$stderr" "rtcs-scan: cannot read $T/nope.png: No such file or directory"
	mkdir "$T/dir.png"
	refused 66 "$T/dir.png"
	assert_equal "$stderr" "rtcs-scan: cannot read $T/dir.png: Is a directory"
}

@test "scan: several files: every code printed, the worst exit code wins" {
	run --separate-stderr rtcs-scan "$T/good.png" "$T/blank.pgm" "$T/good.png"
	assert_failure 1
	assert_output "$PAYLOAD"$'\n'"$PAYLOAD"
	echo text > "$T/t.png"
	run --separate-stderr rtcs-scan "$T/t.png" "$T/good.png" "$T/blank.pgm"
	assert_failure 65
	run --separate-stderr rtcs-scan "$T/missing" "$T/t.png" "$T/good.png"
	assert_failure 66
	assert_output "$PAYLOAD"
	assert_equal "${#stderr_lines[@]}" 2
}

@test "scan: usage errors exit 64 with one line" {
	refused 64 -x
	assert_equal "$stderr" "rtcs-scan: unknown option -x (see --help)"
	refused 64 --bogus "$T/good.png"
	refused 64 --symbols
	refused 64 --symbols ean "$T/good.png"
	run script -qec "rtcs-scan; echo rc=\$?" /dev/null
	assert_output --partial 'rc=64'
}

@test "scan: -h, -V, -v" {
	run rtcs-scan --help
	assert_success
	assert_output --partial 'usage: rtcs-scan'
	run rtcs-scan -V
	assert_line --index 0 --regexp '^rtcs-scan [0-9]+\.[0-9]+\.[0-9]+ \(git [^)]+\)$'
	run --separate-stderr rtcs-scan -v "$T/good.png"
	assert_success
	assert_equal "$stderr" "rtcs-scan: $T/good.png: 1 code"
}
