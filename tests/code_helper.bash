# Helpers for code.bats and scan.bats: turn terminal renderings back into images.

# term_to_pgm STYLE SCALE < text > image.pgm
# STYLE utf8: half blocks drawn for LIGHT modules; ansi: half blocks drawn for
# DARK modules (escapes stripped); ascii: "##" a dark module. Each module
# becomes SCALE x SCALE pixels of a binary PGM, so rtcs-scan can read it back.
term_to_pgm() {
	local style=$1 scale=$2 dims
	LC_ALL=C sed -e 's/\x1b\[[0-9;]*m//g' -e 's/\xe2\x96\x80/T/g' \
	    -e 's/\xe2\x96\x84/B/g' -e 's/\xe2\x96\x88/F/g' |
	LC_ALL=C awk -v style="$style" -v s="$scale" '
	function put(bit,   i) { for (i = 0; i < s; i++) row = row bit }
	function emit(   i) { for (i = 0; i < s; i++) body = body row; rows += s; if (length(row) > w) w = length(row); row = "" }
	{
		n = length($0)
		if (style == "ascii") {
			for (i = 1; i <= n; i += 2) put(substr($0, i, 2) == "##" ? 0 : 1)
			emit()
			next
		}
		# drawn: 1 = the glyph covers the half; light when glyphs are light (utf8).
		for (half = 0; half < 2; half++) {
			for (i = 1; i <= n; i++) {
				c = substr($0, i, 1)
				drawn = (c == "F") || (c == "T" && half == 0) || (c == "B" && half == 1)
				put(style == "utf8" ? (drawn ? 1 : 0) : (drawn ? 0 : 1))
			}
			emit()
		}
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
