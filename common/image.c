/* Reading an image input (file or stdin) under a size cap and picking its decoder. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "image.h"
#include "xmalloc.h"

static int
image_read_fd(int fd, const char *name, unsigned char **data, size_t *len,
    enum image_error *err, char **cause)
{
	char *why = NULL;

	if (fs_read_fd(fd, IMAGE_MAX_FILE, (char **)data, len, &why) == 0)
		return 0;
	if (errno == EFBIG) {
		*err = IMAGE_BAD;
		*cause = xprintf("%s: too large (over %zu bytes)", name, (size_t)IMAGE_MAX_FILE);
	} else {
		*err = IMAGE_IO;
		*cause = xprintf("cannot read %s: %s", name, why);
	}
	free(why);
	return -1;
}

/*
 * A missing, unopenable or special path (a FIFO is fine: <(cmd)) is IMAGE_MISSING (exit 66 in the
 * programs); the size is checked on the descriptor before anything is read.
 */
int
image_read_input(const char *path, unsigned char **data, size_t *len,
    enum image_error *err, char **cause)
{
	struct stat sb;
	int fd, rc;

	*err = IMAGE_OK;
	if (strcmp(path, "-") == 0)
		return image_read_fd(STDIN_FILENO, "standard input", data, len, err, cause);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		*err = errno == EIO ? IMAGE_IO : IMAGE_MISSING;
		*cause = xprintf("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !(S_ISREG(sb.st_mode) || S_ISFIFO(sb.st_mode))) {
		*err = IMAGE_MISSING;
		*cause = xprintf("cannot read %s: %s", path,
		    S_ISDIR(sb.st_mode) ? "Is a directory" : "not a regular file");
		close(fd);
		return -1;
	}
	if ((size_t)sb.st_size > IMAGE_MAX_FILE) {
		*err = IMAGE_BAD;
		*cause = xprintf("%s: too large (over %zu bytes)", path, IMAGE_MAX_FILE);
		close(fd);
		return -1;
	}
	/* O_NONBLOCK only kept open() from hanging on a FIFO without writer. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	rc = image_read_fd(fd, path, data, len, err, cause);
	close(fd);
	return rc;
}

int
image_decode(const unsigned char *data, size_t len, struct image *img, char **cause)
{
	static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	img->w = img->h = 0;
	img->px = NULL;
	if (len == 0) {
		*cause = xstrdup("empty file");
		return -1;
	}
	if (len >= sizeof png_magic && memcmp(data, png_magic, sizeof png_magic) == 0)
		return image_decode_png(data, len, img, cause);
	if (len >= 2 && data[0] == 'P' && (data[1] == '5' || data[1] == '6'))
		return image_decode_pnm(data, len, img, cause);
	*cause = xstrdup("not a PNG, PGM or PPM image");
	return -1;
}

int
image_load(const char *path, struct image *img, enum image_error *err, char **cause)
{
	unsigned char *data;
	size_t len;
	char *why = NULL;
	int rc;

	if (image_read_input(path, &data, &len, err, cause) != 0)
		return -1;
	rc = image_decode(data, len, img, &why);
	free(data);
	if (rc != 0) {
		*err = IMAGE_BAD;
		*cause = xprintf("%s: %s", strcmp(path, "-") == 0 ? "standard input" : path, why);
		free(why);
	}
	return rc;
}

void
image_free(struct image *img)
{
	free(img->px);
	img->px = NULL;
	img->w = img->h = 0;
}
