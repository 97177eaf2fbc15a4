/*
 * A QR matrix as terminal text, readable by a phone whatever the theme.
 *
 * With colours the code is drawn dark on light by explicit SGR colours, and
 * every cell whose two halves agree is a space painted with the background
 * colour: a background fills the whole cell in every font, where block glyphs
 * leave gaps in some (Noto Sans Mono). Only cells that split a dark and a
 * light module use a half block, with the background set to light.
 *
 * Without colours the theme decides what a glyph looks like: glyphs draw the
 * LIGHT modules (right on the common light-on-dark theme, as qrencode -t UTF8
 * does), or the dark ones with invert (dark text on a light background).
 */
#include <errno.h>
#include <string.h>

#include "render.h"
#include "xmalloc.h"

static const char *const render_half[4] = {
	" ",		/* neither half */
	"\u2580",	/* upper half */
	"\u2584",	/* lower half */
	"\u2588",	/* full block */
};

/* SGR parameters: [colour][0] the foreground (dark), [1] dark and [2] light backgrounds. */
static const char *const render_sgr[][3] = {
	[RENDER_COLOUR_16] = { "30", "40", "107" },
	[RENDER_COLOUR_256] = { "38;5;16", "48;5;16", "48;5;231" },
	[RENDER_COLOUR_24] = { "38;2;0;0;0", "48;2;0;0;0", "48;2;255;255;255" },
};

struct render_line {
	const struct render_term	*how;
	FILE				*fp;
	int				 bg;	/* background set on this line: -1 none, 0 light, 1 dark */
};

enum render_term_colour
render_term_colour_for(const char *term, const char *colorterm)
{
	if (colorterm != NULL && (strcmp(colorterm, "truecolor") == 0 ||
	    strcmp(colorterm, "24bit") == 0))
		return RENDER_COLOUR_24;
	if (term != NULL && (strstr(term, "256color") != NULL || strstr(term, "direct") != NULL))
		return RENDER_COLOUR_256;
	return RENDER_COLOUR_16;
}

/* Text drawn on a dark (1) or light (0) background; the foreground stays dark. */
static void
render_cell(struct render_line *l, int dark_bg, const char *text)
{
	const char *const *sgr = render_sgr[l->how->colour];

	if (l->bg < 0)
		fprintf(l->fp, "\033[%s;%sm", sgr[0], sgr[dark_bg ? 1 : 2]);
	else if (l->bg != dark_bg)
		fprintf(l->fp, "\033[%sm", sgr[dark_bg ? 1 : 2]);
	l->bg = dark_bg;
	fputs(text, l->fp);
}

static void
render_end_line(struct render_line *l)
{
	/* Reset before the newline, or a scroll paints the next line with our background. */
	fputs(l->bg >= 0 ? "\033[0m\n" : "\n", l->fp);
	l->bg = -1;
}

static void
render_term_half(const struct qr_code *qr, struct render_line *l)
{
	int side = qr->size + 2 * l->how->margin, m = l->how->margin, x, y, top, bot;
	int glyph_dark = l->how->invert;

	for (y = 0; y < side; y += 2) {
		for (x = 0; x < side; x++) {
			top = render_dark(qr, m, x, y);
			/* Past the last row is quiet zone: light. */
			bot = y + 1 < side && render_dark(qr, m, x, y + 1);
			if (l->how->colour == RENDER_COLOUR_NONE)
				fputs(render_half[(top == glyph_dark) | (bot == glyph_dark) << 1], l->fp);
			else if (top == bot)
				render_cell(l, top, " ");
			else
				render_cell(l, 0, render_half[top | bot << 1]);
		}
		render_end_line(l);
	}
}

static void
render_term_wide(const struct qr_code *qr, struct render_line *l, const char *glyphs)
{
	int side = qr->size + 2 * l->how->margin, x, y, dark;

	for (y = 0; y < side; y++) {
		for (x = 0; x < side; x++) {
			dark = render_dark(qr, l->how->margin, x, y);
			if (l->how->colour != RENDER_COLOUR_NONE)
				render_cell(l, dark, "  ");
			else
				fputs(dark == l->how->invert ? glyphs : "  ", l->fp);
		}
		render_end_line(l);
	}
}

int
render_term(const struct qr_code *qr, const struct render_term *how, FILE *fp, char **cause)
{
	struct render_term plain = *how;
	struct render_line l = { how, fp, -1 };

	switch (how->style) {
	case RENDER_TERM_HALF:
		render_term_half(qr, &l);
		break;
	case RENDER_TERM_BLOCKS:
		render_term_wide(qr, &l, "\u2588\u2588");
		break;
	case RENDER_TERM_ASCII:
		plain.colour = RENDER_COLOUR_NONE;
		l.how = &plain;
		render_term_wide(qr, &l, "##");
		break;
	}
	if (fflush(fp) != 0 || ferror(fp)) {
		*cause = xprintf("cannot write: %s", strerror(errno));
		return -1;
	}
	return 0;
}
