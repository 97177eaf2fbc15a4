/* Plane projective transforms (homographies): fitted to point pairs, applied to points. */
#ifndef RTCS_HOMOGRAPHY_H
#define RTCS_HOMOGRAPHY_H

/* h maps (x, y) to ((h0 x + h1 y + h2) / w, (h3 x + h4 y + h5) / w), w = h6 x + h7 y + h8. */
struct homography {
	double	h[9];
};

/*
 * The homography taking each src[i] to dst[i], in the least-squares sense
 * for more than 4 pairs (points normalised first, as Hartley advises).
 * n is 4 to HOMOGRAPHY_MAX_POINTS. Returns -1 for a degenerate set (three
 * points on a line, repeated points, non-finite input).
 */
#define HOMOGRAPHY_MAX_POINTS	64
int	homography_fit(const double src[][2], const double dst[][2], int n, struct homography *hg);
/* Returns -1 where the point maps to infinity (w near 0). */
int	homography_map(const struct homography *hg, double x, double y, double *ox, double *oy);
#endif
