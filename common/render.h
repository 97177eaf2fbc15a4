/* Drawing a QR module matrix: PNG (render_png.c), terminal text (render_term.c), SVG (render_svg.c). */
#ifndef RTCS_RENDER_H
#define RTCS_RENDER_H
#include <stdio.h>

#include "qr_encode.h"

#define RENDER_MAX_SCALE	64
#define RENDER_MAX_MARGIN	64

/* Terminal forms; see render_term.c for which glyph means what. */
enum render_term_style {
	RENDER_TERM_HALF,	/* half blocks: two module rows a line, a column a module */
	RENDER_TERM_BLOCKS,	/* a module two columns wide, a line high */
	RENDER_TERM_ASCII	/* "##" or two spaces a module, a line high; never coloured */
};

/* Explicit colours, as much as the terminal is known to take. */
enum render_term_colour {
	RENDER_COLOUR_NONE,	/* the theme's own: glyphs draw one kind of module */
	RENDER_COLOUR_16,	/* SGR 30/40 and 107 (aixterm bright white) */
	RENDER_COLOUR_256,	/* xterm-256 indices 16 and 231, which themes leave alone */
	RENDER_COLOUR_24	/* direct RGB */
};

struct render_term {
	enum render_term_style	 style;
	enum render_term_colour	 colour;
	int			 invert;	/* uncoloured: glyphs draw the dark modules */
	int			 margin;
};

/* Each writes to fp and returns -1 with *cause when fp fails. */
int	render_png(const struct qr_code *qr, int scale, int margin, int depth, FILE *fp,
	    char **cause);
int	render_term(const struct qr_code *qr, const struct render_term *how, FILE *fp,
	    char **cause);
/* The richest colour a terminal takes, from $TERM and $COLORTERM (either may be NULL). */
enum render_term_colour render_term_colour_for(const char *term, const char *colorterm);
int	render_svg(const struct qr_code *qr, int scale, int margin, FILE *fp, char **cause);

/* 1 for a dark module at (x, y) counted from the quiet zone's corner. */
int	render_dark(const struct qr_code *qr, int margin, int x, int y);
#endif
