#!/usr/bin/env bats
# rtcs-code: every output type decodes back to the payload, with our decoder and others.
load lib
load code_helper
bats_require_minimum_version 1.5.0

PAYLOAD=RTCS:1:TABCDEFGHIJKLMNOP:ABCDEFGHIJKLMNOPQRSTUVWXYZ:SABCDEFGHIJKLMNOP

setup() {
	T=$(rtcs_tmpdir)
}

teardown() {
	rm -rf "$T"
}

# roundtrip PAYLOAD [rtcs-code options...]: PNG through a pipe into rtcs-scan.
roundtrip() {
	local p=$1
	shift
	run --separate-stderr bash -c 'rtcs-code -t png "$@" -- "$0" | rtcs-scan -' "$p" "$@"
	assert_success
	[ "$output" = "$p" ] || fail "payload '$p' ($*) came back as '$output'"
}

@test "code: an RTCS payload round-trips at every level and at 1 to 8 pixels a module" {
	for l in L M Q H; do
		for s in 1 2 3 4 5 6 7 8; do
			roundtrip "$PAYLOAD" -l "$l" -s "$s"
		done
	done
	roundtrip "$PAYLOAD" -m 0
	roundtrip "$PAYLOAD" --depth 8
}

@test "code: random printable ASCII payloads round-trip, as argument and on stdin" {
	local i p
	for i in $(seq 1 25); do
		p=$(LC_ALL=C tr -dc '[:print:]' < /dev/urandom | head -c $((1 + i * 7)))
		roundtrip "$p"
	done
	for i in 1 2 3 4 5; do
		LC_ALL=C tr -dc '[:print:]' < /dev/urandom | head -c 300 > "$T/p"
		rtcs-code -t png - < "$T/p" | rtcs-scan - > "$T/out"
		printf '\n' >> "$T/p"
		cmp "$T/p" "$T/out"
	done
}

@test "code: UTF-8 payloads round-trip byte for byte" {
	local p
	for p in 'héllo wörld' '日本語のテキスト' 'emoji 😀 ✓ ♥' 'mixed ASCII, Ελληνικά, русский, עברית'; do
		roundtrip "$p"
		roundtrip "$p" -l H -s 2
	done
}

@test "code: arbitrary bytes on stdin (NUL, 0xff) come back as payload_hex" {
	printf 'a\000b\377\200c' | rtcs-code -t png - > "$T/bin.png"
	run rtcs-scan --json "$T/bin.png"
	assert_success
	assert_output --partial '"payload":null'
	assert_output --partial '"payload_hex":"610062ff8063"'
}

@test "code: the largest version 40 payloads fit; one byte more exits 65" {
	head -c 2953 /dev/zero | tr '\0' 'a' > "$T/b8"
	rtcs-code -t png -l L -s 2 - < "$T/b8" | rtcs-scan - | head -c 2953 | cmp - "$T/b8"
	LC_ALL=C tr -dc 'A-Za-z0-9+/' < /dev/urandom | head -c 2953 > "$T/mixed"
	rtcs-code -t png -l L -s 2 - < "$T/mixed" | rtcs-scan - | head -c 2953 | cmp - "$T/mixed"
	head -c 4296 /dev/zero | tr '\0' 'A' > "$T/an"
	rtcs-code -t png -l L -s 2 - < "$T/an" | rtcs-scan - | head -c 4296 | cmp - "$T/an"
	run rtcs-code --json -l L - < "$T/an"
	assert_output --partial '"version":40'
	assert_output --partial '"mode":"alphanumeric"'
	for f in b8 an; do
		printf 'x' >> "$T/$f"
		[ "$f" = an ] && truncate -s -1 "$T/$f" && printf 'A' >> "$T/$f"
		run --separate-stderr rtcs-code -t png -l L -o "$T/no.png" - < "$T/$f"
		assert_failure 65
		assert_equal "${#stderr_lines[@]}" 1
		[[ $stderr == "rtcs-code: payload too long"* ]]
		assert_file_not_exists "$T/no.png"
	done
}

@test "code: --json describes the code; an RTCS payload is alphanumeric and small" {
	run rtcs-code --json "$PAYLOAD"
	assert_success
	assert_output --partial "\"payload\":\"$PAYLOAD\""
	assert_output --partial '"version":4'
	assert_output --partial '"ec":"M"'
	assert_output --partial '"mode":"alphanumeric"'
	# 60 characters (no session field): version 3 at level M.
	run rtcs-code --json -l m "RTCS:1:TABCDEFGHIJKLMNOP:ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	assert_output --partial '"version":3'
	assert_output --partial '"modules":29'
	run rtcs-code --json -o "$T/c.svg" "$PAYLOAD"
	assert_output --partial '"type":"svg"'
	assert_file_exists "$T/c.svg"
}

