/* File-system helpers: private directories and atomic, durable file replacement. */
#ifndef RTCS_FSUTIL_H
#define RTCS_FSUTIL_H
#include <stddef.h>
#include <sys/types.h>

int	fs_mkdir_private(const char *path, char **cause);
int	fs_fsync_dir(const char *dir, char **cause);
int	fs_write_atomic(const char *dir, const char *name, const char *tmpdir,
	    const void *data, size_t len, int durable, char **cause);
/* Reads fd to its end, at most max bytes (else errno EFBIG); data is NUL-terminated. */
int	fs_read_fd(int fd, size_t max, char **data, size_t *len, char **cause);
int	fs_read_file(const char *path, size_t max, char **data, size_t *len, char **cause);
#endif
