# Terminal screenshots: a code drawn by a real terminal emulator (xterm under
# Xvfb), captured and decoded as a phone would see the screen. Sourced by
# tests/term.bats (a few cells) and bench/term-matrix (the whole matrix).
#
#   xshot_missing               prints what is not installed (empty: all there)
#   xshot_start DIR             starts a private Xvfb; DIR holds its files
#   xshot_take FONT SIZE THEME OUT.png CMD...
#                               runs CMD in a fresh xterm, captures it to OUT.png
#   xshot_decode PNG PAYLOAD    prints "zbarimg=ok|no rtcs-scan=ok|no"
#   xshot_stop
#
# No sleeps: Xvfb reports its display on -displayfd; the program in xterm
# names its window on a FIFO and draws once xwininfo sees the window mapped;
# then asks xterm for its size in pixels (CSI 14 t: answered after xterm has
# parsed all that came before), says it has drawn, and exits when told the
# capture is done; two captures alike make the screenshot.

# FONT: a fontconfig family ("DejaVu Sans Mono") or "fixed" (the core X font
# xterm uses by default); SIZE in pixels. THEME: one of xshot_themes.
xshot_themes="light solarized-light dark solarized-dark tango-dark"
xshot_fonts="fixed|DejaVu Sans Mono|Liberation Mono|Noto Sans Mono|JetBrains Mono"

xshot_missing() {
	local c miss=
	for c in Xvfb xterm xwd xwininfo convert zbarimg fc-list; do
		command -v "$c" > /dev/null || miss="$miss $c"
	done
	[ -z "$miss" ] && ! fc-list : family | grep -q '^DejaVu Sans Mono' && miss=" fonts-dejavu-core"
	printf '%s' "${miss# }"
}

xshot_start() {
	local dir=$1 fifo=$1/displayfd
	XSHOT_DIR=$dir
	mkfifo "$fifo"
	Xvfb -displayfd 3 -nolisten tcp -screen 0 2000x1600x24 -br \
	    3> "$fifo" > "$dir/xvfb.log" 2>&1 &
	XSHOT_XVFB=$!
	read -r -t 20 XSHOT_DISPLAY < "$fifo" || { echo "Xvfb did not start: $(tail -3 "$dir/xvfb.log")" >&2; return 1; }
	export DISPLAY=:$XSHOT_DISPLAY
}

xshot_stop() {
	[ -n "${XSHOT_XVFB:-}" ] && kill "$XSHOT_XVFB" 2> /dev/null && wait "$XSHOT_XVFB" 2> /dev/null
	XSHOT_XVFB=
}

# Colours as the themes set them: fg, bg, and for the solarized ones the 16
# ANSI colours too (a theme remaps them, so a renderer cannot trust "white").
xshot_theme_args() {
	case $1 in
	light) echo "-fg #000000 -bg #ffffff" ;;
	dark) echo "-fg #d0d0d0 -bg #000000" ;;
	tango-dark) echo "-fg #d3d7cf -bg #2e3436" ;;
	solarized-light|solarized-dark)
		local -a c=('#073642' '#dc322f' '#859900' '#b58900' '#268bd2' '#d33682' '#2aa198' '#eee8d5'
		    '#002b36' '#cb4b16' '#586e75' '#657b83' '#839496' '#6c71c4' '#93a1a1' '#fdf6e3')
		local i out
		[ "$1" = solarized-light ] && out="-fg #657b83 -bg #fdf6e3" || out="-fg #839496 -bg #002b36"
		for i in "${!c[@]}"; do out="$out -xrm *color$i:${c[$i]}"; done
		echo "$out" ;;
	*) echo "xshot: unknown theme $1" >&2; return 1 ;;
	esac
}

xshot_take() {
	local font=$1 size=$2 theme=$3 out=$4 id n=$((${XSHOT_N:-0} + 1)) i
	local f=$XSHOT_DIR/fifo$n
	local -a fontargs
	shift 4
	XSHOT_N=$n
	if [ "$font" = fixed ]; then
		case $size in
		13) fontargs=(-fn -misc-fixed-medium-r-semicondensed--13-120-75-75-c-60-iso10646-1) ;;
		15) fontargs=(-fn -misc-fixed-medium-r-normal--15-140-75-75-c-90-iso10646-1) ;;
		20) fontargs=(-fn -misc-fixed-medium-r-normal--20-200-75-75-c-100-iso10646-1) ;;
		*) echo "xshot: fixed comes in sizes 13, 15 and 20" >&2; return 1 ;;
		esac
	else
		fontargs=(-fa "$font:pixelsize=$size")
	fi
	mkfifo "$f.ready" "$f.go" "$f.drawn" "$f.done"
	# The program in xterm: names its window, waits until it is on the screen,
	# draws, syncs with xterm (CSI 14 t), says so, and waits for the capture.
	# shellcheck disable=SC2046
	LC_ALL=C.UTF-8 xterm -u8 "${fontargs[@]}" $(xshot_theme_args "$theme") +sb \
	    -geometry "${XSHOT_GEOMETRY:-96x48}+0+0" \
	    -xrm '*allowWindowOps: true' -xrm '*cursorBlink: false' \
	    -e bash -c '
		f=$1; shift
		printf "%s\n" "$WINDOWID" > "$f.ready"
		read -r -t 20 _ < "$f.go"
		printf "\033[?25l\033[H\033[2J"
		"$@"
		stty -echo -icanon min 1
		printf "\033[14t"
		read -r -d t -t 10 _
		echo > "$f.drawn"
		read -r -t 30 _ < "$f.done"' xshot "$f" "$@" 2> "$XSHOT_DIR/xterm.log" &
	local xpid=$!
	if ! read -r -t 20 id < "$f.ready"; then
		kill "$xpid" 2> /dev/null
		wait "$xpid" 2> /dev/null
		rm -f "$f".*
		echo "xshot: xterm did not start ($font $size $theme): $(tail -2 "$XSHOT_DIR/xterm.log")" >&2
		return 1
	fi
	# Drawn before the window is mapped, text would wait for an Expose.
	for i in $(seq 500); do
		xwininfo -id "$id" 2> /dev/null | grep -q 'IsViewable' && break
	done
	echo > "$f.go"
	read -r -t 20 _ < "$f.drawn"
	# Two captures alike: nothing was still being painted.
	xwd -silent -id "$id" > "$f.a"
	for i in 1 2 3 4 5; do
		xwd -silent -id "$id" > "$f.b"
		cmp -s "$f.a" "$f.b" && break
		mv "$f.b" "$f.a"
	done
	convert xwd:"$f.a" "$out"
	echo > "$f.done"
	wait "$xpid" 2> /dev/null
	rm -f "$f".*
	[ -s "$out" ]
}

xshot_decode() {
	local png=$1 payload=$2 z=no r=no
	[ "$(zbarimg --nodbus -q --raw "$png" 2> /dev/null)" = "$payload" ] && z=ok
	[ "$(rtcs-scan -q "$png" 2> /dev/null)" = "$payload" ] && r=ok
	echo "zbarimg=$z rtcs-scan=$r"
}
