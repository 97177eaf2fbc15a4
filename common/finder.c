/*
 * QR finder patterns found by their 1:1:3:1:1 runs along rows, checked
 * along columns and rows again, then traced ray by ray to their corners.
 * A line through the centre of a finder crosses its three squares in the
 * same proportions at any angle, so neither rotation nor a moderate
 * perspective hides one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "finder.h"
#include "xmalloc.h"

#define BLK		8	/* binariser block side, pixels */
#define MIN_RANGE	24	/* a block flatter than this takes its neighbours' threshold */

static unsigned char *
block_points(const struct image *img, int bw, int bh)
{
	unsigned char *bp = xmalloc((size_t)bw * (size_t)bh);
	int bx, by, x, y, mn, mx, v, n, nb;
	long sum;

	for (by = 0; by < bh; by++)
		for (bx = 0; bx < bw; bx++) {
			mn = 255, mx = 0, sum = 0, n = 0;
			for (y = by * BLK; y < by * BLK + BLK && y < img->h; y++)
				for (x = bx * BLK; x < bx * BLK + BLK && x < img->w; x++) {
					v = img->px[(size_t)y * (size_t)img->w + (size_t)x];
					mn = v < mn ? v : mn;
					mx = v > mx ? v : mx;
					sum += v;
					n++;
				}
			v = (int)(sum / n);
			if (mx - mn <= MIN_RANGE) {
				/* Flat: inside a dark or a light area; lean on the blocks above and left. */
				v = mn / 2;
				if (bx > 0 && by > 0) {
					nb = (bp[(size_t)(by - 1) * (size_t)bw + (size_t)bx] +
					    2 * bp[(size_t)by * (size_t)bw + (size_t)bx - 1] +
					    bp[(size_t)(by - 1) * (size_t)bw + (size_t)bx - 1]) / 4;
					if (mn < nb)
						v = nb;
				}
			}
			bp[(size_t)by * (size_t)bw + (size_t)bx] = (unsigned char)v;
		}
	return bp;
}

void
finder_binarize(const struct image *img, struct finder_bitmap *bm)
{
	int bw = (img->w + BLK - 1) / BLK, bh = (img->h + BLK - 1) / BLK, bx, by, x, y, i, j, n;
	unsigned char *bp = block_points(img, bw, bh);
	size_t k;
	long sum;

	bm->w = img->w;
	bm->h = img->h;
	bm->dark = xmalloc((size_t)img->w * (size_t)img->h + 1);
	for (by = 0; by < bh; by++)
		for (bx = 0; bx < bw; bx++) {
			/* Each block's threshold: the mean of the 5x5 blocks around it. */
			sum = 0, n = 0;
			for (j = by - 2; j <= by + 2; j++)
				for (i = bx - 2; i <= bx + 2; i++)
					if (i >= 0 && j >= 0 && i < bw && j < bh) {
						sum += bp[(size_t)j * (size_t)bw + (size_t)i];
						n++;
					}
			for (y = by * BLK; y < by * BLK + BLK && y < img->h; y++)
				for (x = bx * BLK; x < bx * BLK + BLK && x < img->w; x++) {
					k = (size_t)y * (size_t)img->w + (size_t)x;
					bm->dark[k] = img->px[k] <= sum / n;
				}
		}
	free(bp);
}

void
finder_bitmap_free(struct finder_bitmap *bm)
{
	free(bm->dark);
	bm->dark = NULL;
}

static int
dark_at(const struct finder_bitmap *bm, int x, int y)
{
	return x >= 0 && y >= 0 && x < bm->w && y < bm->h &&
	    bm->dark[(size_t)y * (size_t)bm->w + (size_t)x];
}

/* Dark, light, dark (three), light, dark: 1:1:3:1:1 within half a module each. */
static int
ratio_ok(const int r[5])
{
	int total = r[0] + r[1] + r[2] + r[3] + r[4], i;
	double m = total / 7.0, tol = m * 0.5;

	if (total < 7)
		return 0;
	for (i = 0; i < 5; i++)
		if (i != 2 && fabs(r[i] - m) >= tol)
			return 0;
	return fabs(r[2] - 3 * m) < 3 * tol;
}

/*
 * The five runs through (x, y) along (dx, dy), the centre run holding it;
 * each run capped at max. Sets *centre (along the axis) and *total.
 */
