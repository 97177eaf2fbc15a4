/*
 * The flat-file store's journal of documents (rtcs-store(5)): with an event
 * loop, a put appends the document's framed text to DIR/journal/a.log or
 * b.log and syncs that one file (one fdatasync, where a file's replacement
 * costs two: the file and its directory); the document's own file is
 * written behind it by the journal's checkpoint, on the sync thread. Until
 * then the newest text of each such document is kept here, and a read of it
 * is served from memory.
 *
 * The checkpoint turns the journal over: new records go to the other file
 * (emptied by the checkpoint before), every document kept here is written to
 * a new file and renamed over its own at the group commit, and once all of
 * them are durable the file they came from is emptied. A crash at any point
 * leaves every acknowledged document in its file or in a journal record of a
 * higher revision; the next start takes the higher (store_fs_load.c), writes
 * the files and empties both journals.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "failpoint.h"
#include "fsutil.h"
#include "json.h"
#include "store_format.h"
#include "store_fs.h"
#include "xmalloc.h"

static const char *const journal_names[2] = { "a", "b" };

/* A document newer here than in its file. */
struct fs_jdoc {
	enum store_kind	 kind;
	char		*id;
	uint64_t	 rev;
	char		*text;		/* framed, as its file will hold it */
	size_t		 len;
};

static char *
jkey(enum store_kind kind, const char *id)
{
	return xprintf("%s/%s", fs_kind_dir(kind), id);
}

static void
jdoc_free(void *val)
{
	struct fs_jdoc *jd = val;

	free(jd->id);
	free(jd->text);
	free(jd);
}

/* Journal file i, as a log the store does not list (no checkpoint, no watch). */
static struct fs_log *
journal_log(struct fs *fs, int i)
{
	struct fs_log *lf;

	if (fs->journal[i] != NULL)
		return fs->journal[i];
	lf = xcalloc(1, sizeof *lf);
	lf->name = xprintf("journal-%s", journal_names[i]);
	lf->dir = xprintf("%s/journal", fs->dir);
	lf->path = fs_journal_path(fs, i);
	lf->fd = -1;
	fs->journal[i] = lf;
	return lf;
}

char *
fs_journal_path(const struct fs *fs, int i)
{
	return xprintf("%s/journal/%s.log", fs->dir, journal_names[i]);
}

int
fs_journal_fits(size_t len)
{
	return len <= FS_JOURNAL_DOC_MAX;
}

int
fs_journal_used(const struct fs *fs)
{
	return fs->st->base != NULL && fs->loaded && !fs->opt.readonly;
}

/* The record: the kind, the id and the document's framed text, on one line. */
static char *
journal_record(enum store_kind kind, const char *id, const char *text, size_t len)
{
	cJSON *o = cJSON_CreateObject();
	char *t = xstrndup(text, len), *rec;

	cJSON_AddStringToObject(o, "kind", fs_kind_dir(kind));
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "doc", t);
	rec = json_print(o);
	cJSON_Delete(o);
	free(t);
	return rec;
}

int
fs_journal_parse(const char *json, size_t len, enum store_kind *kind, char **id, char **text,
    char **why)
{
	cJSON *o;
	const char *k, *i, *d;
	char *cause = NULL;
	int n;

	if ((o = json_parse_object(json, len, &cause)) == NULL) {
		*why = cause;
		return -1;
	}
	k = json_str(o, "kind");
	i = json_str(o, "id");
	d = json_str(o, "doc");
	for (n = 0; k != NULL && n < STORE_NKINDS; n++)
		if (strcmp(k, fs_kind_dir((enum store_kind)n)) == 0)
			break;
	if (k == NULL || n == STORE_NKINDS || i == NULL || !store_id_valid(i, strlen(i)) ||
	    d == NULL) {
		*why = xstrdup("not a journal record (kind, id, doc)");
		cJSON_Delete(o);
		return -1;
	}
	*kind = (enum store_kind)n;
	*id = xstrdup(i);
	*text = xstrdup(d);
	cJSON_Delete(o);
	return 0;
}

