/* Finding codes in a grayscale image (zbar), with a second try at other scales. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <zbar.h>

#include "image_filter.h"
#include "qr_decode.h"
#include "warp.h"
#include "xmalloc.h"

/* From the pixels zbar saw back to the caller's: a scale num/den, or a view's homography. */
struct qr_map {
	int			 num, den;
	const struct warp_view	*view;
};

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
qr_map_point(const struct qr_map *m, int *x, int *y)
{
	double sx, sy;

	if (m->view == NULL) {
		*x = *x * m->num / m->den;
		*y = *y * m->num / m->den;
		return;
	}
	warp_view_to_source(m->view, *x + 0.5, *y + 0.5, &sx, &sy);
	*x = (int)floor(sx);
	*y = (int)floor(sy);
}

static void
qr_symbol_fill(struct qr_symbol *s, const zbar_symbol_t *zs, const struct qr_map *m)
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
		/* Back to the caller's pixels when the image was rescaled or warped. */
		x = zbar_symbol_get_loc_x(zs, i);
		y = zbar_symbol_get_loc_y(zs, i);
		qr_map_point(m, &x, &y);
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

/* One zbar pass over w x h gray pixels; coordinates mapped back by m. */
static int
qr_scan_map(zbar_image_scanner_t *sc, const unsigned char *px, int w, int h,
    const struct qr_map *m, struct qr_symbol **syms)
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
			qr_symbol_fill(&(*syms)[i++], zs, m);
		n = i;
	}
	zbar_image_destroy(zi);
	return n < 0 ? 0 : n;
}

static int
qr_scan_once(zbar_image_scanner_t *sc, const unsigned char *px, int w, int h,
    int num, int den, struct qr_symbol **syms)
{
	struct qr_map m = { num, den, NULL };

	return qr_scan_map(sc, px, w, h, &m, syms);
}

/* Tilted or turned past what zbar's own finder takes: frontal views through a homography. */
static int
qr_scan_warped(zbar_image_scanner_t *sc, const struct image *img, struct qr_symbol **syms)
{
	struct warp_view views[WARP_VIEWS];
	struct qr_map m = { 1, 1, NULL };
	int i, nv, n = 0;

	nv = warp_views(img, views, WARP_VIEWS);
	for (i = 0; i < nv; i++) {
		m.view = &views[i];
		if (n == 0)
			n = qr_scan_map(sc, views[i].img.px, views[i].img.w, views[i].img.h, &m, syms);
		image_free(&views[i].img);
	}
	return n;
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

/*
 * Codes drawn with terminal glyphs: light seams between glyphs, holes in
 * "##", gaps between lines. Closed at sizes from a seam to a whole character
 * cell (kernels in the caller's pixels; img may be a half-size copy: scale
 * 2), each shade in turn, as the code may be dark on light or inverted.
 */
static int
qr_scan_closed(zbar_image_scanner_t *sc, const struct image *img, int scale,
    struct qr_symbol **syms)
{
	static const int kernel[][2] = { { 3, 5 }, { 7, 12 }, { 10, 18 }, { 14, 24 } };
	struct image closed;
	size_t i;
	int n = 0, dark;

	for (i = 0; n == 0 && i < sizeof kernel / sizeof kernel[0]; i++) {
		for (dark = 1; n == 0 && dark >= 0; dark--) {
			image_close_gaps(img, (kernel[i][0] + scale - 1) / scale,
			    (kernel[i][1] + scale - 1) / scale, dark, &closed);
			n = qr_scan_once(sc, closed.px, closed.w, closed.h, scale, 1, syms);
			image_free(&closed);
		}
	}
	return n;
}

/*
 * zbar as is; then at half size (large noisy or blurred captures), through
 * a perspective correction (tilted photos, warp.c), at double size (one
 * pixel a module), and with the gaps of terminal glyphs closed. Each
 * retry runs only when everything before found nothing.
 */
int
qr_decode(const struct image *img, enum qr_decode_symbols which,
    struct qr_symbol **syms, char **cause)
{
	zbar_image_scanner_t *sc;
	struct image half = { 0, 0, NULL };
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
		half.px = qr_downscale(img, &half.w, &half.h);
		n = qr_scan_once(sc, half.px, half.w, half.h, 2, 1, syms);
	}
	/* Before the upscale, which costs four times a pass and never helps a photo. */
	if (n == 0)
		n = qr_scan_warped(sc, img, syms);
	if (n == 0 && img->w <= IMAGE_MAX_DIM / 2 && img->h <= IMAGE_MAX_DIM / 2) {
		px = qr_upscale(img, &w, &h);
		n = qr_scan_once(sc, px, w, h, 1, 2, syms);
		free(px);
	}
	/* Closing costs a pass a kernel: large images are closed at half size. */
	if (n == 0)
		n = img->w >= 512 && img->h >= 512 ? qr_scan_closed(sc, &half, 2, syms) :
		    qr_scan_closed(sc, img, 1, syms);
	image_free(&half);
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
