/*
 * QR finder patterns (the three 7x7 squares in a code's corners) found by
 * their 1:1:3:1:1 runs, and the corners of each, in a binarised image: the
 * geometry zbar keeps to itself, for a perspective correction (warp.c).
 */
#ifndef RTCS_FINDER_H
#define RTCS_FINDER_H
#include "image.h"

/* One byte a pixel: 1 dark, 0 light. */
struct finder_bitmap {
	int		 w, h;
	unsigned char	*dark;
};

struct finder {
	double	x, y;		/* centre, in pixels */
	double	ms;		/* module size along rows and columns (over by up to sqrt 2 when turned) */
	int	hits;		/* rows whose scan confirmed it */
};

#define FINDER_MAX	16

/* Local-mean threshold over 8x8 blocks (as ZXing's hybrid binariser): uneven light is fine. */
void	finder_binarize(const struct image *img, struct finder_bitmap *bm);
void	finder_bitmap_free(struct finder_bitmap *bm);
/* Up to max (at most FINDER_MAX) finders seen on two rows or more, most hits first. */
int	finder_locate(const struct finder_bitmap *bm, struct finder *f, int max);
/*
 * The outer corners of finder f, whose code's axes point along u and v
 * (any length; from this finder towards the other two): corner[0] is on
 * the -u -v side, then +u -v, +u +v, -u +v. Each edge is a line fitted to
 * where rays from the centre leave the dark ring. Returns -1 when an edge
 * cannot be traced.
 */
int	finder_corners(const struct finder_bitmap *bm, const struct finder *f,
	    const double u[2], const double v[2], double corner[4][2]);
#endif
