/* Images for decoding: PNG, binary PGM/PPM into 8-bit grayscale, under strict limits. */
#ifndef RTCS_IMAGE_H
#define RTCS_IMAGE_H
#include <stddef.h>

#define IMAGE_MAX_DIM	4096
/* Largest input accepted: a 4096x4096 16-bit PPM plus a generous header. */
#define IMAGE_MAX_FILE	((size_t)IMAGE_MAX_DIM * IMAGE_MAX_DIM * 6 + 65536)

/* What went wrong, so callers can tell "no such input" from "bad image". */
enum image_error {
	IMAGE_OK = 0,
	IMAGE_MISSING,		/* no such file, not a regular file, not readable */
	IMAGE_BAD,		/* not an image we take, corrupt, truncated, too large */
	IMAGE_IO		/* read error */
};

struct image {
	int		 w, h;
	unsigned char	*px;	/* w * h bytes, row after row, 0 black .. 255 white */
};

/* Reads a whole file (or stdin for "-") of at most IMAGE_MAX_FILE bytes. */
int	image_read_input(const char *path, unsigned char **data, size_t *len,
	    enum image_error *err, char **cause);
/* Decodes PNG, P5 or P6 by magic bytes; on failure the error is IMAGE_BAD. */
int	image_decode(const unsigned char *data, size_t len, struct image *img, char **cause);
/* image_read_input then image_decode. */
int	image_load(const char *path, struct image *img, enum image_error *err, char **cause);
void	image_free(struct image *img);

/* The two decoders behind image_decode (image_png.c, image_pnm.c). */
int	image_decode_png(const unsigned char *data, size_t len, struct image *img, char **cause);
int	image_decode_pnm(const unsigned char *data, size_t len, struct image *img, char **cause);
#endif
