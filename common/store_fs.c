/*
 * The flat-file store (design.md 6; the layout is rtcs-store(5)):
 *
 *   DIR/VERSION            "rtcs-store 3"
 *   DIR/lock               flock(2) held by the one server using the store
 *   DIR/tmp/               where every replacement is written before rename
 *   DIR/sessions/ID.json   a document per session \
 *   DIR/transfers/ID.json  a document per transfer  } framed: revision,
 *   DIR/invites/ID.json    a document per invite    } checkpoint, CRC-32
 *   DIR/meta/ID.json       server-wide documents   /
 *   DIR/logs/ID.log        each session's log, append-only
 *   DIR/events.log         the server's event log, append-only
 *   DIR/journal/a.log, b.log  documents put, before their files are rewritten
 *   DIR/checkpoint         how far every log was durable, about once a second
 *   DIR/quarantine/        what repairs removed
 *
 * This file opens and closes it and holds the operations table; the work is
 * in store_fs_load.c, store_fs_doc.c, store_fs_journal.c and store_fs_log.c.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "fsutil.h"
#include "store_fs.h"
#include "xmalloc.h"

static const char *const fs_subdirs[] = {
	"tmp", "sessions", "transfers", "invites", "meta", "logs", "quarantine", "journal",
};

/* 1 if dir holds no data (missing, empty, or our empty skeleton), 0 if it does, -1 on error. */
static int
fs_fresh(const char *dir)
{
	DIR *d = opendir(dir), *sub;
	struct dirent *de, *se;
	char *p;
	size_t i;
	int fresh = 1, known;

	if (d == NULL)
		return errno == ENOENT ? 1 : -1;
	while (fresh == 1 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "lock") == 0)
			continue;
		for (known = 0, i = 0; i < sizeof fs_subdirs / sizeof fs_subdirs[0]; i++)
			known |= strcmp(de->d_name, fs_subdirs[i]) == 0;
		if (!known) {
			fresh = 0;
			break;
		}
		p = xprintf("%s/%s", dir, de->d_name);
		if ((sub = opendir(p)) == NULL)
			fresh = -1;
		else {
			while ((se = readdir(sub)) != NULL)
				if (strcmp(se->d_name, ".") != 0 && strcmp(se->d_name, "..") != 0)
					fresh = 0;
			closedir(sub);
		}
		free(p);
	}
	closedir(d);
	return fresh;
}

/*
 * Reads DIR/VERSION, writing it only into a new store. A store with data
 * but no VERSION is refused: it is not one of ours, or it is damaged.
 */
static int
fs_version(struct fs *fs, int fresh, enum store_err *err, char **cause)
{
	char *path = xprintf("%s/VERSION", fs->dir), *data = NULL, *c2 = NULL;
	size_t len;
	int rv = -1;

	if (access(path, F_OK) != 0 && errno == ENOENT) {
		if (fresh == 1 && !fs->opt.readonly) {
			rv = fs_write_atomic(fs->dir, "VERSION", fs->tmp, FS_VERSION_TEXT,
			    strlen(FS_VERSION_TEXT), fs->opt.sync != STORE_SYNC_NONE, cause);
			if (rv != 0)
				*err = store_errno(errno);
		} else {
			*cause = xprintf("%s: missing: not a store, or a damaged one", path);
			*err = STORE_FORMAT_ERR;
		}
		free(path);
		return rv == 0 ? 0 : -1;
	}
	if (fs_read_file(path, 4096, &data, &len, &c2) != 0) {
		*cause = c2;
		*err = STORE_IO;
	} else if (strcmp(data, FS_VERSION_TEXT) == 0)
		rv = 0;
	else if (strcmp(data, FS_VERSION_2) == 0) {
		/* Format 2 is format 3 with an empty journal: a writer marks it 3. */
		rv = fs->opt.readonly ? 0 : fs_write_atomic(fs->dir, "VERSION", fs->tmp,
		    FS_VERSION_TEXT, strlen(FS_VERSION_TEXT), fs->opt.sync != STORE_SYNC_NONE, cause);
		if (rv != 0)
			*err = store_errno(errno);
	} else {
		*err = STORE_FORMAT_ERR;
		*cause = strcmp(data, "rtcs-store 1\n") == 0 ?
		    xprintf("%s: store format 1 (rtcs 0.1, no checksums): this server reads "
		    "formats 2 and 3 only (see rtcs-store(5))", path) :
		    xprintf("%s: unknown store format \"%.*s\" (this server reads \"%.*s\")",
		    path, (int)strcspn(data, "\n"), data, (int)strlen(FS_VERSION_TEXT) - 1,
		    FS_VERSION_TEXT);
	}
	free(data);
	free(path);
	return rv;
}

