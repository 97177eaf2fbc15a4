/*
 * Perspective correction for codes zbar misses. Three finder patterns are
 * picked as the corner and the ends of a code's two edges; each one's four
 * corners, with their places in the module grid, fit a homography; the code
 * is resampled through it at the estimated version and its neighbours.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "finder.h"
#include "warp.h"
#include "xmalloc.h"

/* The three finders: [0] the corner (top left), [1] along u (top right), [2] along v (bottom left). */
struct warp_triple {
	struct finder	f[3];
	double			score;
};

/* How far a, b (the corner), c are from a code's three finders: 0 is a perfect right isosceles. */
static double
triple_score(const struct finder *a, const struct finder *b, const struct finder *c)
{
	double ux = a->x - b->x, uy = a->y - b->y, vx = c->x - b->x, vy = c->y - b->y;
	double lu = hypot(ux, uy), lv = hypot(vx, vy), cosb, ratio, ms;

	if (!(lu > 0) || !(lv > 0))
		return INFINITY;
	cosb = (ux * vx + uy * vy) / (lu * lv);
	ratio = fabs(log(lu / lv));
	ms = fabs(log(a->ms / b->ms)) + fabs(log(c->ms / b->ms));
	/* At least 14 modules apart (version 1), angle 60 to 120 degrees, sides within 2x. */
	if (fabs(cosb) > 0.5 || ratio > log(2.0) || lu < 7 * b->ms || lv < 7 * b->ms || ms > 2)
		return INFINITY;
	return fabs(cosb) + ratio + ms / 2;
}

static int
best_triple(const struct finder *f, int n, struct warp_triple *t)
{
	int i, j, k;
	double s, cross;

	t->score = INFINITY;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			for (k = j + 1; k < n; k++) {
				if (i == j || i == k)
					continue;
				if ((s = triple_score(&f[j], &f[i], &f[k])) >= t->score)
					continue;
				t->score = s;
				t->f[0] = f[i];
				/* y grows downwards: u x v > 0 when u points right and v down. */
				cross = (f[j].x - f[i].x) * (f[k].y - f[i].y) -
				    (f[j].y - f[i].y) * (f[k].x - f[i].x);
				t->f[1] = cross > 0 ? f[j] : f[k];
				t->f[2] = cross > 0 ? f[k] : f[j];
			}
	return isfinite(t->score) ? 0 : -1;
}

/*
 * The correspondences for a code of n modules: each finder's corners where
 * they were traced, else its centre; a parallelogram's fourth point when
 * only the three centres are known (an affine fit).
 */
static int
correspondences(const struct warp_triple *t, const double corner[3][4][2], const int traced[3],
    int n, double mod[][2], double img[][2])
{
	/* Each finder's top-left module, and its corners' offsets from it. */
	const double origin[3][2] = { { 0, 0 }, { n - 7, 0 }, { 0, n - 7 } };
	static const double off[4][2] = { { 0, 0 }, { 7, 0 }, { 7, 7 }, { 0, 7 } };
	int i, k, np = 0;

	for (i = 0; i < 3; i++) {
		if (!traced[i]) {
			mod[np][0] = origin[i][0] + 3.5;
			mod[np][1] = origin[i][1] + 3.5;
			img[np][0] = t->f[i].x;
			img[np][1] = t->f[i].y;
			np++;
			continue;
		}
		for (k = 0; k < 4; k++) {
			mod[np][0] = origin[i][0] + off[k][0];
			mod[np][1] = origin[i][1] + off[k][1];
			img[np][0] = corner[i][k][0];
			img[np][1] = corner[i][k][1];
			np++;
		}
	}
	if (np == 3) {
		mod[3][0] = n - 3.5, mod[3][1] = n - 3.5;
		img[3][0] = img[1][0] + img[2][0] - img[0][0];
		img[3][1] = img[1][1] + img[2][1] - img[0][1];
		np = 4;
	}
	return np;
}

/* Bilinear, between pixel centres; white outside the image. */
static unsigned char
sample(const struct image *img, double x, double y)
{
	int x0, y0, i, j;
	double fx, fy, v = 0, p;

	x -= 0.5, y -= 0.5;
	if (!(x > -1 && y > -1 && x < img->w && y < img->h))
		return 255;
	x0 = (int)floor(x), y0 = (int)floor(y);
	fx = x - x0, fy = y - y0;
	for (j = 0; j < 2; j++)
		for (i = 0; i < 2; i++) {
			int xi = x0 + i, yj = y0 + j;
			p = xi < 0 || yj < 0 || xi >= img->w || yj >= img->h ? 255 :
			    img->px[(size_t)yj * (size_t)img->w + (size_t)xi];
			v += p * (i ? fx : 1 - fx) * (j ? fy : 1 - fy);
		}
	return (unsigned char)(v + 0.5);
}

