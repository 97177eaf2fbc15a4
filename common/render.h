/* Drawing a QR module matrix: PNG (render_png.c), terminal text (render_term.c), SVG (render_svg.c). */
#ifndef RTCS_RENDER_H
#define RTCS_RENDER_H
#include <stdio.h>

#include "qr_encode.h"

#define RENDER_MAX_SCALE	64
#define RENDER_MAX_MARGIN	64

/* Terminal styles; see render_term.c for which glyph means what. */
enum render_term_style {
	RENDER_TERM_UTF8,	/* half blocks, default colours, glyph = light module */
	RENDER_TERM_ANSI,	/* half blocks, black on bright white, glyph = dark module */
	RENDER_TERM_ASCII	/* "##" = dark module, two spaces = light */
};

/* Each writes to fp and returns -1 with *cause when fp fails. */
int	render_png(const struct qr_code *qr, int scale, int margin, int depth, FILE *fp,
	    char **cause);
int	render_term(const struct qr_code *qr, enum render_term_style style, int margin,
	    FILE *fp, char **cause);
int	render_svg(const struct qr_code *qr, int scale, int margin, FILE *fp, char **cause);

/* 1 for a dark module at (x, y) counted from the quiet zone's corner. */
int	render_dark(const struct qr_code *qr, int margin, int x, int y);
#endif
