/* libFuzzer target: the PGM/PPM reader (and the format dispatch in front of it). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "image.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image img;
	char *cause = NULL;

	if (image_decode_pnm(data, size, &img, &cause) == 0) {
		if (img.w < 1 || img.h < 1 || img.w > IMAGE_MAX_DIM || img.h > IMAGE_MAX_DIM)
			abort();
		image_free(&img);
	} else
		free(cause);
	if (image_decode(data, size, &img, &cause) == 0)
		image_free(&img);
	else
		free(cause);
	return 0;
}
