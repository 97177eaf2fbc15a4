/*
 * Loading the flat-file store at start (and --fsck): every document and every
 * log is read and checked first; only when all of it could be read, and
 * nothing is wrong but what a repair mends, are the repairs made (a torn tail
 * cut, an orphan log set aside, a record a put carried appended), each moving
 * what it removes to DIR/quarantine/. Any read error changes nothing.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "failpoint.h"
#include "fsutil.h"
#include "hash.h"
#include "json.h"
#include "store_format.h"
#include "store_fs.h"
#include "xmalloc.h"

struct ld_doc {
	enum store_kind	 kind;
	char		*id;
	char		*data;
	struct store_frame f;
	int		 journal;	/* newer in the journal than in its file */
};

/* A journal file as read: where its good records end. */
struct ld_journal {
	char		*path;
	int		 exists;
	struct fs_scan_end end;
};

/* What a document or the checkpoint says a log must hold. */
struct ld_log {
	char		*name;
	int		 exists, has_doc;
	struct fs_scan_end end;
	uint64_t	 vouched;	/* acknowledged up to here (document header, checkpoint) */
	const char	*vouched_by;
	uint64_t	 check_seq;	/* a record a document carried: its seq and CRC */
	uint32_t	 check_crc;
	int		 check_bad;
	const struct ld_doc *then;	/* the document whose record is missing */
};

enum repair_kind { REPAIR_TAIL, REPAIR_ORPHAN, REPAIR_THEN };

struct ld_repair {
	enum repair_kind kind;
	struct ld_log	*lg;
};

struct ld {
	struct fs	*fs;
	const struct store_loader *ld;
	int		 problems;
	int		 io;
	char		*io_cause;
	struct ld_doc	*docs;
	size_t		 ndocs, dcap;
	struct strmap	*logs;		/* name -> struct ld_log */
	struct ld_repair *rep;
	size_t		 nrep, rcap;
	struct ld_journal journal[2];
	struct strmap	*index;		/* "KIND/ID" -> its place in docs, + 1 */
	int		 from_journal;	/* how many documents the journal had newer */
};

