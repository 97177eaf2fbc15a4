/* File-system helpers: private directories and atomic, durable file replacement. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "rand.h"
#include "xmalloc.h"

/*
 * Creates path and its missing parents (0700); the last component must end up
 * a directory owned by us and not open to group or others, as tmux checks.
 */
int
fs_mkdir_private(const char *path, char **cause)
{
	char *p = xstrdup(path), *s;
	struct stat sb;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			goto fail;
		*s = '/';
	}
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		goto fail;
	if (lstat(p, &sb) != 0)
		goto fail;
	if (!S_ISDIR(sb.st_mode)) {
		*cause = xprintf("%s: not a directory", path);
		free(p);
		return -1;
	}
	if (sb.st_uid != getuid() || (sb.st_mode & 077) != 0) {
		*cause = xprintf("%s: unsafe permissions (must be 0700 and ours)", path);
		free(p);
		return -1;
	}
	free(p);
	return 0;
fail:
	*cause = xprintf("cannot create %s: %s", p, strerror(errno));
	free(p);
	return -1;
}

int
fs_fsync_dir(const char *dir, char **cause)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		*cause = xprintf("cannot sync %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Replaces dir/name with data (mode 0600): write to tmpdir (same file
 * system), fsync, rename, fsync dir. With durable 0 the fsyncs are skipped.
 */
int
fs_write_tmp(const char *dir, const char *name, const char *tmpdir, const void *data,
    size_t len, char **tmp, char **dst, char **cause)
{
	char *rnd = rand_base32(5);
	int fd, e;

	*tmp = xprintf("%s/.%s.%s", tmpdir ? tmpdir : dir, name, rnd);
	*dst = xprintf("%s/%s", dir, name);
	free(rnd);
	if ((fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) >= 0 &&
	    fs_write_all(fd, data, len) == 0)
		return fd;
	e = errno;
	if (fd >= 0) {
		close(fd);
		unlink(*tmp);
	}
	*cause = xprintf("cannot write %s: %s", *dst, strerror(e));
	free(*tmp);
	free(*dst);
	*tmp = *dst = NULL;
	errno = e;
	return -1;
}

int
fs_write_atomic(const char *dir, const char *name, const char *tmpdir,
    const void *data, size_t len, int durable, char **cause)
{
	char *tmp, *dst;
	int fd, e;

	if ((fd = fs_write_tmp(dir, name, tmpdir, data, len, &tmp, &dst, cause)) < 0)
		return -1;
	e = durable && fsync(fd) != 0 ? errno : 0;
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e == 0 && rename(tmp, dst) != 0)
		e = errno;
	if (e != 0) {
		unlink(tmp);
		*cause = xprintf("cannot write %s: %s", dst, strerror(e));
		free(tmp);
		free(dst);
		errno = e;
		return -1;
	}
	free(tmp);
	free(dst);
	if (durable && fs_fsync_dir(dir, cause) != 0)
		return FS_REPLACED_UNSYNCED;	/* replaced, durability unknown */
	return 0;
}

/* Reads a whole regular file of at most max bytes; data is NUL-terminated. */
int
fs_read_file(const char *path, size_t max, char **data, size_t *len, char **cause)
{
	struct stat sb;
	char *buf;
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		int e = errno;
		*cause = xprintf("cannot read %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		*cause = xprintf("cannot read %s: %s", path,
		    S_ISDIR(sb.st_mode) ? "Is a directory" : "not a regular file");
		close(fd);
		return -1;
	}
	if ((size_t)sb.st_size > max) {
		*cause = xprintf("%s: too large (over %zu bytes)", path, max);
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		n = read(fd, buf + off, (size_t)sb.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* A read error is never a shorter file. */
			int e = errno;
			*cause = xprintf("cannot read %s: %s", path, strerror(e));
			free(buf);
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*data = buf;
	*len = off;
	return 0;
}

/* Reads fd to its end; more than max bytes fails with errno EFBIG. */
int
fs_read_fd(int fd, size_t max, char **data, size_t *len, char **cause)
{
	size_t off = 0, cap = 0;
	char *buf = NULL;
	ssize_t n;

	for (;;) {
		if (off == cap) {
			if (cap > max) {
				free(buf);
				*cause = xprintf("more than %zu bytes", max);
				errno = EFBIG;
				return -1;
			}
			cap = cap ? cap * 2 : 65536;
			if (cap > max + 1)
				cap = max + 1;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + off, cap - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*cause = xstrdup(strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off > max) {
		free(buf);
		*cause = xprintf("more than %zu bytes", max);
		errno = EFBIG;
		return -1;
	}
	buf[off] = '\0';
	*data = buf;
	*len = off;
	return 0;
}
