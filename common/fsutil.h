/* File-system helpers: private directories and atomic, durable file replacement. */
#ifndef RTCS_FSUTIL_H
#define RTCS_FSUTIL_H
#include <stddef.h>
#include <sys/types.h>

/* Writes all of data, retrying short writes and EINTR: 0, or -1 with errno. */
int	fs_write_all(int fd, const void *data, size_t len);
int	fs_mkdir_private(const char *path, char **cause);
int	fs_fsync_dir(const char *dir, char **cause);
/*
 * fs_write_atomic: 0, -1 (nothing replaced), or FS_REPLACED_UNSYNCED: the
 * file was replaced but the directory could not be synced (whether the new
 * version survives a crash is unknown). Each with *cause but 0.
 */
#define FS_REPLACED_UNSYNCED	(-2)
/*
 * The first half of it: data written (not synced) to a new file in tmpdir
 * (*tmp), to be renamed over *dst (dir/name); its descriptor, or -1 with
 * errno and *cause.
 */
int	fs_write_tmp(const char *dir, const char *name, const char *tmpdir, const void *data,
	    size_t len, char **tmp, char **dst, char **cause);
int	fs_write_atomic(const char *dir, const char *name, const char *tmpdir,
	    const void *data, size_t len, int durable, char **cause);
/* Reads fd to its end, at most max bytes (else errno EFBIG); data is NUL-terminated. */
int	fs_read_fd(int fd, size_t max, char **data, size_t *len, char **cause);
int	fs_read_file(const char *path, size_t max, char **data, size_t *len, char **cause);
#endif
