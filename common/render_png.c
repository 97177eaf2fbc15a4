/* A QR matrix as a grayscale PNG (1-bit or 8-bit), libpng's write API. */
#include <errno.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "render.h"
#include "xmalloc.h"

int
render_dark(const struct qr_code *qr, int margin, int x, int y)
{
	x -= margin;
	y -= margin;
	if (x < 0 || y < 0 || x >= qr->size || y >= qr->size)
		return 0;
	return qr->mod[(size_t)y * (size_t)qr->size + (size_t)x];
}

/* One pixel row of module row my: white is 1 (or 255), dark 0. */
static void
render_png_row(const struct qr_code *qr, int scale, int margin, int depth, int my,
    unsigned char *row, size_t rowbytes)
{
	int side = qr->size + 2 * margin, mx, i, px = 0;

	memset(row, 0xff, rowbytes);
	for (mx = 0; mx < side; mx++) {
		if (!render_dark(qr, margin, mx, my)) {
			px += scale;
			continue;
		}
		for (i = 0; i < scale; i++, px++) {
			if (depth == 8)
				row[px] = 0;
			else
				row[px / 8] &= (unsigned char)~(0x80 >> (px % 8));
		}
	}
}

static void
render_png_error(png_structp png, png_const_charp msg)
{
	char **cause = png_get_error_ptr(png);

	*cause = xprintf("cannot write PNG: %s", msg);
	png_longjmp(png, 1);
}

static void
render_png_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

int
render_png(const struct qr_code *qr, int scale, int margin, int depth, FILE *fp, char **cause)
{
	png_structp png;
	png_infop info;
	unsigned char *volatile row = NULL;
	int side = (qr->size + 2 * margin) * scale, my, i;
	size_t rowbytes = depth == 8 ? (size_t)side : ((size_t)side + 7) / 8;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, cause,
	    render_png_error, render_png_warning);
	if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
		png_destroy_write_struct(&png, NULL);
		*cause = xstrdup("cannot write PNG: out of memory");
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(row);
		return -1;
	}
	png_init_io(png, fp);
	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, depth,
	    PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	/* Runs of equal bytes: no filter, fast zlib level is as small as level 6 here. */
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	png_set_compression_level(png, 1);
	png_write_info(png, info);
	row = xmalloc(rowbytes);
	for (my = 0; my < qr->size + 2 * margin; my++) {
		render_png_row(qr, scale, margin, depth, my, row, rowbytes);
		for (i = 0; i < scale; i++)
			png_write_row(png, row);
	}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(row);
	if (fflush(fp) != 0 || ferror(fp)) {
		*cause = xprintf("cannot write PNG: %s", strerror(errno));
		return -1;
	}
	return 0;
}
