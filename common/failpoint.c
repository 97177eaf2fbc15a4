/* Failpoints for crash and fault tests (failpoint.h). */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failpoint.h"
#include "fsutil.h"
#include "log.h"
#include "xmalloc.h"

#define FP_MAX	32

struct fp {
	char	*name;
	int	 err;		/* 0: crash */
	long	 nth;		/* 0: every time */
	long	 seen;
};

static struct fp fps[FP_MAX];
static int nfps, loaded, from_file;
static struct stat file_sb;

static const struct { const char *name; int err; } errnos[] = {
	{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT }, { "EACCES", EACCES },
	{ "EROFS", EROFS }, { "ENOMEM", ENOMEM }, { "EINTR", EINTR }, { "EMFILE", EMFILE },
	{ "EFBIG", EFBIG }, { "EPERM", EPERM },
};

static void
fp_clear(void)
{
	while (nfps > 0)
		free(fps[--nfps].name);
}

static void
fp_parse(const char *spec)
{
	char *copy = xstrdup(spec), *p = copy, *item, *eq, *at;
	size_t i;

	fp_clear();
	while ((item = strsep(&p, ",\n")) != NULL && nfps < FP_MAX) {
		item += strspn(item, " \t");
		if (*item == '\0')
			continue;
		memset(&fps[nfps], 0, sizeof fps[nfps]);
		if ((eq = strchr(item, '=')) != NULL) {
			*eq++ = '\0';
			if ((at = strchr(eq, '@')) != NULL) {
				*at++ = '\0';
				fps[nfps].nth = strtol(at, NULL, 10);
			}
			for (i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
				if (strcmp(eq, errnos[i].name) == 0)
					fps[nfps].err = errnos[i].err;
			if (fps[nfps].err == 0)
				fps[nfps].err = EIO;
		}
		fps[nfps++].name = xstrdup(item);
	}
	free(copy);
}

/* (Re)reads the list: the environment once, the file whenever it changed. */
static void
fp_load(void)
{
	const char *env, *path;
	struct stat sb;
	char *data = NULL, *cause = NULL;
	size_t len;

	if (!loaded) {
		loaded = 1;
		if ((env = getenv("RTCS_FAILPOINT")) != NULL)
			fp_parse(env);
		from_file = getenv("RTCS_FAILPOINT_FILE") != NULL;
	}
	if (!from_file)
		return;
	path = getenv("RTCS_FAILPOINT_FILE");
	if (stat(path, &sb) != 0) {
		if (file_sb.st_ino != 0)
			fp_clear();
		memset(&file_sb, 0, sizeof file_sb);
		return;
	}
	if (sb.st_ino == file_sb.st_ino && sb.st_size == file_sb.st_size &&
	    sb.st_mtim.tv_sec == file_sb.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == file_sb.st_mtim.tv_nsec)
		return;
	file_sb = sb;
	if (fs_read_file(path, 4096, &data, &len, &cause) == 0)
		fp_parse(data);
	free(data);
	free(cause);
}

static struct fp *
fp_find(const char *name)
{
	int i;

	fp_load();
	for (i = 0; i < nfps; i++)
		if (strcmp(fps[i].name, name) == 0)
			return &fps[i];
	return NULL;
}

void
failpoint(const char *name)
{
	struct fp *f = fp_find(name);

	if (f != NULL && f->err == 0) {
		log_warnx("failpoint %s: exiting", name);
		_exit(99);
	}
}

int
failpoint_errno(const char *name)
{
	struct fp *f = fp_find(name);

	if (f == NULL || f->err == 0)
		return 0;
	f->seen++;
	if (f->nth != 0 && f->seen != f->nth)
		return 0;
	log_debug("failpoint %s: %s", name, strerror(f->err));
	return f->err;
}