static int
cross_check(const struct finder_bitmap *bm, int x, int y, int dx, int dy, int max,
    double *centre, int *total)
{
	int r[5] = { 0 }, i, s, px, py, want, back = 0;

	if (!dark_at(bm, x, y))
		return 0;
	for (s = -1; s <= 1; s += 2) {
		px = x, py = y;
		if (s > 0)
			px += dx, py += dy;
		/* Backwards: runs 2, 1, 0; forwards: 2, 3, 4. */
		for (i = 2, want = 1; i >= 0 && i <= 4; i += s, want = !want) {
			while (r[i] <= max && px >= 0 && py >= 0 && px < bm->w && py < bm->h &&
			    dark_at(bm, px, py) == want) {
				r[i]++;
				px += s * dx, py += s * dy;
			}
			if (r[i] == 0 || r[i] > max)
				return 0;
		}
		if (s < 0)
			back = r[2];
	}
	if (!ratio_ok(r))
		return 0;
	/* The centre run starts back - 1 pixels before (x, y). */
	*centre = (dx ? x : y) - (back - 1) + r[2] / 2.0;
	*total = r[0] + r[1] + r[2] + r[3] + r[4];
	return 1;
}

static int
add_candidate(struct finder *c, int n, double x, double y, double ms)
{
	int i;

	for (i = 0; i < n; i++) {
		if (fabs(x - c[i].x) <= 2 * c[i].ms && fabs(y - c[i].y) <= 2 * c[i].ms &&
		    ms < 2 * c[i].ms && c[i].ms < 2 * ms) {
			c[i].x = (c[i].x * c[i].hits + x) / (c[i].hits + 1);
			c[i].y = (c[i].y * c[i].hits + y) / (c[i].hits + 1);
			c[i].ms = (c[i].ms * c[i].hits + ms) / (c[i].hits + 1);
			c[i].hits++;
			return n;
		}
	}
	if (n == 4 * FINDER_MAX)
		return n;
	c[n].x = x, c[n].y = y, c[n].ms = ms, c[n].hits = 1;
	return n + 1;
}

/* Runs of one row: start and length of each, the first one dark or light as the row starts. */
static int
row_runs(const struct finder_bitmap *bm, int y, int *start, int *len, int *first_dark)
{
	const unsigned char *row = bm->dark + (size_t)y * (size_t)bm->w;
	int x, n = 0;

	*first_dark = row[0];
	start[0] = 0;
	for (x = 1; x <= bm->w; x++)
		if (x == bm->w || row[x] != row[x - 1]) {
			len[n] = x - start[n];
			n++;
			if (x < bm->w)
				start[n] = x;
		}
	return n;
}

static int
by_hits(const void *a, const void *b)
{
	return ((const struct finder *)b)->hits - ((const struct finder *)a)->hits;
}

int
finder_locate(const struct finder_bitmap *bm, struct finder *f, int max)
{
	struct finder c[4 * FINDER_MAX];
	int *start = xmalloc(sizeof *start * ((size_t)bm->w + 1));
	int *len = xmalloc(sizeof *len * ((size_t)bm->w + 1));
	int y, i, n, nc = 0, first_dark, r[5], k, total, vtotal, htotal;
	int step = bm->h > 1200 ? 2 : 1;
	double cx, cy, cx2;

	for (y = 0; y < bm->h; y += step) {
		n = row_runs(bm, y, start, len, &first_dark);
		for (i = first_dark ? 0 : 1; i + 4 < n; i += 2) {
			for (k = 0; k < 5; k++)
				r[k] = len[i + k];
			if (!ratio_ok(r))
				continue;
			total = r[0] + r[1] + r[2] + r[3] + r[4];
			cx = start[i + 2] + r[2] / 2.0;
			if (!cross_check(bm, (int)cx, y, 0, 1, total, &cy, &vtotal))
				continue;
			if (!cross_check(bm, (int)cx, (int)cy, 1, 0, 2 * total, &cx2, &htotal))
				continue;
			nc = add_candidate(c, nc, cx2, cy, (htotal + vtotal) / 14.0);
		}
	}
	free(start);
	free(len);
	qsort(c, (size_t)nc, sizeof c[0], by_hits);
	if (max > FINDER_MAX)
		max = FINDER_MAX;
	for (i = 0; i < nc && i < max && c[i].hits >= 2; i++)
		f[i] = c[i];
	return i;
}

