/* Image clean-ups before a decoder's retry: closing the gaps text renderings leave. */
#include <stdlib.h>
#include <string.h>

#include "image_filter.h"
#include "xmalloc.h"

/*
 * The minimum (want_max 0) or maximum of every window of k samples centred
 * on each of n samples a stride apart, in place: van Herk / Gil-Werman, three
 * comparisons a sample whatever k. Past the ends the window is cut short, or,
 * with pad, reads as the extreme it looks for (a window off the image gives 0
 * or 255).
 */
static void
filter_line(unsigned char *p, size_t stride, int n, int k, int want_max, int pad,
    unsigned char *buf, unsigned char *g, unsigned char *h)
{
	int i, j, lo, hi, r = k / 2;
	unsigned char a, b;

#define BEST(x, y) (want_max ? ((x) > (y) ? (x) : (y)) : ((x) < (y) ? (x) : (y)))
	for (i = 0; i < n; i++)
		buf[i] = p[(size_t)i * stride];
	/* g: running best from each block's start; h: from each block's end. */
	for (i = 0; i < n; i++)
		g[i] = i % k == 0 ? buf[i] : BEST(g[i - 1], buf[i]);
	for (i = n - 1; i >= 0; i--)
		h[i] = (i % k == k - 1 || i == n - 1) ? buf[i] : BEST(h[i + 1], buf[i]);
	for (i = 0; i < n; i++) {
		lo = i - r < 0 ? 0 : i - r;
		hi = i - r + k - 1 >= n ? n - 1 : i - r + k - 1;
		if (pad && (lo != i - r || hi != i - r + k - 1)) {
			p[(size_t)i * stride] = want_max ? 255 : 0;
			continue;
		}
		/* [lo, hi] spans at most two blocks: h from lo, g up to hi. */
		if (lo / k == hi / k) {
			a = buf[lo];
			for (j = lo + 1; j <= hi; j++)
				a = BEST(a, buf[j]);
			p[(size_t)i * stride] = a;
			continue;
		}
		a = h[lo];
		b = g[hi];
		p[(size_t)i * stride] = BEST(a, b);
	}
#undef BEST
}

/* Every row, then every column, of px filtered with a kw x kh window. */
static void
filter_rect(unsigned char *px, int w, int h, int kw, int kh, int want_max, int pad)
{
	int n = w > h ? w : h, y, x;
	unsigned char *buf = xmalloc((size_t)n * 3);

	if (kw > 1)
		for (y = 0; y < h; y++)
			filter_line(px + (size_t)y * (size_t)w, 1, w, kw, want_max, pad, buf, buf + n,
			    buf + 2 * n);
	if (kh > 1)
		for (x = 0; x < w; x++)
			filter_line(px + x, (size_t)w, h, kh, want_max, pad, buf, buf + n, buf + 2 * n);
	free(buf);
}

void
image_close_gaps(const struct image *img, int kw, int kh, int dark, struct image *out)
{
	size_t n = (size_t)img->w * (size_t)img->h, i;

	kw = kw < 1 ? 1 : kw > 64 ? 64 : kw;
	kh = kh < 1 ? 1 : kh > 64 ? 64 : kh;
	out->w = img->w;
	out->h = img->h;
	out->px = xmalloc(n + 1);
	memcpy(out->px, img->px, n);
	/*
	 * Dark closed: spread the dark (minimum), then give the light back
	 * (maximum), the outside counting as light so nothing grows from the
	 * edges; no pixel ends up lighter than it was.
	 */
	filter_rect(out->px, out->w, out->h, kw, kh, !dark, 0);
	filter_rect(out->px, out->w, out->h, kw, kh, dark, 1);
	for (i = 0; i < n; i++)
		if (dark ? img->px[i] < out->px[i] : img->px[i] > out->px[i])
			out->px[i] = img->px[i];
}
