#!/usr/bin/env bats
# rtcs-code's terminal forms drawn by a real terminal (xterm under Xvfb), captured
# and decoded as a phone sees the screen: a few cells of bench/term-matrix.
load lib
load xshot
bats_require_minimum_version 1.5.0

PAYLOAD=RTCS:1:TABCDEFGHIJKLMNOP:ABCDEFGHIJKLMNOPQRSTUVWXYZ

setup_file() {
	local miss
	miss=$(xshot_missing)
	[ -z "$miss" ] || skip "not installed: $miss (Debian: xvfb xterm x11-apps imagemagick zbar-tools fonts-dejavu-core)"
	XT=$(mktemp -d /tmp/rtcs.XXXXXX)
	export XT
	xshot_start "$XT"
	echo "$XSHOT_XVFB" > "$XT/xvfb.pid"
	export DISPLAY XSHOT_DIR=$XT
}

teardown_file() {
	[ -n "${XT:-}" ] || return 0
	XSHOT_XVFB=$(cat "$XT/xvfb.pid" 2> /dev/null) xshot_stop
	rm -rf "$XT"
}

# reads FONT SIZE THEME WHO ENV-AND-RTCS-CODE-ARGS...: the screenshot decodes by WHO
# (both: zbarimg and rtcs-scan; rtcs-scan: only ours is asked to).
reads() {
	local font=$1 size=$2 theme=$3 who=$4 shot res
	shift 4
	shot=$XT/$(echo "$font-$size-$theme-$*" | tr -c 'A-Za-z0-9.-' _).png
	xshot_take "$font" "$size" "$theme" "$shot" env "$@" "$PAYLOAD" || fail "no screenshot"
	res=$(xshot_decode "$shot" "$PAYLOAD")
	case $who in
	both) [ "$res" = "zbarimg=ok rtcs-scan=ok" ] ;;
	rtcs-scan) [[ $res == *rtcs-scan=ok* ]] ;;
	esac || fail "$font $size px, $theme, $*: $res (screenshot: $shot)"
}

font_or_skip() {
	fc-list : family | grep -qx "$1" || skip "font $1 not installed"
}

@test "term: utf8 in colour is dark on light in light and dark themes, for every reader" {
	local theme
	for theme in light solarized-light dark solarized-dark; do
		reads "DejaVu Sans Mono" 16 "$theme" both -u NO_COLOR rtcs-code -t utf8
		reads fixed 15 "$theme" both -u NO_COLOR rtcs-code
	done
}

@test "term: -t blocks stays readable where block glyphs leave gaps (Noto Sans Mono)" {
	font_or_skip "Noto Sans Mono"
	reads "Noto Sans Mono" 16 light both -u NO_COLOR rtcs-code -t blocks
	reads "Noto Sans Mono" 13 tango-dark both -u NO_COLOR rtcs-code -t blocks
}

@test "term: without colours the default suits dark themes and --invert light ones" {
	reads "DejaVu Sans Mono" 16 dark both NO_COLOR=1 rtcs-code -t utf8
	reads "DejaVu Sans Mono" 16 light both NO_COLOR=1 rtcs-code -t utf8 --invert
	reads fixed 15 tango-dark both NO_COLOR=1 rtcs-code -t blocks
	reads fixed 15 solarized-light both NO_COLOR=1 rtcs-code -t blocks --invert
}

@test "term: ascii screenshots are read by rtcs-scan, in both themes" {
	reads "DejaVu Sans Mono" 13 dark rtcs-scan -u NO_COLOR rtcs-code -t ascii
	reads "DejaVu Sans Mono" 13 light rtcs-scan -u NO_COLOR rtcs-code -t ascii --invert
	reads fixed 15 solarized-dark rtcs-scan TERM=dumb rtcs-code
}

@test "term: a signed code (version 8, as rtcs-serve issues it) in utf8 reads in light and dark themes" {
	local PAYLOAD=RTCS:1:TVY3E54F7TT3LTMNT:PD6HDZBQXW6DGRM6WVSSLEQ77E:PUSH/CHAT/ALICE/ALICE-PHONE/VM/1796183142:O3XMHMIIJICKWCKWZ5Z57UGOLNX2QKU4A7YE2X3ZS54WHHWBLFFZZXP5QJTO5AKQPKKTK5KXTZRZHVKD2JVMI2ZOMJSM7CTPSM4VGAY
	[ "$(rtcs-code --json "$PAYLOAD" | jq .version)" = 8 ]
	reads "DejaVu Sans Mono" 16 light both -u NO_COLOR rtcs-code -t utf8
	reads "DejaVu Sans Mono" 16 dark both -u NO_COLOR rtcs-code -t utf8
	reads fixed 15 solarized-dark both -u NO_COLOR rtcs-code -t utf8
}
