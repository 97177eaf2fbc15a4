/* Finding codes in a grayscale image (zbar), with a second try at other scales. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zbar.h>

#include "qr_decode.h"
#include "xmalloc.h"

/* Binary mode keeps zbar from re-encoding payload bytes; inverted codes are tried too. */
static zbar_image_scanner_t *
qr_scanner_new(enum qr_decode_symbols which)
{
	zbar_image_scanner_t *sc = zbar_image_scanner_create();

	if (which == QR_DECODE_QR) {
		zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
		zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	} else
		zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_ENABLE, 1);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	zbar_image_scanner_set_config(sc, ZBAR_NONE, ZBAR_CFG_TEST_INVERTED, 1);
	return sc;
}

static void
qr_symbol_fill(struct qr_symbol *s, const zbar_symbol_t *zs, int num, int den)
{
	unsigned int i, n = zbar_symbol_get_loc_size(zs);
	int minx = INT_MAX, miny = INT_MAX, maxx = INT_MIN, maxy = INT_MIN, x, y;

	s->type = xstrdup(zbar_get_symbol_name(zbar_symbol_get_type(zs)));
	s->len = zbar_symbol_get_data_length(zs);
	s->data = xmalloc(s->len + 1);
	memcpy(s->data, zbar_symbol_get_data(zs), s->len);
	s->data[s->len] = '\0';
	s->npoints = 0;
	for (i = 0; i < n; i++) {
		/* Back to the caller's pixels when the image was rescaled. */
		x = zbar_symbol_get_loc_x(zs, i) * num / den;
		y = zbar_symbol_get_loc_y(zs, i) * num / den;
		if (x < minx) minx = x;
		if (y < miny) miny = y;
		if (x > maxx) maxx = x;
		if (y > maxy) maxy = y;
		if (s->npoints < QR_DECODE_MAX_POINTS) {
			s->px[s->npoints] = x;
			s->py[s->npoints] = y;
			s->npoints++;
		}
	}
	if (n == 0)
		minx = miny = maxx = maxy = 0;
	s->x = minx;
	s->y = miny;
	s->w = maxx - minx + 1;
	s->h = maxy - miny + 1;
}

/* One zbar pass over w x h gray pixels; coordinates scaled by num/den. */
static int
qr_scan_once(zbar_image_scanner_t *sc, const unsigned char *px, int w, int h,
    int num, int den, struct qr_symbol **syms)
{
	zbar_image_t *zi = zbar_image_create();
	const zbar_symbol_t *zs;
	int n, i = 0;

	zbar_image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(zi, (unsigned)w, (unsigned)h);
	zbar_image_set_data(zi, px, (unsigned long)w * (unsigned long)h, NULL);
	n = zbar_scan_image(sc, zi);
	if (n > 0) {
		*syms = xcalloc((size_t)n, sizeof **syms);
		for (zs = zbar_image_first_symbol(zi); zs != NULL && i < n;
		    zs = zbar_symbol_next(zs))
			qr_symbol_fill(&(*syms)[i++], zs, num, den);
		n = i;
	}
	zbar_image_destroy(zi);
	return n < 0 ? 0 : n;
}

/* Half size, each pixel the mean of a 2x2 block: large noisy or blurred captures. */
static unsigned char *
qr_downscale(const struct image *img, int *w, int *h)
{
	unsigned char *out;
	int x, y;
	const unsigned char *a, *b;

	*w = img->w / 2;
	*h = img->h / 2;
	out = xmalloc((size_t)*w * (size_t)*h + 1);
	for (y = 0; y < *h; y++) {
		a = img->px + (size_t)(2 * y) * (size_t)img->w;
		b = a + img->w;
		for (x = 0; x < *w; x++)
			out[(size_t)y * (size_t)*w + (size_t)x] = (unsigned char)
			    ((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) / 4);
	}
	return out;
}

/* Double size, nearest neighbour: codes drawn with one pixel a module. */
static unsigned char *
qr_upscale(const struct image *img, int *w, int *h)
{
	unsigned char *out;
	int x, y;

	*w = img->w * 2;
	*h = img->h * 2;
	out = xmalloc((size_t)*w * (size_t)*h);
	for (y = 0; y < *h; y++)
		for (x = 0; x < *w; x++)
			out[(size_t)y * (size_t)*w + (size_t)x] =
			    img->px[(size_t)(y / 2) * (size_t)img->w + (size_t)(x / 2)];
	return out;
}

int
qr_decode(const struct image *img, enum qr_decode_symbols which,
    struct qr_symbol **syms, char **cause)
{
	zbar_image_scanner_t *sc;
	unsigned char *px;
	int n, w, h;

	*syms = NULL;
	if (img->w <= 0 || img->h <= 0 || img->px == NULL) {
		*cause = xstrdup("empty image");
		return -1;
	}
	sc = qr_scanner_new(which);
	n = qr_scan_once(sc, img->px, img->w, img->h, 1, 1, syms);
	if (n == 0 && img->w >= 64 && img->h >= 64) {
		px = qr_downscale(img, &w, &h);
		n = qr_scan_once(sc, px, w, h, 2, 1, syms);
		free(px);
	}
	if (n == 0 && img->w <= IMAGE_MAX_DIM / 2 && img->h <= IMAGE_MAX_DIM / 2) {
		px = qr_upscale(img, &w, &h);
		n = qr_scan_once(sc, px, w, h, 1, 2, syms);
		free(px);
	}
	zbar_image_scanner_destroy(sc);
	return n;
}

void
qr_symbols_free(struct qr_symbol *syms, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(syms[i].type);
		free(syms[i].data);
	}
	free(syms);
}
