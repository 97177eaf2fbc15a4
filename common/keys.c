/* The client-side key directory: per-device token and claim files. */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "fsutil.h"
#include "keys.h"
#include "names.h"
#include "xmalloc.h"

#define KEYS_FILE_MAX (64 * 1024)

static char *
keys_path(const char *dir, const char *device, const char *ext)
{
	return xprintf("%s/%s.%s", dir, device, ext);
}

/* Whether st (a key file or the directory) is ours and closed to group and others. */
static int
keys_private(const struct stat *st, const char *path, const char *what, char **cause)
{
	if (st->st_uid == getuid() && (st->st_mode & 077) == 0)
		return 0;
	*cause = xprintf("%s %s is open to others (mode %04o%s): chmod %s it", what, path,
	    (unsigned)(st->st_mode & 07777), st->st_uid == getuid() ? "" : ", not ours",
	    S_ISDIR(st->st_mode) ? "0700" : "0600");
	return -1;
}

/* Reads DIR/DEVICE.EXT after checking that both are private (design.md 8). */
static int
keys_read(const char *dir, const char *device, const char *ext, char **data, int *why,
    char **cause)
{
	struct stat st;
	char *path;
	size_t len;
	int fd, rc = -1;

	if (stat(dir, &st) != 0) {
		*why = errno == ENOENT ? KEYS_MISSING : 0;
		*cause = errno == ENOENT ? xprintf("no key directory %s (give --keys DIR or set "
		    "RTCS_KEYS)", dir) : xprintf("cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	if (keys_private(&st, dir, "key directory", cause) != 0) {
		*why = KEYS_UNSAFE;
		return -1;
	}
	path = keys_path(dir, device, ext);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT) {
			*why = KEYS_MISSING;
			*cause = xprintf("%s has no %s in %s (no file %s)", device, ext, dir, path);
		} else
			*cause = xprintf("cannot read %s: %s", path, strerror(errno));
	} else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		*cause = xprintf("cannot read %s: not a regular file", path);
	else if (keys_private(&st, path, "key file", cause) != 0)
		*why = KEYS_UNSAFE;
	else if (fs_read_fd(fd, KEYS_FILE_MAX, data, &len, cause) != 0) {
		/* fs_read_fd's cause names no file. */
		char *c = *cause;

		*cause = xprintf("cannot read %s: %s", path, c);
		free(c);
	} else
		rc = 0;
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* Whether line is "KEY SECRET": two words of printable characters, one space between. */
static int
keys_line_valid(const char *line, const char **sp)
{
	const char *p;

	if ((*sp = strchr(line, ' ')) == NULL || *sp == line || (*sp)[1] == '\0')
		return 0;
	for (p = line; *p != '\0'; p++)
		if ((p != *sp && (unsigned char)*p <= ' ') || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

int
keys_get(const char *dir, const char *device, const char *ext, const char *key,
    char **value, char **key_out, int *why, char **cause)
{
	char *data, *line, *save = NULL, *found = NULL, *fkey = NULL;
	const char *sp;
	int n = 0, lineno = 0;

	*why = 0;
	if (!name_valid(device)) {
		*cause = xprintf("invalid device name '%s'", device);
		return -1;
	}
	if (keys_read(dir, device, ext, &data, why, cause) != 0)
		return -1;
	for (line = strtok_r(data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (!keys_line_valid(line, &sp)) {
			*why = KEYS_BAD;
			*cause = xprintf("%s/%s.%s: line %d is not \"%s SECRET\"", dir, device, ext,
			    lineno, strcmp(ext, "claim") == 0 ? "TRANSFER-ID" : "ID");
			free(data);
			free(found);
			free(fkey);
			return -1;
		}
		if (key != NULL && (strncmp(line, key, (size_t)(sp - line)) != 0 ||
		    key[sp - line] != '\0'))
			continue;
		n++;
		free(found);
		free(fkey);
		found = xstrdup(sp + 1);
		fkey = xstrndup(line, (size_t)(sp - line));
	}
	free(data);
	if (n == 1) {
		*value = found;
		if (key_out != NULL)
			*key_out = fkey;
		else
			free(fkey);
		return 0;
	}
	free(found);
	free(fkey);
	if (n == 0) {
		*why = KEYS_MISSING;
		*cause = key ? xprintf("%s/%s.%s has no %s for %s %s", dir, device, ext, ext,
		    key[0] == 'S' ? "session" : key[0] == 'T' ? "transfer" : "invite", key)
		    : xprintf("%s/%s.%s holds no %s", dir, device, ext, ext);
	} else if (key != NULL) {
		*why = KEYS_BAD;	/* one key, two lines: the file was edited by hand */
		*cause = xprintf("%s/%s.%s holds %d lines for %s: keep one", dir, device, ext, n, key);
	} else
		*cause = xprintf("%s/%s.%s holds %d %ss: say which session (--session)", dir,
		    device, ext, n, ext);
	return -1;
}

/*
 * Holds DIR/.lock exclusively: keys_put reads, edits and renames the file, so
 * two writers at once would each drop the other's entry. Readers need no lock,
 * the rename is atomic. Returns the fd to close, or -1.
 */
static int
keys_lock(const char *dir, char **cause)
{
	char *path = xprintf("%s/.lock", dir);
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		*cause = xprintf("cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX) != 0) {
		if (errno == EINTR)
			continue;
		*cause = xprintf("cannot lock %s: %s", path, strerror(errno));
		close(fd);
		fd = -1;
		break;
	}
	free(path);
	return fd;
}

static int keys_write(const char *, const char *, const char *, const char *, const char *, int,
    char **);

/* The file's entries but key's, then "key value" (value non-NULL); *olen its length. */
static char *
keys_edit(char *data, size_t len, const char *key, const char *value, size_t *olen)
{
	size_t klen = strlen(key), cap;
	char *out, *line, *save = NULL;

	/* A last line without its newline gains one: len + 1, then the entry and the NUL. */
	cap = len + 1 + klen + 1 + (value ? strlen(value) : 0) + 1 + 1;
	out = xmalloc(cap);
	out[0] = '\0';
	*olen = 0;
	for (line = strtok_r(data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			continue;
		*olen += (size_t)snprintf(out + *olen, cap - *olen, "%s\n", line);
	}
	if (value != NULL)
		*olen += (size_t)snprintf(out + *olen, cap - *olen, "%s %s\n", key, value);
	return out;
}

/* The value of key in data (a key file's text), or NULL: the caller frees it. */
static char *
keys_find(const char *data, const char *key)
{
	size_t klen = strlen(key);
	const char *p = data, *nl;

	for (; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return xstrndup(p + klen + 1, (size_t)(nl - p - klen - 1));
	}
	return NULL;
}

int
keys_put(const char *dir, const char *device, const char *ext, const char *key,
    const char *value, char **cause)
{
	return keys_write(dir, device, ext, key, value, 0, cause);
}

int
keys_put_once(const char *dir, const char *device, const char *ext, const char *key,
    const char *value, char **cause)
{
	return keys_write(dir, device, ext, key, value, 1, cause);
}

static int
keys_write(const char *dir, const char *device, const char *ext, const char *key,
    const char *value, int once, char **cause)
{
	char *path, *data = NULL, *out, *name, *had;
	size_t len = 0, olen;
	int rc = -1, lock;

	if (!name_valid(device)) {
		*cause = xprintf("invalid device name '%s'", device);
		return -1;
	}
	if (fs_mkdir_private(dir, cause) != 0 || (lock = keys_lock(dir, cause)) < 0)
		return -1;
	path = keys_path(dir, device, ext);
	if (fs_read_file(path, KEYS_FILE_MAX, &data, &len, cause) != 0) {
		if (errno != ENOENT)
			goto out;
		free(*cause);
		*cause = NULL;
		data = xstrdup("");
		len = 0;
	}
	/* Once: an entry already there (written since the caller looked) stays as it is. */
	if (once && (had = keys_find(data, key)) != NULL) {
		rc = strcmp(had, value) == 0 ? 0 : KEYS_PUT_OTHER;
		if (rc != 0)
			*cause = xprintf("%s/%s.%s already holds another %s for %s", dir, device, ext,
			    ext, key);
		free(had);
		goto out;
	}
	out = keys_edit(data, len, key, value, &olen);
	if (olen == 0) {
		/* The last entry gone: no empty file is left behind. */
		rc = unlink(path) == 0 || errno == ENOENT ? 0 : -1;
		if (rc != 0)
			*cause = xprintf("cannot remove %s: %s", path, strerror(errno));
	} else {
		name = xprintf("%s.%s", device, ext);
		rc = fs_write_atomic(dir, name, NULL, out, olen, 1, cause);
		free(name);
	}
	free(out);
out:
	free(data);
	free(path);
	close(lock);
	return rc;
}

int
keys_exit_code(int why)
{
	switch (why) {
	case KEYS_MISSING:
		return EXIT_NOINPUT;
	case KEYS_UNSAFE:
		return EXIT_NOPERM;
	case KEYS_BAD:
		return EXIT_DATAERR;
	}
	return EXIT_IOERR;
}
