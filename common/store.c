/*
 * The store interface (store.h): picks the backend by the form of the spec,
 * checks every request's arguments once for all backends, and runs watches
 * (a backend only says what became durable).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "store_be.h"
#include "store_format.h"
#include "xmalloc.h"

const char *
store_err_name(enum store_err e)
{
	switch (e) {
	case STORE_OK:		return "ok";
	case STORE_CONFLICT:	return "conflict";
	case STORE_NOT_FOUND:	return "not_found";
	case STORE_IO:		return "io";
	case STORE_CORRUPT:	return "corrupt";
	case STORE_FULL:	return "full";
	case STORE_BUSY:	return "busy";
	case STORE_FORMAT_ERR:	return "format";
	case STORE_INVALID:	return "invalid";
	}
	return "io";
}

enum store_err
store_errno(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EFBIG ? STORE_FULL : STORE_IO;
}

struct store *
store_open(const char *spec, struct event_base *base, const struct store_options *opt,
    enum store_err *err, char **cause)
{
	struct store *st;
	const struct store_ops *ops = &store_fs_ops;

	*err = STORE_OK;
	if (strncmp(spec, "etcd://", 7) == 0)
		ops = &store_etcd_ops;
	else if (strstr(spec, "://") != NULL) {
		*err = STORE_INVALID;
		*cause = xprintf("%s: unknown store (a directory, or etcd://HOST:PORT)", spec);
		return NULL;
	}
	st = xcalloc(1, sizeof *st);
	st->ops = ops;
	st->where = xstrdup(spec);
	st->base = base;
	st->log_watches = strmap_new();
	TAILQ_INIT(&st->kind_watches);
	st->be = ops == &store_fs_ops ? store_fs_open(st, spec, opt, err, cause) :
	    store_etcd_open(st, spec, opt, err, cause);
	if (st->be == NULL) {
		strmap_free(st->log_watches, free);
		free(st->where);
		free(st);
		return NULL;
	}
	return st;
}

int
store_shared(const struct store *st)
{
	return st->ops->shared;
}

int
store_available(const struct store *st)
{
	return st->ops->available == NULL || st->ops->available(st->be);
}

int
store_full_soon(const struct store *st)
{
	return st->ops->full_soon != NULL && st->ops->full_soon(st->be);
}

void
store_on_available(struct store *st, void (*fn)(void *, int), void *arg)
{
	st->avail_fn = fn;
	st->avail_arg = arg;
}

void
store_notify_available(struct store *st, int available)
{
	if (st->avail_fn != NULL)
		st->avail_fn(st->avail_arg, available);
}

const char *
store_where(const struct store *st)
{
	return st->where;
}

int
store_load(struct store *st, const struct store_loader *ld, enum store_err *err, char **cause)
{
	return st->ops->load(st->be, ld, err, cause);
}

static int
id_ok(const char *id)
{
	return id != NULL && store_id_valid(id, strlen(id));
}

/* One JSON object on one line, under max bytes. */
static int
text_ok(const char *json, size_t len, size_t max)
{
	return json != NULL && len >= 2 && len < max && json[0] == '{' &&
	    json[len - 1] == '}' && memchr(json, '\n', len) == NULL;
}

void
store_get(struct store *st, enum store_kind kind, const char *id, store_get_cb cb, void *arg)
{
	if (!id_ok(id) || (unsigned)kind >= STORE_NKINDS) {
		cb(arg, STORE_INVALID, NULL, "not a document id");
		return;
	}
	st->ops->get(st->be, kind, id, cb, arg);
}

void
store_put(struct store *st, enum store_kind kind, const char *id, uint64_t expect_rev,
    const char *json, size_t len, const struct store_then *then, store_put_cb cb, void *arg)
{
	if (!id_ok(id) || (unsigned)kind >= STORE_NKINDS || !text_ok(json, len, STORE_DOC_MAX)) {
		cb(arg, STORE_INVALID, 0, "not a document (one JSON object without newlines)");
		return;
	}
	if (then != NULL && (!id_ok(then->log) || then->seq == 0 ||
	    !text_ok(then->json, then->len, STORE_RECORD_MAX - 64))) {
		cb(arg, STORE_INVALID, 0, "not a record (one JSON object without newlines)");
		return;
	}
	st->ops->put(st->be, kind, id, expect_rev, json, len, then, cb, arg);
}

void
store_put_later(struct store *st, enum store_kind kind, const char *id, uint64_t expect_rev,
    const char *json, size_t len, store_put_cb cb, void *arg)
{
	if (!id_ok(id) || (unsigned)kind >= STORE_NKINDS || !text_ok(json, len, STORE_DOC_MAX)) {
		cb(arg, STORE_INVALID, 0, "not a document (one JSON object without newlines)");
		return;
	}
	if (st->ops->put_later == NULL)
		st->ops->put(st->be, kind, id, expect_rev, json, len, NULL, cb, arg);
	else
		st->ops->put_later(st->be, kind, id, expect_rev, json, len, cb, arg);
}