static void ld_problem(struct ld *, const char *where, int fixed, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
ld_problem(struct ld *l, const char *where, int fixed, const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	xvasprintf(&what, fmt, ap);
	va_end(ap);
	if (!fixed)
		l->problems++;
	if (l->ld->problem != NULL)
		l->ld->problem(l->ld->arg, where, what, fixed);
	free(what);
}

/* A read failed: the load stops before anything is changed. */
static void
ld_io(struct ld *l, const char *where, int e)
{
	if (l->io++ == 0)
		l->io_cause = xprintf("cannot read %s: %s", where, strerror(e));
}

static struct ld_log *
ld_log(struct ld *l, const char *name)
{
	struct ld_log *lg = strmap_get(l->logs, name);

	if (lg == NULL) {
		lg = xcalloc(1, sizeof *lg);
		lg->name = xstrdup(name);
		strmap_put(l->logs, name, lg);
	}
	return lg;
}

static void
ld_repair(struct ld *l, enum repair_kind kind, struct ld_log *lg)
{
	if (l->nrep == l->rcap) {
		l->rcap = l->rcap ? l->rcap * 2 : 8;
		l->rep = xreallocarray(l->rep, l->rcap, sizeof *l->rep);
	}
	l->rep[l->nrep].kind = kind;
	l->rep[l->nrep++].lg = lg;
}

/* The names in dir/sub, sorted; -1 after ld_io (a missing directory is empty). */
static int
ld_list(struct ld *l, const char *sub, struct dirent ***list)
{
	char *dir = xprintf("%s/%s", l->fs->dir, sub), *fp = xprintf("store-list-%s", sub);
	int n, e;

	e = failpoint_errno(fp);
	free(fp);
	if (e != 0) {
		errno = e;
		n = -1;
	} else
		n = scandir(dir, list, NULL, alphasort);
	if (n < 0 && errno == ENOENT) {
		*list = NULL;
		n = 0;
	} else if (n < 0)
		ld_io(l, dir, errno);
	free(dir);
	return n;
}

static int
dot(const char *name)
{
	return name[0] == '.';
}

/* NAME.suffix with NAME a store id: the id, or NULL. */
static char *
ld_id(const char *name, const char *suffix)
{
	size_t n = strlen(name), sl = strlen(suffix);

	if (n <= sl || strcmp(name + n - sl, suffix) != 0 || !store_id_valid(name, n - sl))
		return NULL;
	return xstrndup(name, n - sl);
}

/* ---- reading ---- */

static void
ld_read_doc(struct ld *l, enum store_kind kind, const char *path, char *id)
{
	struct ld_doc *d;
	char *data = NULL, *cause = NULL, *why = NULL;
	size_t len;
	int e;

	if ((e = failpoint_errno("store-read-doc")) != 0 ||
	    fs_read_file(path, STORE_DOC_MAX + 4096, &data, &len, &cause) != 0) {
		ld_io(l, path, e ? e : errno);
		free(cause);
		free(id);
		return;
	}
	if (l->ndocs == l->dcap) {
		l->dcap = l->dcap ? l->dcap * 2 : 64;
		l->docs = xreallocarray(l->docs, l->dcap, sizeof *l->docs);
	}
	d = &l->docs[l->ndocs];
	if (store_unframe_doc(data, len, &d->f, &why) != 0) {
		ld_problem(l, path, 0, "%s (never served: see rtcs-store(5))", why);
		free(why);
		free(data);
		free(id);
		return;
	}
	d->kind = kind;
	d->id = id;
	d->data = data;
	d->journal = 0;
	l->ndocs++;
}

static void
ld_read_docs(struct ld *l, enum store_kind kind)
{
	const char *sub = fs_kind_dir(kind);
	struct dirent **list;
	char *path, *id;
	int i, n;

	if ((n = ld_list(l, sub, &list)) < 0)
		return;
	for (i = 0; i < n; i++) {
		path = xprintf("%s/%s/%s", l->fs->dir, sub, list[i]->d_name);
		if (dot(list[i]->d_name) || l->io)
			;
		else if ((id = ld_id(list[i]->d_name, ".json")) == NULL)
			ld_problem(l, path, 0, "unexpected file");
		else
			ld_read_doc(l, kind, path, id);
		free(path);
		free(list[i]);
	}
	free(list);
}

/* ---- the journal of documents ---- */

static char *
ld_key(enum store_kind kind, const char *id)
{
	return xprintf("%s/%s", fs_kind_dir(kind), id);
}

static int
ld_doc_cmp(const void *a, const void *b)
{
	const struct ld_doc *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->id, y->id);
}

struct ld_jscan {
	struct ld	*l;
	const char	*path;
};

/* A record of the journal: its document, if newer than the file's (or than an earlier record). */
static int
ld_journal_record(void *arg, uint64_t seq, uint32_t crc, const char *json, size_t len,
    off_t off)
{
	struct ld_jscan *js = arg;
	struct ld *l = js->l;
	struct store_frame f;
	enum store_kind kind;
	struct ld_doc *d;
	char *id, *text, *why = NULL, *k;
	uintptr_t at;

	(void)crc;
	(void)off;
	id = text = NULL;
	if (fs_journal_parse(json, len, &kind, &id, &text, &why) != 0 ||
	    store_unframe_doc(text, strlen(text), &f, &why) != 0) {
		ld_problem(l, js->path, 0, "record %llu: %s (never served: see rtcs-store(5))",
		    (unsigned long long)seq, why);
		free(why);
		free(id);
		free(text);
		return 0;
	}
	k = ld_key(kind, id);
	if ((at = (uintptr_t)strmap_get(l->index, k)) != 0 && l->docs[at - 1].f.rev >= f.rev) {
		free(k);
		free(id);
		free(text);
		return 0;	/* its file, or a later record, is as new */
	}
	if (at == 0) {
		if (l->ndocs == l->dcap) {
			l->dcap = l->dcap ? l->dcap * 2 : 64;
			l->docs = xreallocarray(l->docs, l->dcap, sizeof *l->docs);
		}
		at = ++l->ndocs;
		strmap_put(l->index, k, (void *)at);
		d = &l->docs[at - 1];
		memset(d, 0, sizeof *d);
		d->kind = kind;
		d->id = id;
	} else {
		d = &l->docs[at - 1];
		free(d->data);
		free(id);
	}
	free(k);
	if (!d->journal)
		l->from_journal++;
	d->journal = 1;
	d->data = text;
	d->f = f;
	return 0;
}

