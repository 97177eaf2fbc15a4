/* The client-side key directory: per-device token and claim files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int
keys_get(const char *dir, const char *device, const char *ext, const char *key,
    char **value, char **key_out, int *missing, char **cause)
{
	char *path, *data, *line, *save = NULL, *sp, *found = NULL, *fkey = NULL;
	size_t len;
	int n = 0;

	*missing = 0;
	if (!name_valid(device)) {
		*cause = xprintf("invalid device name '%s'", device);
		return -1;
	}
	path = keys_path(dir, device, ext);
	if (fs_read_file(path, KEYS_FILE_MAX, &data, &len, cause) != 0) {
		if (errno == ENOENT) {
			free(*cause);
			*cause = xprintf("no %s for device %s in %s", ext, device, dir);
			*missing = 1;
		}
		free(path);
		return -1;
	}
	free(path);
	for (line = strtok_r(data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		if (key != NULL && strcmp(line, key) != 0)
			continue;
		n++;
		free(found);
		free(fkey);
		found = xstrdup(sp + 1);
		fkey = xstrdup(line);
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
		*missing = 1;
		*cause = key ? xprintf("no %s for device %s and %s in %s", ext, device, key, dir)
		    : xprintf("no %s for device %s in %s", ext, device, dir);
	} else
		*cause = xprintf("device %s has %d %s entries in %s: name the session", device, n, ext, dir);
	return -1;
}

int
keys_put(const char *dir, const char *device, const char *ext, const char *key,
    const char *value, char **cause)
{
	char *path, *data = NULL, *line, *save = NULL, *out, *name;
	size_t len = 0, klen = strlen(key), olen = 0, cap;
	int rc;

	if (!name_valid(device)) {
		*cause = xprintf("invalid device name '%s'", device);
		return -1;
	}
	if (fs_mkdir_private(dir, cause) != 0)
		return -1;
	path = keys_path(dir, device, ext);
	if (fs_read_file(path, KEYS_FILE_MAX, &data, &len, cause) != 0) {
		if (errno != ENOENT) {
			free(path);
			return -1;
		}
		free(*cause);
		data = xstrdup("");
		len = 0;
	}
	free(path);
	cap = len + klen + (value ? strlen(value) : 0) + 3;
	out = xmalloc(cap);
	out[0] = '\0';
	for (line = strtok_r(data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			continue;
		olen += (size_t)snprintf(out + olen, cap - olen, "%s\n", line);
	}
	if (value != NULL)
		olen += (size_t)snprintf(out + olen, cap - olen, "%s %s\n", key, value);
	free(data);
	if (olen == 0) {
		/* The last entry gone: no empty file is left behind. */
		free(out);
		path = keys_path(dir, device, ext);
		rc = unlink(path) == 0 || errno == ENOENT ? 0 : -1;
		if (rc != 0)
			*cause = xprintf("cannot remove %s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	name = xprintf("%s.%s", device, ext);
	rc = fs_write_atomic(dir, name, NULL, out, olen, 1, cause);
	free(name);
	free(out);
	return rc;
}
