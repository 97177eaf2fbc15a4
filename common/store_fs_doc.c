/*
 * The flat-file store's documents: DIR/KIND/ID.json, framed with a revision,
 * the checkpoint of the session's log and a CRC (store_format.c). With an
 * event loop a put is a record of the journal (store_fs_journal.c), which
 * writes the file behind it; without one (offline tools), or for a document
 * too large for a journal record, the file is replaced atomically (tmp/,
 * fsync, rename, fsync the directory). A put that carries a record writes
 * the document first: it is the commit point, and a crash before the record
 * reaches its log is mended at the next start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failpoint.h"
#include "fsutil.h"
#include "store_format.h"
#include "store_fs.h"
#include "xmalloc.h"

static uint64_t
fs_rev(struct fs *fs, enum store_kind kind, const char *id)
{
	uint64_t *r = strmap_get(fs->revs[kind], id);

	return r != NULL ? *r : 0;
}

void
fs_set_rev(struct fs *fs, enum store_kind kind, const char *id, uint64_t rev)
{
	uint64_t *r = strmap_get(fs->revs[kind], id);

	if (r == NULL) {
		r = xmalloc(sizeof *r);
		strmap_put(fs->revs[kind], id, r);
	}
	*r = rev;
}

void
fs_get(void *be, enum store_kind kind, const char *id, store_get_cb cb, void *arg)
{
	struct fs *fs = be;
	char *path, *data = NULL, *cause = NULL, *why = NULL;
	const char *text;
	struct store_frame f;
	struct store_doc d;
	size_t len;
	int e;

	/* A put of it waiting: made first (a failed one leaves the file as it was). */
	if (fs_doc_waiting(fs, kind, id) && fs_commit(fs, &cause) != 0) {
		free(cause);
		cause = NULL;
	}
	path = xprintf("%s/%s/%s.json", fs->dir, fs_kind_dir(kind), id);
	if ((e = failpoint_errno("store-read-doc")) != 0) {
		cause = xprintf("cannot read %s: %s", path, strerror(e));
		cb(arg, store_errno(e), NULL, cause);
	} else if ((text = fs_journal_doc(fs, kind, id, &len)) != NULL &&
	    store_unframe_doc(text, len, &f, &why) == 0) {
		d.kind = kind;		/* newer in the journal than in its file */
		d.id = id;
		d.rev = f.rev;
		d.json = f.json;
		d.len = f.len;
		cb(arg, STORE_OK, &d, NULL);
	} else if (fs_read_file(path, STORE_DOC_MAX + 4096, &data, &len, &cause) != 0)
		cb(arg, errno == ENOENT ? STORE_NOT_FOUND : store_errno(errno), NULL, cause);
	else if (store_unframe_doc(data, len, &f, &why) != 0) {
		free(cause);
		cause = xprintf("%s: %s", path, why);
		cb(arg, STORE_CORRUPT, NULL, cause);
	} else {
		d.kind = kind;
		d.id = id;
		d.rev = f.rev;
		d.json = f.json;
		d.len = f.len;
		cb(arg, STORE_OK, &d, NULL);
	}
	free(why);
	free(cause);
	free(data);
	free(path);
}

/* Whether a put may go on: 0, or its refusal sent. */
static int
fs_put_check(struct fs *fs, enum store_kind kind, const char *id, uint64_t expect_rev,
    const struct store_then *then, store_put_cb cb, void *arg)
{
	uint64_t cur = fs_rev(fs, kind, id);
	struct fs_log *tl;
	char *cause;

	if (fs->opt.readonly || !fs->loaded || fs->broken) {
		cb(arg, fs->broken ? STORE_IO : STORE_INVALID, 0, fs->broken ?
		    "the store is broken (a sync failed): restart the server" :
		    fs->opt.readonly ? "the store is open read-only" : "the store is not loaded");
		return -1;
	}
	if (expect_rev != STORE_REV_ANY && expect_rev != cur) {
		cause = cur == 0 ? xprintf("%s %s does not exist", fs_kind_dir(kind), id) :
		    xprintf("%s %s is at revision %llu, not %llu", fs_kind_dir(kind), id,
		    (unsigned long long)cur, (unsigned long long)expect_rev);
		cb(arg, STORE_CONFLICT, 0, cause);
		free(cause);
		return -1;
	}
	if (then != NULL && (tl = fs_log_get(fs, then->log))->last != then->seq - 1) {
		cause = xprintf("log %s is at %llu, not %llu", then->log,
		    (unsigned long long)tl->last, (unsigned long long)(then->seq - 1));
		cb(arg, STORE_CONFLICT, 0, cause);
		free(cause);
		return -1;
	}
	return 0;
}