/* Both journal files, after every document's file: the newer of each document wins. */
static void
ld_read_journal(struct ld *l)
{
	struct ld_jscan js = { l, NULL };
	size_t i, n = l->ndocs;
	char *k;
	int j, fd, e;

	l->index = strmap_new();
	for (i = 0; i < n; i++) {
		k = ld_key(l->docs[i].kind, l->docs[i].id);
		strmap_put(l->index, k, (void *)(uintptr_t)(i + 1));
		free(k);
	}
	for (j = 0; j < 2 && !l->io; j++) {
		struct ld_journal *lj = &l->journal[j];
		lj->path = fs_journal_path(l->fs, j);
		js.path = lj->path;
		if ((e = failpoint_errno("store-open-log")) != 0)
			errno = e;
		if (e != 0 || (fd = open(lj->path, O_RDONLY | O_CLOEXEC)) < 0) {
			if (errno != ENOENT)
				ld_io(l, lj->path, errno);
			continue;
		}
		lj->exists = 1;
		if (fs_log_scan(fd, 0, 1, ld_journal_record, &js, &lj->end) != 0)
			ld_io(l, lj->path, EIO);
		close(fd);
		/* A bad last line is a write never acknowledged: a record is told once synced. */
		if (lj->end.why != NULL && !lj->end.at_tail)
			ld_problem(l, lj->path, 0, "after record %llu: %s (not the last line)",
			    (unsigned long long)lj->end.last, lj->end.why);
	}
	if (l->ndocs > n)
		qsort(l->docs, l->ndocs, sizeof *l->docs, ld_doc_cmp);
}

/* Checks, while a log is scanned, the record a document said it carried. */
static int
ld_check_record(void *arg, uint64_t seq, uint32_t crc, const char *json, size_t len, off_t off)
{
	struct ld_log *lg = arg;

	(void)json;
	(void)len;
	(void)off;
	if (seq == lg->check_seq && crc != lg->check_crc)
		lg->check_bad = 1;
	return 0;
}

static void
ld_scan_log(struct ld *l, struct ld_log *lg, const char *path)
{
	int fd, e;

	if ((e = failpoint_errno("store-open-log")) != 0)
		errno = e;
	if (e != 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		ld_io(l, path, errno);
		return;
	}
	lg->exists = 1;
	if (fs_log_scan(fd, 0, 1, lg->check_seq ? ld_check_record : NULL, lg, &lg->end) != 0)
		ld_io(l, path, EIO);
	close(fd);
}

static void
ld_read_logs(struct ld *l)
{
	struct dirent **list;
	struct stat sb;
	char *path, *id;
	int i, n;

	if ((n = ld_list(l, "logs", &list)) < 0)
		return;
	for (i = 0; i < n; i++) {
		path = xprintf("%s/logs/%s", l->fs->dir, list[i]->d_name);
		id = NULL;
		if (dot(list[i]->d_name) || l->io)
			;
		else if ((id = ld_id(list[i]->d_name, ".log")) == NULL ||
		    strcmp(id, STORE_EVENTS) == 0)
			ld_problem(l, path, 0, "unexpected file");
		else
			ld_scan_log(l, ld_log(l, id), path);
		free(id);
		free(path);
		free(list[i]);
	}
	free(list);
	path = xprintf("%s/events.log", l->fs->dir);
	if (!l->io && stat(path, &sb) == 0)
		ld_scan_log(l, ld_log(l, STORE_EVENTS), path);
	else if (!l->io && errno != ENOENT)
		ld_io(l, path, errno);
	ld_log(l, STORE_EVENTS)->has_doc = 1;
	free(path);
}

static void
ld_read_checkpoint(struct ld *l)
{
	char *path = xprintf("%s/checkpoint", l->fs->dir), *data = NULL, *cause = NULL, *why = NULL;
	struct store_frame f;
	cJSON *o, *v;
	size_t len;
	int e;

	if ((e = failpoint_errno("store-read-doc")) != 0 ||
	    fs_read_file(path, STORE_DOC_MAX + 4096, &data, &len, &cause) != 0) {
		if (e != 0 || errno != ENOENT)
			ld_io(l, path, e ? e : errno);
		goto out;
	}
	if (store_unframe_doc(data, len, &f, &why) != 0 ||
	    (o = json_parse_object(f.json, f.len, &cause)) == NULL) {
		ld_problem(l, path, 0, "%s", why ? why : cause);
		goto out;
	}
	l->fs->ckpt_rev = f.rev;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(o, "logs")) {
		struct ld_log *lg;
		if (!cJSON_IsNumber(v) || !store_id_valid(v->string, strlen(v->string)))
			continue;
		lg = ld_log(l, v->string);
		if ((uint64_t)v->valuedouble > lg->vouched) {
			lg->vouched = (uint64_t)v->valuedouble;
			lg->vouched_by = "the checkpoint";
		}
	}
	cJSON_Delete(o);
