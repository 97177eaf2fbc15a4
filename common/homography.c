/* Plane projective transforms (homographies): fitted to point pairs, applied to points. */
#include <math.h>
#include <string.h>

#include "homography.h"

/* Centroid to the origin, mean distance sqrt(2): t = [s 0 tx; 0 s ty]. */
static int
hg_normaliser(const double p[][2], int n, double t[3])
{
	double cx = 0, cy = 0, d = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (!isfinite(p[i][0]) || !isfinite(p[i][1]))
			return -1;
		cx += p[i][0];
		cy += p[i][1];
	}
	cx /= n;
	cy /= n;
	for (i = 0; i < n; i++)
		d += hypot(p[i][0] - cx, p[i][1] - cy);
	d /= n;
	if (!(d > 1e-9))
		return -1;
	t[0] = sqrt(2.0) / d;
	t[1] = -cx * t[0];
	t[2] = -cy * t[0];
	return 0;
}

/* Solves the 8x8 system a x = b in place (partial pivoting); -1 when singular. */
static int
hg_solve8(double a[8][8], double b[8], double x[8])
{
	int i, j, k, p;
	double f, tmp;

	for (i = 0; i < 8; i++) {
		p = i;
		for (k = i + 1; k < 8; k++)
			if (fabs(a[k][i]) > fabs(a[p][i]))
				p = k;
		if (fabs(a[p][i]) < 1e-12)
			return -1;
		if (p != i) {
			for (j = 0; j < 8; j++) {
				tmp = a[i][j]; a[i][j] = a[p][j]; a[p][j] = tmp;
			}
			tmp = b[i]; b[i] = b[p]; b[p] = tmp;
		}
		for (k = i + 1; k < 8; k++) {
			f = a[k][i] / a[i][i];
			for (j = i; j < 8; j++)
				a[k][j] -= f * a[i][j];
			b[k] -= f * b[i];
		}
	}
	for (i = 7; i >= 0; i--) {
		f = b[i];
		for (j = i + 1; j < 8; j++)
			f -= a[i][j] * x[j];
		x[i] = f / a[i][i];
	}
	return 0;
}

/*
 * With h8 = 1 each pair gives two linear equations in h0..h7:
 *   h0 x + h1 y + h2 - h6 x u - h7 y u = u,  h3 x + h4 y + h5 - h6 x v - h7 y v = v;
 * the normal equations of all of them are solved, in normalised coordinates.
 */
int
homography_fit(const double src[][2], const double dst[][2], int n, struct homography *hg)
{
	double ts[3], td[3], ata[8][8], atb[8], x[8], r[2][8], rhs[2], m[9], s, u, v, xs, ys;
	int i, j, k, e;

	if (n < 4 || n > HOMOGRAPHY_MAX_POINTS || hg_normaliser(src, n, ts) != 0 ||
	    hg_normaliser(dst, n, td) != 0)
		return -1;
	memset(ata, 0, sizeof ata);
	memset(atb, 0, sizeof atb);
	for (i = 0; i < n; i++) {
		xs = src[i][0] * ts[0] + ts[1];
		ys = src[i][1] * ts[0] + ts[2];
		u = dst[i][0] * td[0] + td[1];
		v = dst[i][1] * td[0] + td[2];
		double row[2][8] = {
			{ xs, ys, 1, 0, 0, 0, -xs * u, -ys * u },
			{ 0, 0, 0, xs, ys, 1, -xs * v, -ys * v },
		};
		memcpy(r, row, sizeof r);
		rhs[0] = u;
		rhs[1] = v;
		for (e = 0; e < 2; e++)
			for (j = 0; j < 8; j++) {
				atb[j] += r[e][j] * rhs[e];
				for (k = 0; k < 8; k++)
					ata[j][k] += r[e][j] * r[e][k];
			}
	}
	if (hg_solve8(ata, atb, x) != 0)
		return -1;
	/* Undo the normalisations: H = Td^-1 Hn Ts. */
	for (i = 0; i < 8; i++)
		m[i] = x[i];
	m[8] = 1;
	/* A singular map flattens the plane onto a line: three points were in a row. */
	if (fabs(m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
	    m[2] * (m[3] * m[7] - m[4] * m[6])) < 1e-6)
		return -1;
	s = 1 / td[0];
	for (j = 0; j < 3; j++) {
		double c0 = m[j], c1 = m[3 + j], c2 = m[6 + j];
		m[j] = s * (c0 - td[1] * c2);
		m[3 + j] = s * (c1 - td[2] * c2);
		m[6 + j] = c2;
	}
	for (i = 0; i < 3; i++) {
		double a0 = m[3 * i], a1 = m[3 * i + 1], a2 = m[3 * i + 2];
		hg->h[3 * i] = a0 * ts[0];
		hg->h[3 * i + 1] = a1 * ts[0];
		hg->h[3 * i + 2] = a0 * ts[1] + a1 * ts[2] + a2;
	}
	for (i = 0; i < 9; i++)
		if (!isfinite(hg->h[i]))
			return -1;
	return 0;
}

int
homography_map(const struct homography *hg, double x, double y, double *ox, double *oy)
{
	const double *h = hg->h;
	double w = h[6] * x + h[7] * y + h[8];

	if (fabs(w) < 1e-12)
		return -1;
	*ox = (h[0] * x + h[1] * y + h[2]) / w;
	*oy = (h[3] * x + h[4] * y + h[5]) / w;
	return 0;
}
