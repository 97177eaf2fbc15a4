/* Finding codes in a grayscale image (zbar), with a second try at other scales. */
#ifndef RTCS_QR_DECODE_H
#define RTCS_QR_DECODE_H
#include <stddef.h>

#include "image.h"

#define QR_DECODE_MAX_POINTS 4

struct qr_symbol {
	char	*type;		/* zbar's name: "QR-Code", "EAN-13", ... */
	char	*data;		/* the payload bytes, NUL-terminated (may hold NULs) */
	size_t	 len;
	int	 x, y, w, h;	/* bounding box in image pixels */
	int	 npoints;	/* corner points (QR: 4), in image pixels */
	int	 px[QR_DECODE_MAX_POINTS], py[QR_DECODE_MAX_POINTS];
};

enum qr_decode_symbols { QR_DECODE_QR, QR_DECODE_ALL };

/*
 * Every symbol in img, in zbar's order. Returns the count (0 is "none"), or
 * -1 with *cause. Free with qr_symbols_free.
 */
int	qr_decode(const struct image *img, enum qr_decode_symbols which,
	    struct qr_symbol **syms, char **cause);
void	qr_symbols_free(struct qr_symbol *syms, int n);
#endif