out:
	free(why);
	free(cause);
	free(data);
	free(path);
}

/* What each document says of the logs: before they are scanned (records to check). */
static void
ld_vouch(struct ld *l)
{
	struct ld_log *lg;
	char *name;
	size_t i;

	for (i = 0; i < l->ndocs; i++) {
		struct ld_doc *d = &l->docs[i];
		if (d->kind == STORE_SESSION) {
			lg = ld_log(l, d->id);
			lg->has_doc = 1;
			if (d->f.logseq > lg->vouched) {
				lg->vouched = d->f.logseq;
				lg->vouched_by = "its session document";
			}
		}
		if (d->f.then_log == NULL)
			continue;
		name = xstrndup(d->f.then_log, d->f.then_loglen);
		lg = ld_log(l, name);
		free(name);
		if (d->f.then_seq >= lg->check_seq) {
			lg->check_seq = d->f.then_seq;
			lg->check_crc = hash_crc32(d->f.then_json, d->f.then_len);
			lg->then = d;
		}
	}
}

/* ---- judging ---- */

static char *
ld_log_path(struct fs *fs, const char *name)
{
	return strcmp(name, STORE_EVENTS) == 0 ? xprintf("%s/events.log", fs->dir) :
	    xprintf("%s/logs/%s.log", fs->dir, name);
}

static void
ld_judge_log(const char *key, void *val, void *arg)
{
	struct ld *l = arg;
	struct ld_log *lg = val;
	char *path = ld_log_path(l->fs, lg->name);
	uint64_t last;

	(void)key;
	/* A bad last line is a torn write unless it was acknowledged. */
	if (lg->end.why != NULL && lg->end.at_tail && lg->end.last >= lg->vouched)
		ld_repair(l, REPAIR_TAIL, lg);
	else if (lg->end.why != NULL)
		ld_problem(l, path, 0, "after record %llu: %s (%s)", (unsigned long long)lg->end.last,
		    lg->end.why, lg->end.at_tail ? "the last line, but acknowledged" :
		    "not the last line");
	if (lg->exists && !lg->has_doc)
		ld_repair(l, REPAIR_ORPHAN, lg);
	last = lg->end.last;
	/* The record a document carried counts: the repair restores it. */
	if (lg->then != NULL && last + 1 == lg->check_seq && last + 1 >= lg->vouched)
		last++;
	if (last < lg->vouched)
		ld_problem(l, path, 0, "ends at record %llu, but %s says %llu were acknowledged "
		    "(records cut)", (unsigned long long)last, lg->vouched_by,
		    (unsigned long long)lg->vouched);
	if (lg->check_bad)
		ld_problem(l, path, 0, "record %llu is not the one its document committed",
		    (unsigned long long)lg->check_seq);
	last = lg->end.last;
	if (lg->then != NULL && last + 1 == lg->check_seq)
		ld_repair(l, REPAIR_THEN, lg);
	else if (lg->then != NULL && last + 1 < lg->check_seq)
		ld_problem(l, path, 0, "ends at record %llu, before the record %llu a document "
		    "committed", (unsigned long long)last, (unsigned long long)lg->check_seq);
	if (lg->has_doc && !lg->exists && lg->then == NULL && strcmp(lg->name, STORE_EVENTS) != 0)
		ld_problem(l, path, 0, "missing: its session has no log");
	free(path);
}

/* ---- repairing ---- */

/* A fresh name in quarantine/ for what; the path. */
static char *
ld_quarantine_path(struct fs *fs, const char *what)
{
	char stamp[32], *p;
	struct stat sb;
	time_t now = time(NULL);
	struct tm tm;
	int i;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	p = xprintf("%s/quarantine/%s-%s", fs->dir, stamp, what);
	for (i = 2; lstat(p, &sb) == 0; i++) {
		free(p);
		p = xprintf("%s/quarantine/%s-%s.%d", fs->dir, stamp, what, i);
	}
	return p;
}