@test "code: zbarimg reads our PNGs; rtcs-scan reads qrencode's" {
	rtcs-code -o "$T/ours.png" "$PAYLOAD"
	rtcs-code -o "$T/ours8.png" --depth 8 -s 3 "$PAYLOAD"
	for f in ours ours8; do
		run --separate-stderr zbarimg --nodbus --raw -q "$T/$f.png"
		assert_output "$PAYLOAD"
	done
	qrencode -o "$T/theirs.png" "$PAYLOAD"
	qrencode -s 1 -o "$T/theirs1.png" "lower case, and 8-bit: é"
	run rtcs-scan "$T/theirs.png" "$T/theirs1.png"
	assert_success
	assert_output "$PAYLOAD"$'\n'"lower case, and 8-bit: é"
}

# textcode FORM GLYPHS RTCS-CODE-OPTION...: the rendering, turned back into the image a
# terminal of the matching theme shows (light glyphs on dark, dark on light), decodes by
# rtcs-scan and by zbarimg (which reads no inverted code: the image must be dark on light).
textcode() {
	local form=$1 glyphs=$2
	shift 2
	rtcs-code "$@" "$PAYLOAD" > "$T/t.txt"
	term_to_pgm "$form" 3 "$glyphs" < "$T/t.txt" > "$T/t.pgm"
	run rtcs-scan "$T/t.pgm"
	assert_success
	assert_output "$PAYLOAD"
	command -v zbarimg > /dev/null || return 0
	run zbarimg --nodbus --raw -q "$T/t.pgm"
	assert_output "$PAYLOAD"
}

@test "code: every terminal form, coloured or not, inverted or not, is a valid code" {
	textcode half light -t utf8
	textcode half dark -t utf8 --invert
	textcode half light -t ansi
	textcode half light -t utf8 --color always
	textcode wide light -t blocks
	textcode wide dark -t blocks --invert
	textcode wide light -t blocks --color always
	textcode wide light -t ascii
	textcode wide dark -t ascii --invert
	textcode wide dark -t ascii --invert --color always
}

@test "code: colours are explicit: dark glyphs on a light background, every line reset" {
	local t
	for t in ansi "utf8 --color always" "blocks --color always"; do
		rtcs-code -t $t "$PAYLOAD" > "$T/c.txt"
		run grep -c $'^\e\\[30;107m.*\e\\[0m$' "$T/c.txt"
		assert_output "$(wc -l < "$T/c.txt")"
		# Only the dark foreground and the two backgrounds, never the theme's own.
		run bash -c "grep -o $'\\e\\\\[[0-9;]*m' \"\$0\" | sort -u | tr '\\n' ' '" "$T/c.txt"
		assert_output $'\e[0m \e[107m \e[30;107m \e[40m '
	done
	TERM=xterm-256color rtcs-code -t ansi "$PAYLOAD" > "$T/c256.txt"
	run grep -c $'\e\\[38;5;16;48;5;231m' "$T/c256.txt"
	assert_output "$(wc -l < "$T/c256.txt")"
	COLORTERM=truecolor rtcs-code -t ansi "$PAYLOAD" > "$T/c24.txt"
	run grep -c $'\e\\[38;2;0;0;0;48;2;255;255;255m' "$T/c24.txt"
	assert_output "$(wc -l < "$T/c24.txt")"
	# Piped, utf8 and blocks are plain text; ascii never has colours.
	for t in utf8 blocks ascii "ascii --color always"; do
		run bash -c "rtcs-code -t $t \"\$0\" | grep -c $'\\e'" "$PAYLOAD"
		assert_output 0
	done
	run rtcs-code -t blocks --color never "$PAYLOAD"
	assert_output --partial '██'
}