static void
render_view(const struct image *src, struct warp_view *v)
{
	int side = (v->modules + 2 * WARP_MARGIN) * WARP_SCALE, x, y;
	double sx, sy;

	v->img.w = v->img.h = side;
	v->img.px = xmalloc((size_t)side * (size_t)side);
	for (y = 0; y < side; y++)
		for (x = 0; x < side; x++) {
			warp_view_to_source(v, x + 0.5, y + 0.5, &sx, &sy);
			v->img.px[(size_t)y * (size_t)side + (size_t)x] = sample(src, sx, sy);
		}
}

void
warp_view_to_source(const struct warp_view *v, double x, double y, double *sx, double *sy)
{
	if (homography_map(&v->hg, x / WARP_SCALE - WARP_MARGIN,
	    y / WARP_SCALE - WARP_MARGIN, sx, sy) != 0)
		*sx = *sy = -1;
}

/*
 * The finders of a dark-on-light code, else of a light-on-dark one: the
 * negative is binarised afresh, as the binariser's treatment of flat areas
 * is not symmetric.
 */
static int
find_triple(const struct image *img, struct finder_bitmap *bm, struct warp_triple *t)
{
	struct finder f[FINDER_MAX];
	struct image neg;
	size_t i, n = (size_t)img->w * (size_t)img->h;
	int nf;

	finder_binarize(img, bm);
	if ((nf = finder_locate(bm, f, FINDER_MAX)) >= 3 && best_triple(f, nf, t) == 0)
		return 0;
	finder_bitmap_free(bm);
	neg.w = img->w, neg.h = img->h;
	neg.px = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		neg.px[i] = (unsigned char)(255 - img->px[i]);
	finder_binarize(&neg, bm);
	image_free(&neg);
	if ((nf = finder_locate(bm, f, FINDER_MAX)) >= 3 && best_triple(f, nf, t) == 0)
		return 0;
	return -1;
}

int
warp_views(const struct image *img, struct warp_view *views, int max)
{
	struct finder_bitmap bm;
	struct warp_triple t;
	double corner[3][4][2], u[2], v[2], mod[12][2], pts[12][2], ms[3], side, est;
	int traced[3], i, k, np, version, nv = 0, d;
	static const int tries[WARP_VIEWS] = { 0, -1, 1 };

	if (find_triple(img, &bm, &t) != 0) {
		finder_bitmap_free(&bm);
		return 0;
	}
	for (i = 0; i < 3; i++) {
		/* Each finder's axes point to its neighbours, or away from them. */
		const struct finder *o = &t.f[0], *a = &t.f[1], *b = &t.f[2];
		u[0] = a->x - o->x, u[1] = a->y - o->y;
		v[0] = b->x - o->x, v[1] = b->y - o->y;
		traced[i] = finder_corners(&bm, &t.f[i], u, v, corner[i]) == 0;
		ms[i] = t.f[i].ms;
		if (traced[i]) {
			for (side = 0, k = 0; k < 4; k++)
				side += hypot(corner[i][k][0] - corner[i][(k + 1) % 4][0],
				    corner[i][k][1] - corner[i][(k + 1) % 4][1]);
			ms[i] = side / 28;
		}
	}
	finder_bitmap_free(&bm);
	/* Modules between centres: n - 7 along each edge. */
	est = (hypot(t.f[1].x - t.f[0].x, t.f[1].y - t.f[0].y) / ((ms[0] + ms[1]) / 2) +
	    hypot(t.f[2].x - t.f[0].x, t.f[2].y - t.f[0].y) / ((ms[0] + ms[2]) / 2)) / 2 + 7;
	if (!(est >= 14 && est <= 200))	/* not a code between versions 1 and 40 */
		return 0;
	version = (int)floor((est - 17) / 4 + 0.5);
	if (max > WARP_VIEWS)
		max = WARP_VIEWS;
	for (k = 0; k < WARP_VIEWS && nv < max; k++) {
		if ((d = version + tries[k]) < 1 || d > 40)
			continue;
		views[nv].modules = 17 + 4 * d;
		np = correspondences(&t, corner, traced, views[nv].modules, mod, pts);
		if (homography_fit(mod, pts, np, &views[nv].hg) != 0)
			continue;
		render_view(img, &views[nv]);
		nv++;
	}
	return nv;
}