/* Copies the torn tail of path (what its scan ended at) to quarantine as what, then cuts it. */
static int
ld_cut_tail(struct ld *l, const char *path, const char *what, const struct fs_scan_end *end,
    char **cause)
{
	char *qpath = ld_quarantine_path(l->fs, what), *qdir = xprintf("%s/quarantine", l->fs->dir);
	size_t len = (size_t)(end->file_end - end->good_end), off = 0;
	char *buf = xmalloc(len + 1);
	int fd = -1, rv = -1;
	ssize_t n;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		goto fail;
	while (off < len && (n = pread(fd, buf + off, len - off, end->good_end + (off_t)off)) > 0)
		off += (size_t)n;
	if (fs_write_atomic(qdir, strrchr(qpath, '/') + 1, l->fs->tmp, buf, off,
	    l->fs->opt.sync != STORE_SYNC_NONE, cause) != 0)
		goto out;
	if (ftruncate(fd, end->good_end) != 0 || fsync(fd) != 0)
		goto fail;
	ld_problem(l, path, 1, "after record %llu: %s: cut the torn tail (%zu bytes, kept as %s)",
	    (unsigned long long)end->last, end->why, len, qpath);
	rv = 0;
	goto out;
fail:
	*cause = xprintf("cannot cut the torn tail of %s: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(qdir);
	free(qpath);
	return rv;
}

static int
ld_fix_tail(struct ld *l, struct ld_log *lg, char **cause)
{
	char *path = ld_log_path(l->fs, lg->name), *what = xprintf("%s.log.tail", lg->name);
	int rv = ld_cut_tail(l, path, what, &lg->end, cause);

	free(what);
	free(path);
	return rv;
}

static int
ld_fix_orphan(struct ld *l, struct ld_log *lg, char **cause)
{
	char *path = ld_log_path(l->fs, lg->name), *what = xprintf("logs-%s.log", lg->name);
	char *qpath = ld_quarantine_path(l->fs, what), *dir = xprintf("%s/logs", l->fs->dir);
	char *qdir = xprintf("%s/quarantine", l->fs->dir);
	int rv = 0;

	if (rename(path, qpath) != 0) {
		*cause = xprintf("cannot move %s to quarantine: %s", path, strerror(errno));
		rv = -1;
	} else if (l->fs->opt.sync != STORE_SYNC_NONE &&
	    (fs_fsync_dir(qdir, cause) != 0 || fs_fsync_dir(dir, cause) != 0))
		rv = -1;
	else {
		ld_problem(l, path, 1, "a log without a session document: moved to %s", qpath);
		lg->exists = 0;
		lg->end.last = 0;
		lg->end.good_end = 0;
	}
	free(qdir);
	free(dir);
	free(qpath);
	free(what);
	free(path);
	return rv;
}

/* Appends the record a document committed that a crash kept out of its log. */
static int
ld_fix_then(struct ld *l, struct ld_log *lg, char **cause)
{
	struct fs_log *lf = fs_log_get(l->fs, lg->name);
	char *path = ld_log_path(l->fs, lg->name);
	enum store_err err;
	int rv = -1;

	lf->last = lg->end.last;
	lf->size = lg->end.good_end;
	if (fs_log_write(l->fs, lf, lg->then->f.then_json, lg->then->f.then_len, &err, cause) == 0 &&
	    fs_log_sync(l->fs, lf, cause) == 0) {
		ld_problem(l, path, 1, "appended record %llu, which its document committed",
		    (unsigned long long)lf->last);
		lg->exists = 1;
		lg->end.last = lf->last;
		lg->end.good_end = lf->size;
		rv = 0;
	}
	free(path);
	return rv;
}

/*
 * After the other repairs: the documents the journal had newer are written
 * to their files, then both journal files are emptied (a torn last record
 * kept in quarantine). Read-only, they are kept for reads instead, and with
 * a problem left nothing is written.
 */
static int
ld_fix_journal(struct ld *l, char **cause)
{
	struct fs *fs = l->fs;
	char *what;
	size_t i;
	int j, rv = 0;

	if (fs->opt.readonly || l->problems > 0) {
		for (i = 0; i < l->ndocs && fs->opt.readonly; i++)
			if (l->docs[i].journal)
				fs_journal_keep(fs, l->docs[i].kind, l->docs[i].id,
				    l->docs[i].f.rev, l->docs[i].data, strlen(l->docs[i].data));
		for (j = 0; j < 2; j++)
			if (l->journal[j].end.why != NULL && l->journal[j].end.at_tail)
				ld_problem(l, l->journal[j].path, 0, "%s: torn tail, cut at the "
				    "next start", l->journal[j].end.why);
		return 0;
	}
	for (i = 0; i < l->ndocs && rv == 0; i++) {
		struct ld_doc *d = &l->docs[i];
		if (!d->journal)
			continue;
		rv = fs_journal_write_file(fs, d->kind, d->id, d->data, strlen(d->data), cause);
	}
	for (j = 0; j < 2 && rv == 0; j++) {
		struct ld_journal *lj = &l->journal[j];
		if (!lj->exists || lj->end.file_end == 0)
			continue;
		if (lj->end.why != NULL) {
			what = xprintf("journal-%c.log.tail", 'a' + j);
			rv = ld_cut_tail(l, lj->path, what, &lj->end, cause);
			free(what);
		}
		if (rv == 0 && truncate(lj->path, 0) != 0) {
			*cause = xprintf("cannot empty %s: %s", lj->path, strerror(errno));
			rv = -1;
		}
	}
	if (rv == 0 && l->from_journal > 0 && l->ld->note != NULL) {
		what = xprintf("%d documents newer in the journal than in their files: written",
		    l->from_journal);
		l->ld->note(l->ld->arg, fs->dir, what);
		free(what);
	}
	return rv;
}

static const char *
ld_repair_name(enum repair_kind k)
{
	return k == REPAIR_TAIL ? "torn tail, cut at the next start" : k == REPAIR_ORPHAN ?
	    "a log without a session document, set aside at the next start" :
	    "a record its document committed is missing, appended at the next start";
}

static int
ld_repair_all(struct ld *l, char **cause)
{
	size_t i;
	int rv;

	for (i = 0; i < l->nrep; i++) {
		struct ld_repair *r = &l->rep[i];
		if (l->fs->opt.readonly || l->problems > 0) {
			char *path = ld_log_path(l->fs, r->lg->name);
			ld_problem(l, path, 0, "%s%s%s", r->kind == REPAIR_TAIL ? r->lg->end.why : "",
			    r->kind == REPAIR_TAIL ? ": " : "", ld_repair_name(r->kind));
			free(path);
			continue;
		}
		rv = r->kind == REPAIR_TAIL ? ld_fix_tail(l, r->lg, cause) :
		    r->kind == REPAIR_ORPHAN ? ld_fix_orphan(l, r->lg, cause) :
		    ld_fix_then(l, r->lg, cause);
		if (rv != 0)
			return -1;
	}
	return 0;
}

/* ---- handing over ---- */

static void
ld_list_quarantine(struct ld *l)
{
	struct dirent **list;
	char *path;
	int i, n;

	if ((n = ld_list(l, "quarantine", &list)) < 0)
		return;
	for (i = 0; i < n; i++) {
		if (!dot(list[i]->d_name) && l->ld->note != NULL) {
			path = xprintf("%s/quarantine/%s", l->fs->dir, list[i]->d_name);
			l->ld->note(l->ld->arg, path, "in quarantine: removed by a repair, kept "
			    "for the operator");
			free(path);
		}
		free(list[i]);
	}
	free(list);
}

struct ld_give {
	struct ld	*l;
	int		 rv;
	char		**cause;
};

static void
ld_give_log(const char *key, void *val, void *arg)
{
	struct ld_give *g = arg;
	struct ld_log *lg = val;
	struct fs_log *lf;

	(void)key;
	if (g->rv != 0 || (!lg->exists && lg->end.last == 0))
		return;
	lf = fs_log_get(g->l->fs, lg->name);
	lf->last = lf->durable = lg->end.last;
	lf->size = lf->durable_size = lg->end.good_end;
	lf->covered = lg->vouched;
	if (g->l->ld->log != NULL)
		g->rv = g->l->ld->log(g->l->ld->arg, lg->name, lg->end.last, g->cause);
}

static int
ld_give(struct ld *l, char **cause)
{
	struct ld_give g = { l, 0, cause };
	struct store_doc d;
	size_t i;

	for (i = 0; i < l->ndocs && g.rv == 0; i++) {
		d.kind = l->docs[i].kind;
		d.id = l->docs[i].id;
		d.rev = l->docs[i].f.rev;
		d.json = l->docs[i].f.json;
		d.len = l->docs[i].f.len;
		fs_set_rev(l->fs, d.kind, d.id, d.rev);
		if (l->ld->doc != NULL)
			g.rv = l->ld->doc(l->ld->arg, &d, cause);
	}
	if (g.rv == 0)
		strmap_each(l->logs, ld_give_log, &g);
	return g.rv;
}

static void
ld_log_free(void *val)
{
	struct ld_log *lg = val;

	free(lg->end.why);
	free(lg->name);
	free(lg);
}

/* Leftovers in tmp/ are replacements never renamed into place: never acknowledged. */
static void
ld_clean_tmp(struct fs *fs)
{
	DIR *d = opendir(fs->tmp);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

int
fs_load(void *be, const struct store_loader *ld, enum store_err *err, char **cause)
{
	struct fs *fs = be;
	struct ld l;
	int k, rv = -1;
	size_t i;

	memset(&l, 0, sizeof l);
	l.fs = fs;
	l.ld = ld;
	l.logs = strmap_new();
	*err = STORE_OK;
	ld_read_checkpoint(&l);
	for (k = 0; k < STORE_NKINDS && !l.io; k++)
		ld_read_docs(&l, (enum store_kind)k);
	if (!l.io)
		ld_read_journal(&l);
	ld_vouch(&l);
	if (!l.io)
		ld_read_logs(&l);
	if (!l.io)
		ld_list_quarantine(&l);
	if (l.io) {
		*err = STORE_IO;
		*cause = l.io_cause;
		l.io_cause = NULL;
		goto out;
	}
	strmap_each(l.logs, ld_judge_log, &l);
	if (ld_repair_all(&l, cause) != 0 || ld_fix_journal(&l, cause) != 0) {
		*err = STORE_IO;
		goto out;
	}
	if (!fs->opt.readonly)
		ld_clean_tmp(fs);
	if (ld_give(&l, cause) != 0) {
		*err = STORE_INVALID;
		goto out;
	}
	fs->loaded = 1;
	rv = l.problems;
out:
	for (i = 0; i < l.ndocs; i++) {
		free(l.docs[i].id);
		free(l.docs[i].data);
	}
	free(l.docs);
	free(l.rep);
	free(l.io_cause);
	strmap_free(l.logs, ld_log_free);
	if (l.index != NULL)
		strmap_free(l.index, NULL);
	for (k = 0; k < 2; k++) {
		free(l.journal[k].path);
		free(l.journal[k].end.why);
	}
	return rv;
}

/* ---- file-level checks (fsck) ---- */

static void
ck_mode(struct ld *l, const char *path, int isdir)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		ld_problem(l, path, 0, "cannot stat: %s", strerror(errno));
	else if (isdir && !S_ISDIR(sb.st_mode))
		ld_problem(l, path, 0, "not a directory");
	else if (!isdir && !S_ISREG(sb.st_mode))
		ld_problem(l, path, 0, "not a regular file");
	else if ((sb.st_mode & 0777) != (isdir ? 0700u : 0600u))
		ld_problem(l, path, 0, "mode %04o, must be %04o", (unsigned)(sb.st_mode & 0777),
		    isdir ? 0700u : 0600u);
	else if (sb.st_uid != getuid())
		ld_problem(l, path, 0, "owned by uid %u, not by us", (unsigned)sb.st_uid);
}

static void
ck_tree(struct ld *l, const char *path, int depth)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;
	char *p;

	ck_mode(l, path, 1);
	if (depth > 1 || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = xprintf("%s/%s", path, de->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			ck_tree(l, p, depth + 1);
		else
			ck_mode(l, p, 0);
		free(p);
	}
	closedir(d);
}

int
fs_check_files(void *be, const struct store_loader *ld)
{
	struct ld l;

	memset(&l, 0, sizeof l);
	l.fs = be;
	l.ld = ld;
	ck_tree(&l, l.fs->dir, 0);
	return l.problems;
}
