/*
 * Perspective correction for codes zbar misses: three finder patterns
 * (finder.c), a homography from their corners to the code's modules, and
 * frontal views of the code resampled through it, for zbar to read again.
 */
#ifndef RTCS_WARP_H
#define RTCS_WARP_H
#include "homography.h"
#include "image.h"

#define WARP_SCALE	4	/* pixels a module in a view */
#define WARP_MARGIN	4	/* modules of quiet zone around it */
#define WARP_VIEWS	3	/* the estimated version and its two neighbours */

struct warp_view {
	struct image		img;	/* the code seen from the front */
	int			modules;
	struct homography	hg;	/* module coordinates -> source pixels */
};

/*
 * Frontal views of the most likely code in img, up to max (at most
 * WARP_VIEWS), one a version tried; 0 when no three finder patterns
 * make a code. Free each view's image with image_free.
 */
int	warp_views(const struct image *img, struct warp_view *views, int max);
/* A view's pixel back to the source image's pixels. */
void	warp_view_to_source(const struct warp_view *v, double x, double y, double *sx, double *sy);
#endif
