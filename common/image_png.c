/* PNG to 8-bit grayscale with libpng's simplified API; size checked before pixels. */
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "image.h"
#include "xmalloc.h"

int
image_decode_png(const unsigned char *data, size_t len, struct image *img, char **cause)
{
	png_image pi;
	unsigned char *px;

	memset(&pi, 0, sizeof pi);
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&pi, data, len)) {
		*cause = xprintf("bad PNG: %s", pi.message);
		png_image_free(&pi);
		return -1;
	}
	if (pi.width == 0 || pi.height == 0 ||
	    pi.width > IMAGE_MAX_DIM || pi.height > IMAGE_MAX_DIM) {
		*cause = xprintf("image too large (%ux%u, limit %dx%d)",
		    (unsigned)pi.width, (unsigned)pi.height, IMAGE_MAX_DIM, IMAGE_MAX_DIM);
		png_image_free(&pi);
		return -1;
	}
	pi.format = PNG_FORMAT_GRAY;
	px = xmalloc(PNG_IMAGE_SIZE(pi));
	/* Transparent pixels are composited onto this white. */
	memset(px, 0xff, PNG_IMAGE_SIZE(pi));
	if (!png_image_finish_read(&pi, NULL, px, 0, NULL)) {
		*cause = xprintf("bad PNG: %s", pi.message);
		png_image_free(&pi);
		free(px);
		return -1;
	}
	img->w = (int)pi.width;
	img->h = (int)pi.height;
	img->px = px;
	png_image_free(&pi);
	return 0;
}