@test "code: the SVG is one path whose runs draw the code" {
	rtcs-code -t svg -o "$T/c.svg" "$PAYLOAD"
	run grep -c '<path' "$T/c.svg"
	assert_output 1
	# Rasterise the path's "M x yhNv1h-Nz" runs (module units) into a PGM.
	sed -n 's/.* d="\([^"]*\)".*/\1/p' "$T/c.svg" | tr 'M' '\n' |
	awk -v vb="$(sed -n 's/.*viewBox="0 0 \([0-9]*\) .*/\1/p' "$T/c.svg")" '
	NF { split($0, a, /[ hvz]/); x = a[1]; y = a[2]; n = a[3]; for (i = 0; i < n; i++) dark[y, x + i] = 1 }
	END {
		print vb * 4, vb * 4
		for (y = 0; y < vb; y++) { row = ""; for (x = 0; x < vb; x++) row = row ((y, x) in dark ? "0000" : "1111"); for (k = 0; k < 4; k++) printf "%s", row }
		print ""
	}' | { read -r dims; printf 'P5\n%s\n255\n' "$dims"; tr -d '\n' | tr '01' '\000\377'; } > "$T/svg.pgm"
	run rtcs-scan "$T/svg.pgm"
	assert_output "$PAYLOAD"
}

@test "code: -t txt prints the payload; the type follows -o's extension" {
	run rtcs-code -t txt "$PAYLOAD"
	assert_output "$PAYLOAD"
	rtcs-code -o "$T/a.svg" "$PAYLOAD"
	run head -c 5 "$T/a.svg"
	assert_output '<?xml'
	rtcs-code -o "$T/a.txt" "$PAYLOAD"
	assert_equal "$(cat "$T/a.txt")" "$PAYLOAD"
	rtcs-code -o "$T/a.img" "$PAYLOAD"
	run rtcs-scan "$T/a.img"
	assert_output "$PAYLOAD"
	echo "$PAYLOAD" | rtcs-code > "$T/piped.png"
	run rtcs-scan "$T/piped.png"
	assert_output "$PAYLOAD"
}

@test "code: on a terminal: text by default, colours unless NO_COLOR, never a PNG" {
	local t
	for t in "" "-t utf8" "-t blocks"; do
		run script -qec "env -u NO_COLOR TERM=xterm rtcs-code $t '$PAYLOAD'" /dev/null
		assert_success
		assert_output --partial $'\e[30;107m'
		run script -qec "NO_COLOR=1 TERM=xterm rtcs-code $t '$PAYLOAD'" /dev/null
		assert_success
		refute_output --partial $'\e['
		assert_output --partial '█'
		run script -qec "env -u NO_COLOR TERM=dumb rtcs-code $t '$PAYLOAD'" /dev/null
		refute_output --partial $'\e['
	done
	run script -qec "TERM=dumb rtcs-code '$PAYLOAD'" /dev/null
	assert_output --partial '##'
	run script -qec "env -u NO_COLOR TERM=xterm rtcs-code --color never -t utf8 '$PAYLOAD'" /dev/null
	refute_output --partial $'\e['
	run script -qec "rtcs-code -t png '$PAYLOAD'; echo rc=\$?" /dev/null
	assert_output --partial 'rtcs-code: not writing a PNG to a terminal'
	assert_output --partial 'rc=64'
}

@test "code: usage errors exit 64 with one line on stderr" {
	local args
	for args in "-x" "--bogus" "-t" "-t gif" "--color" "--color sometimes" "-s 0" "-s 65" "-s x" "-m -1" "-l X" "--depth 4" \
	    "-o" "a b" "--json -o -"; do
		run --separate-stderr rtcs-code $args
		assert_failure 64
		assert_equal "${#stderr_lines[@]}" 1
		[[ $stderr == rtcs-code:* ]] || fail "stderr for '$args': $stderr"
	done
	run --separate-stderr rtcs-code -t png -o "$T/e.png" ''
	assert_failure 65
	assert_equal "$stderr" "rtcs-code: empty payload"
	run --separate-stderr rtcs-code -o "$T/nodir/x.png" "$PAYLOAD"
	assert_failure 74
	[[ $stderr == "rtcs-code: cannot write $T/nodir/x.png: No such file or directory" ]]
}

@test "code: -h, -V" {
	run rtcs-code -h
	assert_success
	assert_output --partial 'usage: rtcs-code'
	run rtcs-code --version
	assert_line --index 0 --regexp '^rtcs-code [0-9]+\.[0-9]+\.[0-9]+ \(git [^)]+\)$'
	run rtcs-code -v -t txt "$PAYLOAD"
	assert_success
}

@test "code: C unit tests for image reading, encoding, rendering and decoding" {
	run "$RTCS_TOP/${RTCS_O:-build}/unit/test_code"
	assert_success
	assert_output "test_code: ok"
}