int
fs_journal_write(struct fs *fs, enum store_kind kind, const char *id, const char *text,
    size_t len, enum store_err *err, char **cause)
{
	struct fs_log *lf = journal_log(fs, fs->jcur);
	char *rec;
	int e, rv;

	if ((e = failpoint_errno("store-put")) != 0) {
		*err = store_errno(e);
		*cause = xprintf("cannot write %s/%s/%s.json: %s", fs->dir, fs_kind_dir(kind), id,
		    strerror(e));
		return -1;
	}
	rec = journal_record(kind, id, text, len);
	rv = fs_log_write(fs, lf, rec, strlen(rec), err, cause);
	free(rec);
	return rv;
}

int
fs_journal_sync(struct fs *fs, char **cause)
{
	return fs_log_sync(fs, journal_log(fs, fs->jcur), cause);
}

void
fs_journal_pend(struct fs *fs, struct fs_pending *p, const char *text, size_t len)
{
	p->lf = journal_log(fs, fs->jcur);
	p->fd = -1;
	fs_pend(fs, p, text, len);
}

static void journal_soon(struct fs *);

void
fs_journal_keep(struct fs *fs, enum store_kind kind, const char *id, uint64_t rev,
    const char *text, size_t len)
{
	char *k = jkey(kind, id);
	struct fs_jdoc *jd = strmap_get(fs->jdocs, k);

	if (jd == NULL) {
		jd = xcalloc(1, sizeof *jd);
		jd->kind = kind;
		jd->id = xstrdup(id);
		strmap_put(fs->jdocs, k, jd);
	}
	free(jd->text);
	jd->text = xstrndup(text, len);
	jd->len = len;
	jd->rev = rev;
	free(k);
	journal_soon(fs);
}

const char *
fs_journal_doc(const struct fs *fs, enum store_kind kind, const char *id, size_t *len)
{
	char *k = jkey(kind, id);
	struct fs_jdoc *jd = strmap_get(fs->jdocs, k);

	free(k);
	if (jd == NULL)
		return NULL;
	*len = jd->len;
	return jd->text;
}

void
fs_journal_drop(struct fs *fs, enum store_kind kind, const char *id)
{
	char *k = jkey(kind, id);
	struct fs_jdoc *jd = strmap_del(fs->jdocs, k);

	if (jd != NULL)
		jdoc_free(jd);
	free(k);
}

/* ---- the checkpoint ---- */

/* A walk over the documents kept: the store, how it went, why not. */
struct jflush {
	struct fs	*fs;
	int		 rv;
	char		**cause;
};

/* A document's file is written (renamed, synced): it is the newest now, unless put again. */
static void
jdoc_written(struct fs *fs, struct fs_pending *p, enum store_err err, const char *cause)
{
	char *k = jkey(p->kind, p->id);
	struct fs_jdoc *jd = strmap_get(fs->jdocs, k);
	struct fs_log *old;

	(void)cause;
	if (err != STORE_OK) {
		unlink(p->tmp);		/* if it was not renamed yet */
		fs->jfailed = 1;
	} else if (jd != NULL && jd->rev == p->rev)
		jdoc_free(strmap_del(fs->jdocs, k));
	free(k);
	if (--fs->jflushing > 0)
		return;
	/*
	 * Every document of the old file is in its own: empty it for its next
	 * turn. Its truncation needs no sync of its own: a crash that undoes it
	 * brings back records older than their files, which a load passes over,
	 * and the next append to it is synced with it.
	 */
	old = journal_log(fs, 1 - fs->jcur);
	if (!fs->jfailed && truncate(old->path, 0) == 0) {
		old->last = 0;
		old->size = 0;
	}
	fs->jfailed = 0;
	if (strmap_count(fs->jdocs) > 0)
		journal_soon(fs);
}

static void
jflush_one(const char *key, void *val, void *arg)
{
	struct jflush *f = arg;
	struct fs_jdoc *jd = val;
	struct fs *fs = f->fs;
	struct fs_pending p;
	char *dir, *name;

	(void)key;
	if (f->rv != 0)
		return;
	memset(&p, 0, sizeof p);
	dir = xprintf("%s/%s", fs->dir, fs_kind_dir(jd->kind));
	name = xprintf("%s.json", jd->id);
	p.fd = fs_write_tmp(dir, name, fs->tmp, jd->text, jd->len, &p.tmp, &p.dst, f->cause);
	free(name);
	if (p.fd < 0) {
		free(dir);
		f->rv = -1;
		return;
	}
	/* A turn-over may write thousands: none holds a descriptor (synced by name). */
	if (close(p.fd) != 0) {
		*f->cause = xprintf("cannot write %s: %s", p.dst, strerror(errno));
		unlink(p.tmp);
		free(p.tmp);
		free(p.dst);
		free(dir);
		f->rv = -1;
		return;
	}
	p.fd = -1;
	p.dir = dir;
	p.done = jdoc_written;
	p.ckpt = 1;
	p.kind = jd->kind;
	p.id = xstrdup(jd->id);
	p.rev = jd->rev;
	fs->jflushing++;
	fs_pend(fs, &p, "", 0);
}