void
store_append(struct store *st, const char *log, uint64_t expect_last, const char *json,
    size_t len, store_append_cb cb, void *arg)
{
	store_append_if(st, log, expect_last, NULL, json, len, cb, arg);
}

void
store_append_if(struct store *st, const char *log, uint64_t expect_last,
    const struct store_guard *g, const char *json, size_t len, store_append_cb cb, void *arg)
{
	if (!id_ok(log) || !text_ok(json, len, STORE_RECORD_MAX - 64) ||
	    (g != NULL && (!id_ok(g->id) || (unsigned)g->kind >= STORE_NKINDS))) {
		cb(arg, STORE_INVALID, 0, "not a record (one JSON object without newlines)");
		return;
	}
	/* A store only this server writes has nothing else to compare. */
	if (g != NULL && st->ops->append_if != NULL)
		st->ops->append_if(st->be, log, expect_last, g, json, len, cb, arg);
	else
		st->ops->append(st->be, log, expect_last, json, len, cb, arg);
}

void
store_read(struct store *st, const char *log, uint64_t from, size_t max_records,
    size_t max_bytes, store_page_cb cb, void *arg)
{
	if (!id_ok(log) || from == 0) {
		cb(arg, STORE_INVALID, NULL, 0, "not a log name, or seq 0");
		return;
	}
	st->ops->read(st->be, log, from, max_records ? max_records : 1, max_bytes, cb, arg);
}

int
store_can_remove(const struct store *st)
{
	return st->ops->remove != NULL;
}

void
store_remove(struct store *st, enum store_kind kind, const char *id, uint64_t expect_rev,
    const char *log, store_done_cb cb, void *arg)
{
	if (st->ops->remove == NULL || !id_ok(id) || (unsigned)kind >= STORE_NKINDS ||
	    (log != NULL && !id_ok(log))) {
		cb(arg, STORE_INVALID, st->ops->remove == NULL ? "this store keeps everything" :
		    "not a document id or log name");
		return;
	}
	st->ops->remove(st->be, kind, id, expect_rev, log, cb, arg);
}

void
store_flush(struct store *st, store_done_cb cb, void *arg)
{
	st->ops->flush(st->be, cb, arg);
}

void
store_barrier(struct store *st, store_done_cb cb, void *arg)
{
	if (st->ops->barrier == NULL)
		cb(arg, STORE_OK, NULL);
	else
		st->ops->barrier(st->be, cb, arg);
}

int
store_broken(const struct store *st)
{
	return st->ops->broken(st->be);
}

int
store_pending(const struct store *st)
{
	return st->ops->pending(st->be);
}

void
store_stats(const struct store *st, struct store_stats *out)
{
	memset(out, 0, sizeof *out);
	st->ops->stats(st->be, out);
	out->backend = st->ops->name;
}

int
store_check_files(struct store *st, const struct store_loader *ld)
{
	return st->ops->check_files(st->be, ld);
}

/* ---- watches ---- */

static void
watch_free(struct store_watch *w)
{
	if (w->replay_ev != NULL)
		event_free(w->replay_ev);
	free(w->log);
	free(w);
}

static struct store_watchq *
watch_queue(struct store *st, const struct store_watch *w)
{
	return w->log != NULL ? strmap_get(st->log_watches, w->log) : &st->kind_watches;
}

static void
watch_remove(struct store *st, struct store_watch *w)
{
	struct store_watchq *q = watch_queue(st, w);

	TAILQ_REMOVE(q, w, entry);
	if (w->log != NULL && TAILQ_EMPTY(q))
		free(strmap_del(st->log_watches, w->log));
	watch_free(w);
}

static void
sweep_queue(struct store *st, struct store_watchq *q)
{
	struct store_watch *w, *next;

	for (w = TAILQ_FIRST(q); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->dead && !w->reading)
			watch_remove(st, w);
	}
}

static void
sweep_log(const char *key, void *val, void *arg)
{
	struct store_watchq *q = val;
	struct store_watch *w;

	(void)key;
	TAILQ_FOREACH(w, q, entry)
		if (w->dead && !w->reading)
			*(struct store_watchq **)arg = q;
}

/* Frees the watches unwatched while a notification was running. */
static void
watch_sweep(struct store *st)
{
	struct store_watchq *q;

	if (!st->dead)
		return;
	st->dead = 0;
	sweep_queue(st, &st->kind_watches);
	/* A queue may empty itself (and leave the map): find them one at a time. */
	for (;;) {
		q = NULL;
		strmap_each(st->log_watches, sweep_log, &q);
		if (q == NULL)
			break;
		sweep_queue(st, q);
	}
}

/*
 * A new watch is handed what its log held before it, page by page, then
 * live. A page may come back later (etcd) or at once (the flat files): the
 * next one is asked for from the loop, so neither recursion nor a frame on
 * the stack outlives its call.
 */
