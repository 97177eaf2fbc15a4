/* A QR matrix as a small SVG for print: one path of dark runs, crisp edges. */
#include <errno.h>
#include <string.h>

#include "render.h"
#include "xmalloc.h"

int
render_svg(const struct qr_code *qr, int scale, int margin, FILE *fp, char **cause)
{
	int side = qr->size + 2 * margin, x, y, run;

	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" shape-rendering=\"crispEdges\">\n"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
	    side * scale, side * scale, side, side, side, side);
	/* Module units in the viewBox: one horizontal run of dark modules per "M..h..v1h..z". */
	for (y = 0; y < qr->size; y++) {
		for (x = 0; x < qr->size; x += run) {
			run = 0;
			while (x + run < qr->size && qr->mod[(size_t)y * (size_t)qr->size + (size_t)(x + run)])
				run++;
			if (run == 0) {
				run = 1;
				continue;
			}
			fprintf(fp, "M%d %dh%dv1h-%dz", x + margin, y + margin, run, run);
		}
	}
	fputs("\"/>\n</svg>\n", fp);
	if (fflush(fp) != 0 || ferror(fp)) {
		*cause = xprintf("cannot write SVG: %s", strerror(errno));
		return -1;
	}
	return 0;
}