/*
 * The record the put carried, after its document. The document vouches for
 * it (a crash before the record is synced is mended at the next start), so
 * with a loop its sync waits for the group commit, off the call: the caller
 * is told at once, and reads and watches have the record once it is synced
 * (a read of it meanwhile commits first, fs_read).
 */
static int
fs_put_then(struct fs *fs, const struct store_then *then, char **cause)
{
	struct fs_log *tl = fs_log_get(fs, then->log);
	enum store_err err;

	if (fs_log_write(fs, tl, then->json, then->len, &err, cause) != 0) {
		/* The document says it is there: only the next start can append it. */
		fs->broken = 1;
		return -1;
	}
	if (fs->st->base != NULL && fs->opt.sync != STORE_SYNC_NONE)
		fs_pend_append(fs, tl, then->json, then->len, NULL, NULL);
	else if (fs_log_sync(fs, tl, cause) != 0)
		return -1;
	else
		fs_log_committed(fs, tl, tl->last, tl->size, then->json, then->len);
	return 0;
}

/*
 * What both puts do first: what must be durable before this document is
 * written (a put of it waiting, what its checkpoint vouches for, the waiting
 * records of the log its record goes to), the checks; then its revision and
 * framed text. NULL: refused or failed, cb told.
 */
static char *
fs_put_begin(struct fs *fs, enum store_kind kind, const char *id, uint64_t expect_rev,
    const char *json, size_t len, const struct store_then *then, store_put_cb cb, void *arg,
    uint64_t *rev, size_t *tlen)
{
	struct fs_log *lf = kind == STORE_SESSION ? strmap_get(fs->logs, id) : NULL;
	char *cause = NULL;

	/* Too large for the journal: its file is written at once, after any checkpoint's copy. */
	int direct = fs->jflushing > 0 &&
	    !fs_journal_fits(len + (then != NULL ? then->len + STORE_ID_MAX : 0) + 512);

	if ((fs_doc_waiting(fs, kind, id) || (lf != NULL && fs_log_waiting(lf)) ||
	    (then != NULL && fs_log_waiting(fs_log_get(fs, then->log))) || direct) &&
	    fs_commit(fs, &cause) != 0) {
		cb(arg, STORE_IO, 0, cause);
		free(cause);
		return NULL;
	}
	if (fs_put_check(fs, kind, id, expect_rev, then, cb, arg) != 0)
		return NULL;
	*rev = fs_rev(fs, kind, id) + 1;
	return store_frame_doc(json, len, *rev, lf != NULL ? lf->durable : 0,
	    then ? then->log : NULL, then ? then->seq : 0, then ? then->json : NULL,
	    then ? then->len : 0, tlen);
}

/* A document's replacement is made: its revision, what its header vouched for. */
static void
fs_put_made(struct fs *fs, enum store_kind kind, const char *id, uint64_t rev, uint64_t covers)
{
	struct fs_log *lf = kind == STORE_SESSION ? strmap_get(fs->logs, id) : NULL;

	fs_set_rev(fs, kind, id, rev);
	fs->stats.puts++;
	if (lf != NULL && covers > lf->covered)
		lf->covered = covers;
}

/* A put as a journal record: synced on the loop (one fdatasync), the file written behind it. */
static void
fs_put_journal(struct fs *fs, enum store_kind kind, const char *id, uint64_t rev,
    struct store_doc *d, const char *text, size_t tlen, const struct store_then *then,
    store_put_cb cb, void *arg)
{
	struct fs_log *lf = kind == STORE_SESSION ? strmap_get(fs->logs, id) : NULL;
	enum store_err err;
	char *cause = NULL;

	if (fs_journal_write(fs, kind, id, text, tlen, &err, &cause) != 0) {
		cb(arg, err, 0, cause);		/* taken back: nothing changed */
		free(cause);
		return;
	}
	if (fs->opt.sync != STORE_SYNC_NONE && fs_journal_sync(fs, &cause) != 0) {
		cb(arg, STORE_IO, 0, cause);	/* the store is broken: the caller must stop */
		free(cause);
		return;
	}
	/* Made: from here on the change is made, whatever follows. */
	fs_put_made(fs, kind, id, rev, lf != NULL ? lf->durable : 0);
	fs_journal_keep(fs, kind, id, rev, text, tlen);
	if (then != NULL && fs_put_then(fs, then, &cause) != 0) {
		cb(arg, STORE_IO, 0, cause);
		free(cause);
		return;
	}
	d->rev = rev;
	store_notify_doc(fs->st, d);
	cb(arg, STORE_OK, rev, NULL);
}