static void	watch_replay(evutil_socket_t, short, void *);

static void
watch_page(void *arg, enum store_err err, const struct store_record *recs, size_t n,
    const char *cause)
{
	struct store_watch *w = arg;
	struct store *st = w->st;
	size_t i;

	(void)cause;
	w->reading = 0;
	st->notifying++;
	for (i = 0; err == STORE_OK && i < n && !w->dead; i++) {
		if (recs[i].seq != w->next)
			continue;
		w->next++;
		w->rfn(w->arg, &recs[i]);
	}
	if (err != STORE_OK && !w->dead && w->replay_ev != NULL) {
		/* Not read (etcd out of reach): again a little later, or it would stall. */
		struct timeval tv = { 0, 200 * 1000 };

		event_add(w->replay_ev, &tv);
	} else if (err != STORE_OK || n == 0 || w->dead ||
	    w->next > st->ops->durable_last(st->be, w->log))
		w->replaying = 0;
	else if (w->replay_ev != NULL)
		event_active(w->replay_ev, EV_TIMEOUT, 0);
	if (w->dead)
		st->dead = 1;
	if (--st->notifying == 0)
		watch_sweep(st);
}

static void
watch_replay(evutil_socket_t fd, short what, void *arg)
{
	struct store_watch *w = arg;
	struct store *st = w->st;

	(void)fd;
	(void)what;
	if (w->dead || w->next > st->ops->durable_last(st->be, w->log)) {
		w->replaying = 0;
		return;
	}
	w->reading = 1;
	st->ops->read(st->be, w->log, w->next, 256, 1 << 20, watch_page, w);
}

struct store_watch *
store_watch_log(struct store *st, const char *log, uint64_t from, store_record_cb fn, void *arg)
{
	struct store_watchq *q;
	struct store_watch *w;

	if (!id_ok(log))
		return NULL;
	w = xcalloc(1, sizeof *w);
	w->st = st;
	w->log = xstrdup(log);
	w->next = from ? from : 1;
	w->rfn = fn;
	w->arg = arg;
	if ((q = strmap_get(st->log_watches, log)) == NULL) {
		q = xmalloc(sizeof *q);
		TAILQ_INIT(q);
		strmap_put(st->log_watches, log, q);
	}
	TAILQ_INSERT_TAIL(q, w, entry);
	if (w->next <= st->ops->durable_last(st->be, log)) {
		w->replaying = 1;
		if (st->base != NULL) {
			w->replay_ev = event_new(st->base, -1, 0, watch_replay, w);
			event_active(w->replay_ev, EV_TIMEOUT, 0);
		} else
			/* No loop: the reads complete before they return. */
			while (w->replaying && !w->reading)
				watch_replay(-1, 0, w);
	}
	return w;
}

struct store_watch *
store_watch_kind(struct store *st, enum store_kind kind, store_doc_cb fn, void *arg)
{
	struct store_watch *w = xcalloc(1, sizeof *w);

	w->st = st;
	w->kind = kind;
	w->dfn = fn;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&st->kind_watches, w, entry);
	return w;
}

void
store_unwatch(struct store_watch *w)
{
	struct store *st;

	if (w == NULL)
		return;
	st = w->st;
	w->dead = 1;
	/* A page being read comes back to it: it goes once that page is in. */
	if (st->notifying == 0 && !w->reading)
		watch_remove(st, w);
	else
		st->dead = 1;
}

void
store_notify_record(struct store *st, const struct store_record *rec)
{
	struct store_watchq *q = strmap_get(st->log_watches, rec->log);
	struct store_watch *w;

	if (q == NULL)
		return;
	st->notifying++;
	TAILQ_FOREACH(w, q, entry) {
		if (w->dead || w->replaying || w->next != rec->seq)
			continue;
		w->next++;
		w->rfn(w->arg, rec);
	}
	if (--st->notifying == 0)
		watch_sweep(st);
}

void
store_notify_doc(struct store *st, const struct store_doc *doc)
{
	struct store_watch *w;

	st->notifying++;
	TAILQ_FOREACH(w, &st->kind_watches, entry)
		if (!w->dead && w->kind == doc->kind)
			w->dfn(w->arg, doc);
	if (--st->notifying == 0)
		watch_sweep(st);
}

static void
free_log_queue(const char *key, void *val, void *arg)
{
	struct store_watchq *q = val;
	struct store_watch *w;

	(void)key;
	(void)arg;
	while ((w = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, w, entry);
		watch_free(w);
	}
}

void
store_close(struct store *st)
{
	struct store_watch *w;

	if (st == NULL)
		return;
	st->ops->close(st->be);
	while ((w = TAILQ_FIRST(&st->kind_watches)) != NULL)
		watch_remove(st, w);
	strmap_each(st->log_watches, free_log_queue, NULL);
	strmap_free(st->log_watches, free);
	free(st->where);
	free(st);
}
