/* Binary PGM (P5) and PPM (P6) to 8-bit grayscale: strict header, no short data. */
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "xmalloc.h"

struct pnm_reader {
	const unsigned char	*p, *end;
};

/* Whitespace and '#' comments (to end of line) between header fields. */
static void
pnm_skip_space(struct pnm_reader *r)
{
	while (r->p < r->end) {
		if (*r->p == '#') {
			while (r->p < r->end && *r->p != '\n' && *r->p != '\r')
				r->p++;
		} else if (strchr(" \t\r\n\v\f", *r->p) != NULL && *r->p != '\0')
			r->p++;
		else
			break;
	}
}

/* A decimal field in [1, max], preceded by at least one separator. */
static int
pnm_field(struct pnm_reader *r, long max, long *out)
{
	const unsigned char *before = r->p;
	long v = 0;

	pnm_skip_space(r);
	if (r->p == before || r->p >= r->end || *r->p < '0' || *r->p > '9')
		return -1;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		v = v * 10 + (*r->p++ - '0');
		if (v > max)
			return -1;
	}
	if (v < 1)
		return -1;
	*out = v;
	return 0;
}

static unsigned char
pnm_sample(const unsigned char **p, long maxval)
{
	long v;

	if (maxval > 255) {
		v = ((*p)[0] << 8) | (*p)[1];
		*p += 2;
	} else
		v = *(*p)++;
	if (v > maxval)
		v = maxval;
	return (unsigned char)((v * 255 + maxval / 2) / maxval);
}

int
image_decode_pnm(const unsigned char *data, size_t len, struct image *img, char **cause)
{
	struct pnm_reader r = { data + 2, data + len };
	const unsigned char *p;
	long w, h, maxval;
	size_t need, i, n;
	int chans;

	if (len < 2 || data[0] != 'P' || (data[1] != '5' && data[1] != '6')) {
		*cause = xstrdup("bad PNM: not P5 or P6");
		return -1;
	}
	chans = data[1] == '6' ? 3 : 1;
	if (pnm_field(&r, 1000000, &w) != 0 || pnm_field(&r, 1000000, &h) != 0) {
		*cause = xstrdup("bad PNM header: width and height");
		return -1;
	}
	if (pnm_field(&r, 65535, &maxval) != 0) {
		*cause = xstrdup("bad PNM header: maxval (1 to 65535)");
		return -1;
	}
	/* Exactly one whitespace byte separates the header from the samples. */
	if (r.p >= r.end || strchr(" \t\r\n", *r.p) == NULL || *r.p == '\0') {
		*cause = xstrdup("bad PNM header: no whitespace after maxval");
		return -1;
	}
	r.p++;
	if (w > IMAGE_MAX_DIM || h > IMAGE_MAX_DIM) {
		*cause = xprintf("image too large (%ldx%ld, limit %dx%d)", w, h,
		    IMAGE_MAX_DIM, IMAGE_MAX_DIM);
		return -1;
	}
	n = (size_t)w * (size_t)h;
	need = n * (size_t)chans * (maxval > 255 ? 2 : 1);
	if ((size_t)(r.end - r.p) < need) {
		*cause = xprintf("truncated PNM: %zu of %zu sample bytes",
		    (size_t)(r.end - r.p), need);
		return -1;
	}
	img->px = xmalloc(n);
	p = r.p;
	for (i = 0; i < n; i++) {
		if (chans == 1)
			img->px[i] = pnm_sample(&p, maxval);
		else {
			unsigned int rr = pnm_sample(&p, maxval);
			unsigned int gg = pnm_sample(&p, maxval);
			unsigned int bb = pnm_sample(&p, maxval);
			img->px[i] = (unsigned char)((rr * 299 + gg * 587 + bb * 114 + 500) / 1000);
		}
	}
	img->w = (int)w;
	img->h = (int)h;
	return 0;
}