/*
 * The checkpoint: turns the journal over and queues every document kept
 * here for the group commit. Not while the last one runs (the other file is
 * not emptied yet). What waits for the group commit is committed first, so
 * that no put later still waits on a record of the file about to be
 * emptied: every document of that file is here, at its newest.
 */
static int
journal_flush(struct fs *fs, char **cause)
{
	struct jflush f = { fs, 0, cause };

	if (fs->jflushing > 0 || fs->broken || strmap_count(fs->jdocs) == 0)
		return 0;
	if ((fs->npend > 0 || fs->nflight > 0) && fs_commit(fs, cause) != 0)
		return -1;
	if (fs->npend > 0 || fs->nflight > 0) {
		/* Its callbacks wrote again (a put later, say): not this time. */
		journal_soon(fs);
		return 0;
	}
	fs->jcur = 1 - fs->jcur;
	strmap_each(fs->jdocs, jflush_one, &f);
	if (f.rv != 0)
		fs->jfailed = 1;	/* what was not queued keeps its record: no emptying */
	if (fs->jflushing == 0) {
		fs->jcur = 1 - fs->jcur;	/* nothing queued: the old file stays current */
		fs->jfailed = 0;
	}
	return f.rv;
}

static void
journal_ev(evutil_socket_t fd, short what, void *arg)
{
	struct fs *fs = arg;
	char *cause = NULL;

	(void)fd;
	(void)what;
	if (journal_flush(fs, &cause) != 0)
		journal_soon(fs);	/* nothing is lost: the documents stay here */
	free(cause);
}

static void
journal_soon(struct fs *fs)
{
	fs_timer_soon(fs, &fs->jev, journal_ev);
}

int
fs_journal_write_file(struct fs *fs, enum store_kind kind, const char *id, const char *text,
    size_t len, char **cause)
{
	char *dir = xprintf("%s/%s", fs->dir, fs_kind_dir(kind)), *name = xprintf("%s.json", id);
	int rv = fs_write_atomic(dir, name, fs->tmp, text, len, fs->opt.sync != STORE_SYNC_NONE,
	    cause) == 0 ? 0 : -1;

	if (rv == 0 && fs->opt.sync != STORE_SYNC_NONE)
		fs->stats.syncs += 2;
	free(name);
	free(dir);
	return rv;
}

static void
jclose_one(const char *key, void *val, void *arg)
{
	struct jflush *c = arg;
	struct fs_jdoc *jd = val;

	(void)key;
	if (c->rv == 0)
		c->rv = fs_journal_write_file(c->fs, jd->kind, jd->id, jd->text, jd->len, c->cause);
}

int
fs_journal_empty(struct fs *fs, char **cause)
{
	struct jflush c = { fs, 0, cause };
	char *path;
	int i;

	strmap_each(fs->jdocs, jclose_one, &c);
	if (c.rv != 0)
		return -1;
	for (i = 0; i < 2; i++) {
		path = fs_journal_path(fs, i);
		if (truncate(path, 0) != 0 && errno != ENOENT) {
			*cause = xprintf("cannot empty %s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		free(path);
		if (fs->journal[i] != NULL) {
			fs->journal[i]->last = 0;
			fs->journal[i]->size = 0;
		}
	}
	strmap_free(fs->jdocs, jdoc_free);
	fs->jdocs = strmap_new();
	return 0;
}

void
fs_journal_free(struct fs *fs)
{
	int i;

	for (i = 0; i < 2; i++)
		if (fs->journal[i] != NULL) {
			fs_log_free(fs, fs->journal[i]);
			fs->journal[i] = NULL;
		}
	if (fs->jdocs != NULL)
		strmap_free(fs->jdocs, jdoc_free);
	fs->jdocs = NULL;
	if (fs->jev != NULL)
		event_free(fs->jev);
	fs->jev = NULL;
}
