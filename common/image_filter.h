/* Image clean-ups before a decoder's retry: closing the gaps text renderings leave. */
#ifndef RTCS_IMAGE_FILTER_H
#define RTCS_IMAGE_FILTER_H
#include "image.h"

/*
 * A morphological closing of the dark (dark = 1) or light (dark = 0) parts
 * of img with a kw x kh rectangle: gaps narrower than the rectangle inside a
 * run of that shade are filled (the seams and glyph holes of a code drawn
 * with terminal glyphs), shapes larger than it are kept. Returns a new image
 * of the same size; kw and kh are clamped to 1..64.
 */
void	image_close_gaps(const struct image *img, int kw, int kh, int dark, struct image *out);
#endif