/*
 * Where a ray from the centre along (dx, dy) (unit) leaves the outer dark
 * ring: dark, light, dark, then light. Half-pixel steps, at most limit px.
 */
static int
ray_edge(const struct finder_bitmap *bm, const struct finder *f, double dx, double dy,
    double limit, double p[2])
{
	double t, last = 0;
	int state = 0, d;	/* 0 centre, 1 light ring, 2 dark ring */

	for (t = 0; t < limit; t += 0.5) {
		d = dark_at(bm, (int)floor(f->x + t * dx), (int)floor(f->y + t * dy));
		if (state == 0 && !d)
			state = 1;
		else if (state == 1 && d)
			state = 2;
		else if (state == 2 && !d) {
			t = (last + t) / 2;
			p[0] = f->x + t * dx;
			p[1] = f->y + t * dy;
			return 0;
		}
		if (d)
			last = t;
	}
	return -1;
}

/* Total least squares: a point on the line and its direction; outliers dropped once. */
static int
fit_line(double pts[][2], int n, double ms, double line[4])
{
	double mx, my, sxx, syy, sxy, a, d;
	int i, k, pass;

	for (pass = 0; pass < 2; pass++) {
		if (n < 4)
			return -1;
		mx = my = sxx = syy = sxy = 0;
		for (i = 0; i < n; i++)
			mx += pts[i][0], my += pts[i][1];
		mx /= n, my /= n;
		for (i = 0; i < n; i++) {
			sxx += (pts[i][0] - mx) * (pts[i][0] - mx);
			syy += (pts[i][1] - my) * (pts[i][1] - my);
			sxy += (pts[i][0] - mx) * (pts[i][1] - my);
		}
		a = 0.5 * atan2(2 * sxy, sxx - syy);
		line[0] = mx, line[1] = my, line[2] = cos(a), line[3] = sin(a);
		for (i = k = 0; i < n; i++) {
			d = fabs((pts[i][0] - mx) * line[3] - (pts[i][1] - my) * line[2]);
			if (d <= (ms / 2 > 1 ? ms / 2 : 1)) {
				pts[k][0] = pts[i][0];
				pts[k][1] = pts[i][1];
				k++;
			}
		}
		n = k;
	}
	return 0;
}

static int
intersect(const double a[4], const double b[4], double p[2])
{
	double den = a[2] * b[3] - a[3] * b[2], t;

	if (fabs(den) < 1e-6)
		return -1;
	t = ((b[0] - a[0]) * b[3] - (b[1] - a[1]) * b[2]) / den;
	p[0] = a[0] + t * a[2];
	p[1] = a[1] + t * a[3];
	return 0;
}

int
finder_corners(const struct finder_bitmap *bm, const struct finder *f,
    const double u[2], const double v[2], double corner[4][2])
{
	/* Edges in the code's frame, by the angle of their outward normal: +u, +v, -u, -v. */
	double lines[4][4], pts[16][2], nu = hypot(u[0], u[1]), nv = hypot(v[0], v[1]);
	double th, dx, dy, dn, limit = 7 * f->ms;
	int e, k, n;

	if (!(nu > 0) || !(nv > 0))
		return -1;
	for (e = 0; e < 4; e++) {
		for (n = 0, k = -7; k <= 7; k++) {
			th = e * M_PI / 2 + k * (M_PI / 36);	/* 5 degrees a ray, 35 each side */
			dx = cos(th) * u[0] / nu + sin(th) * v[0] / nv;
			dy = cos(th) * u[1] / nu + sin(th) * v[1] / nv;
			if (!((dn = hypot(dx, dy)) > 1e-6))
				continue;
			if (ray_edge(bm, f, dx / dn, dy / dn, limit, pts[n]) == 0)
				n++;
		}
		if (fit_line(pts, n, f->ms, lines[e]) != 0)
			return -1;
	}
	/* corner 0 is -u -v: edges -u (2) and -v (3); then +u -v, +u +v, -u +v. */
	if (intersect(lines[2], lines[3], corner[0]) != 0 ||
	    intersect(lines[0], lines[3], corner[1]) != 0 ||
	    intersect(lines[0], lines[1], corner[2]) != 0 ||
	    intersect(lines[2], lines[1], corner[3]) != 0)
		return -1;
	for (k = 0; k < 4; k++)
		if (hypot(corner[k][0] - f->x, corner[k][1] - f->y) > limit)
			return -1;
	return 0;
}
