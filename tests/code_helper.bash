# Helpers for code.bats and scan.bats: turn terminal renderings back into images.

# term_to_pgm FORM SCALE [GLYPHS] < text > image.pgm
# FORM half: half blocks, two module rows a line; wide: two columns a module
# ("##" or full blocks). GLYPHS (light or dark, default light): what an
# uncoloured glyph draws. SGR colours override: a background of 40, 48;5;16
# or 48;2;0;0;0 is dark, any other set background light; glyphs drawn over a
# set background are dark. Each module becomes SCALE x SCALE pixels of a
# binary PGM, so rtcs-scan can read it back.
term_to_pgm() {
	local form=$1 scale=$2 glyphs=${3:-light} dims
	LC_ALL=C sed -e 's/\x1b\[\([0-9;]*\)m/{\1}/g' -e 's/\xe2\x96\x80/T/g' \
	    -e 's/\xe2\x96\x84/B/g' -e 's/\xe2\x96\x88/F/g' -e 's/#/F/g' |
	LC_ALL=C awk -v form="$form" -v s="$scale" -v glyphs="$glyphs" '
	function put(bit,   i) { for (i = 0; i < s; i++) row = row bit }
	function emit(   i) { for (i = 0; i < s; i++) body = body row; rows += s; if (length(row) > w) w = length(row); row = "" }
	# One line as cells: top[i] and bot[i] are 1 for light.
	function cells(line,   c, n, sgr, k) {
		n = 0; bg = -1
		while (length(line) > 0) {
			c = substr(line, 1, 1)
			if (c == "{") {
				k = index(line, "}"); sgr = substr(line, 2, k - 2); line = substr(line, k + 1)
				if (sgr == "" || sgr == "0") bg = -1
				else if (sgr ~ /(^|;)(40|48;5;16|48;2;0;0;0)$/) bg = 0
				else if (sgr ~ /(^|;)(107|48;5;231|48;2;255;255;255)$/) bg = 1
				continue
			}
			line = substr(line, 2); n++
			# Uncoloured: the glyph is light unless glyphs=dark; the rest is the other shade.
			g = bg < 0 ? (glyphs == "dark" ? 0 : 1) : 0
			b = bg < 0 ? 1 - g : bg
			top[n] = (c == "F" || c == "T") ? g : b
			bot[n] = (c == "F" || c == "B") ? g : b
		}
		return n
	}
	{
		n = cells($0)
		step = form == "wide" ? 2 : 1
		for (i = 1; i <= n; i += step) put(top[i])
		emit()
		if (form == "half") { for (i = 1; i <= n; i++) put(bot[i]); emit() }
	}
	END { print w, rows; print body }' | {
		read -r dims
		printf 'P5\n%s\n255\n' "$dims"
		tr -d '\n' | tr '01' '\000\377'
	}
}

# png_with_size W H: a PNG signature and an IHDR chunk claiming W x H (valid
# CRC), then a tiny IDAT and IEND: decoders must refuse it before allocating.
png_with_size() {
	perl -MCompress::Zlib -e '
		my ($w, $h) = @ARGV;
		sub chunk { my ($t, $d) = @_; pack("N", length $d) . $t . $d . pack("N", crc32($t . $d)) }
		binmode STDOUT;
		print "\x89PNG\r\n\x1a\n", chunk("IHDR", pack("NNCCCCC", $w, $h, 8, 0, 0, 0, 0)),
		    chunk("IDAT", compress("\0" x 64)), chunk("IEND", "");
	' "$1" "$2"
}

# tilted_photo FLAT.png RATIO ANGLE > photo.png: FLAT seen from below its
# bottom edge: the top edge RATIO times as wide as the bottom one and
# foreshortened as much (a keystone), then turned ANGLE degrees and blurred a
# little, as a camera would. ImageMagick makes it.
tilted_photo() {
	local flat=$1 r=$2 angle=$3 w h
	read -r w h < <(identify -format '%w %h\n' "$flat")
	convert "$flat" -virtual-pixel white -distort Perspective "$(awk -v w="$w" -v h="$h" -v r="$r" 'BEGIN {
		a = w * (1 - r) / 2; t = h * (1 - r) / 2
		printf "0,0 %g,%g  %d,0 %g,%g  0,%d 0,%d  %d,%d %d,%d", a, t, w, w - a, t, h, h, w, h, w, h }')" \
	    -background white -rotate "$angle" -blur 0x1 png:-
}