void
fs_put(void *be, enum store_kind kind, const char *id, uint64_t expect_rev, const char *json,
    size_t len, const struct store_then *then, store_put_cb cb, void *arg)
{
	struct fs *fs = be;
	char *dir, *name, *text, *cause = NULL;
	struct fs_log *lf = kind == STORE_SESSION ? strmap_get(fs->logs, id) : NULL;
	struct store_doc d = { kind, id, 0, json, len };
	uint64_t rev;
	size_t tlen;
	int e, rv;

	if ((text = fs_put_begin(fs, kind, id, expect_rev, json, len, then, cb, arg, &rev,
	    &tlen)) == NULL)
		return;
	if (fs_journal_used(fs) && fs_journal_fits(tlen)) {
		fs_put_journal(fs, kind, id, rev, &d, text, tlen, then, cb, arg);
		free(text);
		return;
	}
	dir = xprintf("%s/%s", fs->dir, fs_kind_dir(kind));
	name = xprintf("%s.json", id);
	if ((e = failpoint_errno("store-put")) != 0) {
		cause = xprintf("cannot write %s/%s: %s", dir, name, strerror(e));
		rv = -1;
		errno = e;
	} else
		rv = fs_write_atomic(dir, name, fs->tmp, text, tlen,
		    fs->opt.sync != STORE_SYNC_NONE, &cause);
	if (rv == 0 && (e = failpoint_errno("store-put-dirsync")) != 0) {
		cause = xprintf("cannot sync %s: %s", dir, strerror(e));
		rv = FS_REPLACED_UNSYNCED;
	}
	free(text);
	free(name);
	free(dir);
	if (rv == -1) {
		cb(arg, store_errno(errno), 0, cause);
		free(cause);
		return;
	}
	/* Replaced: from here on the change is made, whatever follows. */
	fs_put_made(fs, kind, id, rev, lf != NULL ? lf->durable : 0);
	fs_journal_drop(fs, kind, id);
	if (fs->opt.sync != STORE_SYNC_NONE)
		fs->stats.syncs += 2;
	if (rv == FS_REPLACED_UNSYNCED)
		fs->broken = 1;	/* durability unknown: the caller must stop */
	else if (then != NULL && fs_put_then(fs, then, &cause) != 0)
		rv = -1;
	if (rv != 0) {
		cb(arg, STORE_IO, 0, cause);
		free(cause);
		return;
	}
	d.rev = rev;
	store_notify_doc(fs->st, &d);
	cb(arg, STORE_OK, rev, NULL);
}

/* A document put later: its journal record synced by the group commit, or failed. */
static void
fs_put_later_done(struct fs *fs, struct fs_pending *p, enum store_err err, const char *cause)
{
	struct store_doc d = { p->kind, p->id, p->rev, NULL, 0 };
	struct store_frame f;
	char *why = NULL;

	if (err != STORE_OK) {
		if (p->pcb != NULL)
			p->pcb(p->arg, err, 0, cause);
		return;
	}
	fs_put_made(fs, p->kind, p->id, p->rev, p->covers);
	fs_journal_keep(fs, p->kind, p->id, p->rev, p->json, p->len);
	if (store_unframe_doc(p->json, p->len, &f, &why) == 0) {	/* our own text */
		d.json = f.json;
		d.len = f.len;
		store_notify_doc(fs->st, &d);
	}
	free(why);
	if (p->pcb != NULL)
		p->pcb(p->arg, STORE_OK, p->rev, NULL);
}

void
fs_put_later(void *be, enum store_kind kind, const char *id, uint64_t expect_rev,
    const char *json, size_t len, store_put_cb cb, void *arg)
{
	struct fs *fs = be;
	struct fs_log *lf = kind == STORE_SESSION ? strmap_get(fs->logs, id) : NULL;
	struct fs_pending p;
	enum store_err err;
	char *text, *cause = NULL;
	uint64_t rev;
	size_t tlen;

	if (fs->opt.sync == STORE_SYNC_NONE || !fs_journal_used(fs)) {
		fs_put(be, kind, id, expect_rev, json, len, NULL, cb, arg);
		return;
	}
	if ((text = fs_put_begin(fs, kind, id, expect_rev, json, len, NULL, cb, arg, &rev,
	    &tlen)) == NULL)
		return;
	if (!fs_journal_fits(tlen)) {
		free(text);
		fs_put(be, kind, id, expect_rev, json, len, NULL, cb, arg);
		return;
	}
	if (fs_journal_write(fs, kind, id, text, tlen, &err, &cause) != 0) {
		cb(arg, err, 0, cause);
		free(cause);
		free(text);
		return;
	}
	memset(&p, 0, sizeof p);
	p.done = fs_put_later_done;
	p.kind = kind;
	p.id = xstrdup(id);
	p.rev = rev;
	p.covers = lf != NULL ? lf->durable : 0;	/* what its header vouches for */
	p.pcb = cb;
	p.arg = arg;
	fs_journal_pend(fs, &p, text, tlen);
	free(text);
}
