/*
 * libFuzzer target: the perspective retry without zbar. The first two bytes
 * are the image's width and height (1 to 256 each), the rest its gray pixels
 * (repeated to fill): binarising, finding finder patterns, tracing their
 * corners, fitting homographies and resampling views must hold on anything.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "finder.h"
#include "homography.h"
#include "image.h"
#include "warp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image img;
	struct finder_bitmap bm;
	struct finder f[FINDER_MAX];
	struct warp_view views[WARP_VIEWS];
	double u[2] = { 1, 0 }, v[2] = { 0, 1 }, corner[4][2], x, y;
	size_t i, n;
	int k, nf, nv;

	if (size < 3)
		return 0;
	img.w = data[0] + 1;
	img.h = data[1] + 1;
	n = (size_t)img.w * (size_t)img.h;
	img.px = malloc(n);
	for (i = 0; i < n; i++)
		img.px[i] = data[2 + i % (size - 2)];
	finder_binarize(&img, &bm);
	nf = finder_locate(&bm, f, FINDER_MAX);
	for (k = 0; k < nf; k++)
		(void)finder_corners(&bm, &f[k], u, v, corner);
	finder_bitmap_free(&bm);
	nv = warp_views(&img, views, WARP_VIEWS);
	for (k = 0; k < nv; k++) {
		warp_view_to_source(&views[k], 0, 0, &x, &y);
		image_free(&views[k].img);
	}
	free(img.px);
	return 0;
}
