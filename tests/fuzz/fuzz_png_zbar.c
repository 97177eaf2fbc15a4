/* libFuzzer target: PNG (or PNM) decoding, then zbar on whatever image comes out. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "image.h"
#include "qr_decode.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image img;
	struct qr_symbol *syms;
	char *cause = NULL;
	int n;

	if (image_decode(data, size, &img, &cause) != 0) {
		free(cause);
		return 0;
	}
	/* Keep each run short: zbar on a 4096x4096 image takes a while. */
	if ((long)img.w * img.h <= 512 * 512) {
		n = qr_decode(&img, QR_DECODE_QR, &syms, &cause);
		if (n >= 0)
			qr_symbols_free(syms, n);
		else
			free(cause);
	}
	image_free(&img);
	return 0;
}
