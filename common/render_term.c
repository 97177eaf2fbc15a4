/*
 * A QR matrix as terminal text. Half blocks put two module rows on one line.
 * utf8 uses the terminal's default colours and draws the LIGHT modules (as
 * qrencode -t UTF8 does): right on the usual dark background; on a light
 * background the code shows inverted, which phone scanners and rtcs-scan
 * accept. ansi sets black on bright white itself and draws the DARK modules,
 * so it reads right on any background. ascii draws dark modules as "##".
 */
#include <errno.h>
#include <string.h>

#include "render.h"
#include "xmalloc.h"

static const char *const render_half[4] = {
	" ",		/* neither half */
	"\u2580",	/* upper half: top module drawn */
	"\u2584",	/* lower half: bottom module drawn */
	"\u2588",	/* full block: both drawn */
};

static void
render_term_halves(const struct qr_code *qr, int margin, int drawn_is_dark, FILE *fp)
{
	int side = qr->size + 2 * margin, x, y, top, bot;

	for (y = 0; y < side; y += 2) {
		for (x = 0; x < side; x++) {
			top = render_dark(qr, margin, x, y) == drawn_is_dark;
			/* Past the last row is quiet zone: light. */
			bot = y + 1 < side ? render_dark(qr, margin, x, y + 1) == drawn_is_dark
			    : !drawn_is_dark;
			if (drawn_is_dark && x == 0)
				fputs("\033[30;107m", fp);
			fputs(render_half[top | bot << 1], fp);
		}
		fputs(drawn_is_dark ? "\033[0m\n" : "\n", fp);
	}
}

static void
render_term_ascii(const struct qr_code *qr, int margin, FILE *fp)
{
	int side = qr->size + 2 * margin, x, y;

	for (y = 0; y < side; y++) {
		for (x = 0; x < side; x++)
			fputs(render_dark(qr, margin, x, y) ? "##" : "  ", fp);
		fputc('\n', fp);
	}
}

int
render_term(const struct qr_code *qr, enum render_term_style style, int margin,
    FILE *fp, char **cause)
{
	switch (style) {
	case RENDER_TERM_UTF8:
		render_term_halves(qr, margin, 0, fp);
		break;
	case RENDER_TERM_ANSI:
		render_term_halves(qr, margin, 1, fp);
		break;
	case RENDER_TERM_ASCII:
		render_term_ascii(qr, margin, fp);
		break;
	}
	if (fflush(fp) != 0 || ferror(fp)) {
		*cause = xprintf("cannot write: %s", strerror(errno));
		return -1;
	}
	return 0;
}