static int
fs_lock(struct fs *fs, enum store_err *err, char **cause)
{
	char *p = xprintf("%s/lock", fs->dir);

	fs->lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fs->lockfd < 0 || flock(fs->lockfd, LOCK_EX | LOCK_NB) != 0) {
		*err = (fs->lockfd >= 0 && errno == EWOULDBLOCK) ? STORE_BUSY : STORE_IO;
		*cause = *err == STORE_BUSY ? xprintf("store %s is in use by another rtcs-serve",
		    fs->dir) : xprintf("cannot lock %s: %s", p, strerror(errno));
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

static void fs_close(void *);

void *
store_fs_open(struct store *st, const char *dir, const struct store_options *opt,
    enum store_err *err, char **cause)
{
	struct fs *fs = xcalloc(1, sizeof *fs);
	char *p;
	size_t i;
	int fresh, k;

	fs->st = st;
	fs->dir = xstrdup(dir);
	fs->tmp = xprintf("%s/tmp", dir);
	fs->opt = *opt;
	fs->lockfd = -1;
	fs->logs = strmap_new();
	fs->jdocs = strmap_new();
	TAILQ_INIT(&fs->lru);
	for (k = 0; k < STORE_NKINDS; k++)
		fs->revs[k] = strmap_new();
	if (opt->readonly) {
		if (access(dir, R_OK | X_OK) != 0) {
			*err = errno == ENOENT ? STORE_NOT_FOUND : STORE_IO;
			*cause = xprintf("cannot open store %s: %s", dir, strerror(errno));
			goto fail;
		}
		if (fs_version(fs, 0, err, cause) != 0)
			goto fail;
		return fs;
	}
	if ((fresh = fs_fresh(dir)) < 0) {
		*err = STORE_IO;
		*cause = xprintf("cannot read store %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (fs_mkdir_private(dir, cause) != 0 || fs_lock(fs, err, cause) != 0) {
		if (*err == STORE_OK)
			*err = STORE_IO;
		goto fail;
	}
	for (i = 0; i < sizeof fs_subdirs / sizeof fs_subdirs[0]; i++) {
		p = xprintf("%s/%s", dir, fs_subdirs[i]);
		k = fs_mkdir_private(p, cause);
		free(p);
		if (k != 0) {
			*err = STORE_IO;
			goto fail;
		}
	}
	if (fs_version(fs, fresh, err, cause) != 0)
		goto fail;
	return fs;
fail:
	fs_close(fs);
	return NULL;
}

static int
fs_broken(void *be)
{
	return ((struct fs *)be)->broken;
}

static int
fs_pending(void *be)
{
	struct fs *fs = be;

	return fs->npend > 0 || fs->nflight > 0;
}

static void
fs_stats(void *be, struct store_stats *out)
{
	*out = ((struct fs *)be)->stats;
}

static void
fs_close(void *be)
{
	struct fs *fs = be;
	char *cause = NULL;
	int k;

	if (fs == NULL)
		return;
	if (fs->loaded && !fs->opt.readonly) {
		fs_quiet(fs);	/* durable, but nobody is left to hear it */
		/* The journal's documents into their files: a clean stop leaves it empty. */
		if (fs_commit(fs, &cause) == 0 && fs_journal_empty(fs, &cause) == 0)
			fs_write_checkpoint(fs, &cause);
		free(cause);
	}
	fs_commit_free(fs);
	fs_journal_free(fs);
	fs_logs_free(fs);
	for (k = 0; k < STORE_NKINDS; k++)
		strmap_free(fs->revs[k], free);
	if (fs->lockfd >= 0)
		close(fs->lockfd);	/* releases the flock */
	free(fs->pend);
	free(fs->tmp);
	free(fs->dir);
	free(fs);
}

const struct store_ops store_fs_ops = {
	.name = "fs",
	.load = fs_load,
	.get = fs_get,
	.put = fs_put,
	.put_later = fs_put_later,
	.append = fs_append,
	.read = fs_read,
	.flush = fs_flush,
	.durable_last = fs_durable_last,
	.broken = fs_broken,
	.pending = fs_pending,
	.check_files = fs_check_files,
	.stats = fs_stats,
	.close = fs_close,
};
