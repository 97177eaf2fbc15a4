/*
 * Unit tests of the store interface (common/store.h). Every case takes only
 * a spec and talks to the store through the interface, so another backend
 * (etcd, design.md 11) runs the same suite by naming its own fresh spec.
 */
#include <errno.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "store.h"
#include "xmalloc.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); \
	failures++; } } while (0)

/* What the last callback said. */
struct res {
	int		 called;
	enum store_err	 err;
	uint64_t	 rev, seq;
	char		*json;
	uint64_t	 seqs[4096];
	size_t		 n;
};

static void
res_reset(struct res *r)
{
	free(r->json);
	memset(r, 0, sizeof *r);
}

static void
on_put(void *arg, enum store_err err, uint64_t rev, const char *cause)
{
	struct res *r = arg;

	(void)cause;
	r->called++;
	r->err = err;
	r->rev = rev;
}

static void
on_get(void *arg, enum store_err err, const struct store_doc *d, const char *cause)
{
	struct res *r = arg;

	(void)cause;
	r->called++;
	r->err = err;
	if (d != NULL) {
		r->rev = d->rev;
		free(r->json);
		r->json = xstrndup(d->json, d->len);
	}
}

static void
on_append(void *arg, enum store_err err, uint64_t seq, const char *cause)
{
	struct res *r = arg;

	(void)cause;
	r->called++;
	r->err = err;
	r->seq = seq;
}

static void
on_page(void *arg, enum store_err err, const struct store_record *recs, size_t n,
    const char *cause)
{
	struct res *r = arg;
	size_t i;
	char want[64];

	(void)cause;
	r->called++;
	r->err = err;
	for (i = 0; i < n && r->n < 4096; i++) {
		snprintf(want, sizeof want, "{\"n\":%llu}", (unsigned long long)recs[i].seq);
		if (strncmp(recs[i].json, "{\"n\":", 5) == 0)
			CHECK(recs[i].len == strlen(want) && memcmp(recs[i].json, want, recs[i].len) == 0);
		r->seqs[r->n++] = recs[i].seq;
	}
}

static void
on_record(void *arg, const struct store_record *rec)
{
	struct res *r = arg;

	if (r->n < 4096)
		r->seqs[r->n++] = rec->seq;
}

static void
on_doc(void *arg, const struct store_doc *d)
{
	struct res *r = arg;

	r->called++;
	r->rev = d->rev;
}

static int
ld_log(void *arg, const char *log, uint64_t last, char **cause)
{
	struct res *r = arg;

	(void)cause;
	if (strcmp(log, "S1") == 0)
		r->seq = last;
	return 0;
}

static int
ld_doc(void *arg, const struct store_doc *d, char **cause)
{
	struct res *r = arg;

	(void)cause;
	r->n++;
	if (d->kind == STORE_SESSION && strcmp(d->id, "S1") == 0)
		r->rev = d->rev;
	return 0;
}

static struct store *
open_store(const char *spec, struct event_base *base, enum store_sync sync, int ro, struct res *loaded)
{
	struct store_options o = { .sync = sync, .readonly = ro };
	struct store_loader ld = { loaded, ld_doc, ld_log, NULL, NULL };
	struct store *st;
	enum store_err err;
	char *cause = NULL;

	if ((st = store_open(spec, base, &o, &err, &cause)) == NULL) {
		fprintf(stderr, "store_open %s: %s\n", spec, cause);
		exit(1);
	}
	if (store_load(st, &ld, &err, &cause) != 0) {
		fprintf(stderr, "store_load %s: %s\n", spec, cause ? cause : "problems");
		exit(1);
	}
	return st;
}

static void
put(struct store *st, enum store_kind k, const char *id, uint64_t rev, const char *json,
    const struct store_then *then, struct res *r)
{
	res_reset(r);
	store_put(st, k, id, rev, json, strlen(json), then, on_put, r);
}

static void
append(struct store *st, const char *log, uint64_t expect, const char *json, struct res *r)
{
	res_reset(r);
	store_append(st, log, expect, json, strlen(json), on_append, r);
}

static void
test_documents(struct store *st)
{
	struct res r = { 0 };

	put(st, STORE_SESSION, "S1", STORE_REV_CREATE, "{\"id\":\"S1\",\"v\":1}", NULL, &r);
	CHECK(r.called == 1 && r.err == STORE_OK && r.rev == 1);
	put(st, STORE_SESSION, "S1", STORE_REV_CREATE, "{\"id\":\"S1\",\"v\":9}", NULL, &r);
	CHECK(r.err == STORE_CONFLICT);
	put(st, STORE_SESSION, "S1", 1, "{\"id\":\"S1\",\"v\":2}", NULL, &r);
	CHECK(r.err == STORE_OK && r.rev == 2);
	put(st, STORE_SESSION, "S1", 1, "{\"id\":\"S1\",\"v\":3}", NULL, &r);
	CHECK(r.err == STORE_CONFLICT);
	put(st, STORE_TRANSFER, "T1", STORE_REV_ANY, "{\"id\":\"T1\"}", NULL, &r);
	CHECK(r.err == STORE_OK && r.rev == 1);
	put(st, STORE_TRANSFER, "T2", 5, "{\"id\":\"T2\"}", NULL, &r);
	CHECK(r.err == STORE_CONFLICT);
	put(st, STORE_SESSION, "../x", STORE_REV_ANY, "{}", NULL, &r);
	CHECK(r.err == STORE_INVALID);
	put(st, STORE_SESSION, "S9", STORE_REV_ANY, "{\"a\":\n1}", NULL, &r);
	CHECK(r.err == STORE_INVALID);
	res_reset(&r);
	store_get(st, STORE_SESSION, "S1", on_get, &r);
	CHECK(r.called == 1 && r.err == STORE_OK && r.rev == 2 &&
	    strcmp(r.json, "{\"id\":\"S1\",\"v\":2}") == 0);
	res_reset(&r);
	store_get(st, STORE_INVITE, "S1", on_get, &r);
	CHECK(r.err == STORE_NOT_FOUND);
	res_reset(&r);
}

static void
test_logs(struct store *st)
{
	struct res r = { 0 };
	char json[64];
	uint64_t i, from;

	append(st, "S1", 0, "{\"n\":1}", &r);
	CHECK(r.called == 1 && r.err == STORE_OK && r.seq == 1);
	append(st, "S1", 0, "{\"n\":1}", &r);
	CHECK(r.err == STORE_CONFLICT);
	append(st, "S1", 5, "{\"n\":6}", &r);
	CHECK(r.err == STORE_CONFLICT);
	for (i = 2; i <= 2000; i++) {
		snprintf(json, sizeof json, "{\"n\":%llu}", (unsigned long long)i);
		append(st, "S1", i - 1, json, &r);
		CHECK(r.err == STORE_OK && r.seq == i);
	}
	append(st, "S1", 2000, "{\"n\":\n}", &r);
	CHECK(r.err == STORE_INVALID);
	res_reset(&r);
	store_read(st, "S1", 1, 10, 1 << 20, on_page, &r);
	CHECK(r.err == STORE_OK && r.n == 10 && r.seqs[0] == 1 && r.seqs[9] == 10);
	/* Pages bounded by bytes, from positions all over the file (the seek). */
	for (from = 1; from <= 2000; from += 137) {
		res_reset(&r);
		store_read(st, "S1", from, 1000, 64, on_page, &r);
		CHECK(r.err == STORE_OK && r.n >= 1 && r.n <= 8 && r.seqs[0] == from);
		for (i = 1; i < r.n; i++)
			CHECK(r.seqs[i] == from + i);
	}
	res_reset(&r);
	store_read(st, "S1", 1990, 100, 1 << 20, on_page, &r);
	CHECK(r.n == 11 && r.seqs[10] == 2000);
	res_reset(&r);
	store_read(st, "S1", 2001, 100, 1 << 20, on_page, &r);
	CHECK(r.err == STORE_OK && r.n == 0);
	res_reset(&r);
	store_read(st, "S404", 1, 100, 1 << 20, on_page, &r);
	CHECK(r.err == STORE_NOT_FOUND);
	res_reset(&r);
}

/* A put that carries a record: both, or neither. */
static void
test_then(struct store *st)
{
	struct store_then then = { "S2", 1, "{\"n\":1}", 7 };
	struct res r = { 0 };

	put(st, STORE_SESSION, "S2", STORE_REV_CREATE, "{\"id\":\"S2\"}", &then, &r);
	CHECK(r.err == STORE_OK && r.rev == 1);
	res_reset(&r);
	store_read(st, "S2", 1, 10, 4096, on_page, &r);
	CHECK(r.n == 1 && r.seqs[0] == 1);
	then.seq = 5;	/* the log is at 1: a conflict, and the document is not written */
	put(st, STORE_SESSION, "S2", 1, "{\"id\":\"S2\",\"x\":1}", &then, &r);
	CHECK(r.err == STORE_CONFLICT);
	res_reset(&r);
	store_get(st, STORE_SESSION, "S2", on_get, &r);
	CHECK(r.rev == 1);
	res_reset(&r);
}

static void
test_watch(struct store *st)
{
	struct res w = { 0 }, d = { 0 }, r = { 0 };
	struct store_watch *lw, *kw;

	lw = store_watch_log(st, "S1", 1995, on_record, &w);
	kw = store_watch_kind(st, STORE_TRANSFER, on_doc, &d);
	CHECK(w.n == 6 && w.seqs[0] == 1995 && w.seqs[5] == 2000);	/* no loop: replayed now */
	append(st, "S1", 2000, "{\"n\":2001}", &r);
	CHECK(w.n == 7 && w.seqs[6] == 2001);
	append(st, "S2", 1, "{\"n\":2}", &r);
	CHECK(w.n == 7);
	put(st, STORE_TRANSFER, "T1", 1, "{\"id\":\"T1\",\"v\":2}", NULL, &r);
	CHECK(d.called == 1 && d.rev == 2);
	store_unwatch(lw);
	store_unwatch(kw);
	append(st, "S1", 2001, "{\"n\":2002}", &r);
	CHECK(w.n == 7);
	res_reset(&r);
	res_reset(&w);
	res_reset(&d);
}

/* --sync batch: appends complete at the group commit, on the loop. */
static void
test_batch(const char *spec)
{
	struct event_base *base = event_base_new();
	struct res loaded = { 0 }, a = { 0 }, b = { 0 }, w = { 0 }, p = { 0 };
	struct store *st = open_store(spec, base, STORE_SYNC_BATCH, 0, &loaded);
	struct store_watch *lw;

	CHECK(loaded.seq == 2002 && loaded.rev == 2);
	lw = store_watch_log(st, "S1", 2003, on_record, &w);
	store_append(st, "S1", 2002, "{\"n\":2003}", 10, on_append, &a);
	store_append(st, "S1", 2003, "{\"n\":2004}", 10, on_append, &b);
	CHECK(a.called == 0 && b.called == 0 && store_pending(st) && w.n == 0);
	res_reset(&p);
	store_read(st, "S1", 2003, 10, 4096, on_page, &p);
	CHECK(p.n == 0);	/* not durable yet: not read back */
	/* The commit's sync runs on the sync thread; the loop hears when it is done. */
	while (store_pending(st))
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(a.called == 1 && a.err == STORE_OK && a.seq == 2003 && b.seq == 2004);
	CHECK(w.n == 2 && !store_pending(st));
	/* A document waits for nothing: what it vouches for is committed first. */
	res_reset(&a);
	store_append(st, "S1", 2004, "{\"n\":2005}", 10, on_append, &a);
	event_base_loop(base, EVLOOP_NONBLOCK);	/* the group goes to the sync thread */
	put(st, STORE_SESSION, "S1", 2, "{\"id\":\"S1\",\"v\":3}", NULL, &p);
	CHECK(a.called == 1 && p.err == STORE_OK && p.rev == 3);
	store_unwatch(lw);
	store_close(st);
	event_base_free(base);
	res_reset(&a);
	res_reset(&b);
	res_reset(&w);
	res_reset(&p);
	res_reset(&loaded);
}

static void
test_reopen(const char *spec)
{
	struct res loaded = { 0 }, r = { 0 };
	struct store *st = open_store(spec, NULL, STORE_SYNC_ALWAYS, 1, &loaded);

	CHECK(loaded.seq == 2005 && loaded.rev == 3);
	put(st, STORE_SESSION, "S1", 3, "{\"id\":\"S1\"}", NULL, &r);
	CHECK(r.err == STORE_INVALID);	/* read-only */
	append(st, "S1", 2005, "{\"n\":2006}", &r);
	CHECK(r.err == STORE_INVALID);
	res_reset(&r);
	store_read(st, "S1", 2000, 100, 1 << 20, on_page, &r);
	CHECK(r.n == 6 && r.seqs[5] == 2005);
	store_close(st);
	res_reset(&r);
	res_reset(&loaded);
}

/* A failed write changes nothing; the next one works. */
static const char *fp_file;

static void
failpoints(const char *spec)
{
	FILE *f = fopen(fp_file, "w");

	if (f == NULL || fputs(spec, f) == EOF || fclose(f) != 0) {
		perror(fp_file);
		exit(1);
	}
}

static void
test_faults(const char *spec)
{
	struct res loaded = { 0 }, r = { 0 };
	struct store *st;

	failpoints("store-put=ENOSPC@1,store-append=EIO@1");
	st = open_store(spec, NULL, STORE_SYNC_ALWAYS, 0, &loaded);
	put(st, STORE_SESSION, "S1", 3, "{\"id\":\"S1\",\"v\":4}", NULL, &r);
	CHECK(r.err == STORE_FULL);
	res_reset(&r);
	store_get(st, STORE_SESSION, "S1", on_get, &r);
	CHECK(r.rev == 3);
	put(st, STORE_SESSION, "S1", 3, "{\"id\":\"S1\",\"v\":4}", NULL, &r);
	CHECK(r.err == STORE_OK && r.rev == 4);
	append(st, "S1", 2005, "{\"n\":2006}", &r);
	CHECK(r.err == STORE_IO && !store_broken(st));
	append(st, "S1", 2005, "{\"n\":2006}", &r);
	CHECK(r.err == STORE_OK && r.seq == 2006);
	res_reset(&r);
	store_read(st, "S1", 2004, 100, 1 << 20, on_page, &r);
	CHECK(r.n == 3 && r.seqs[2] == 2006);
	store_close(st);
	failpoints("");
	res_reset(&r);
	res_reset(&loaded);
}

/*
 * --sync always: the event log's appends wait for the group commit, one
 * fdatasync for all of them, made on the sync thread; a failed one fails
 * them all and breaks the store.
 */
/* test_events_grouped: a put's record under --sync always, with a loop. */
static void
then_put_then_read(struct store *st, struct event_base *base, struct res *c, struct res *d)
{
	struct store_then then = { "G1", 1, "{\"n\":1}", 7 };
	struct store_stats s0, s1;
	struct res a = { 0 }, w = { 0 };
	struct store_watch *wt;

	put(st, STORE_SESSION, "G1", STORE_REV_CREATE, "{\"id\":\"G1\"}", NULL, c);
	CHECK(c->called == 1 && c->err == STORE_OK);
	wt = store_watch_log(st, "G1", 1, on_record, &w);
	res_reset(c);
	store_stats(st, &s0);
	put(st, STORE_SESSION, "G1", 1, "{\"id\":\"G1\",\"x\":1}", &then, c);
	store_stats(st, &s1);
	CHECK(c->called == 1 && c->err == STORE_OK && c->rev == 2);
	/* one fdatasync: the document's journal record (its file is written behind it) */
	CHECK(s1.syncs - s0.syncs == 1 && store_pending(st) && w.n == 0);
	store_read(st, "G1", 1, 10, 1 << 20, on_page, d);
	CHECK(d->err == STORE_OK && d->n == 1 && d->seqs[0] == 1 && w.n == 1);
	then.seq = 2;
	then.json = "{\"n\":2}";
	res_reset(c);
	put(st, STORE_SESSION, "G1", 2, "{\"id\":\"G1\",\"x\":2}", &then, c);
	store_append(st, "G1", 2, "{\"n\":3}", 7, on_append, &a);
	CHECK(c->err == STORE_OK && a.called == 0 && w.n == 1);
	while (store_pending(st))
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(a.called == 1 && a.err == STORE_OK && a.seq == 3);
	CHECK(w.n == 3 && w.seqs[1] == 2 && w.seqs[2] == 3);
	store_unwatch(wt);
	res_reset(&a);
	res_reset(&w);
}

static void
test_events_grouped(const char *spec)
{
	struct event_base *base = event_base_new();
	struct res loaded = { 0 }, a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct store *st = open_store(spec, base, STORE_SYNC_ALWAYS, 0, &loaded);
	struct store_stats s0, s1;

	store_stats(st, &s0);
	store_append(st, STORE_EVENTS, 0, "{\"e\":1}", 7, on_append, &a);
	store_append(st, STORE_EVENTS, 1, "{\"e\":2}", 7, on_append, &b);
	CHECK(a.called == 0 && b.called == 0 && store_pending(st));
	while (store_pending(st))
		event_base_loop(base, EVLOOP_ONCE);
	store_stats(st, &s1);
	CHECK(a.called == 1 && a.err == STORE_OK && a.seq == 1 && b.err == STORE_OK && b.seq == 2);
	/* one fdatasync of the new log, one fsync of its directory */
	CHECK(s1.syncs - s0.syncs == 2);
	/*
	 * A document put later: the caller goes on at once; it is made at the
	 * group commit (on the thread), and a get of it meanwhile waits for it.
	 */
	store_put_later(st, STORE_TRANSFER, "L1", STORE_REV_CREATE, "{\"id\":\"L1\"}", 11,
	    on_put, &c);
	CHECK(c.called == 0 && store_pending(st));
	store_get(st, STORE_TRANSFER, "L1", on_get, &d);
	CHECK(c.called == 1 && c.err == STORE_OK && c.rev == 1);
	CHECK(d.called == 1 && d.err == STORE_OK && d.rev == 1 && strcmp(d.json, "{\"id\":\"L1\"}") == 0);
	res_reset(&c);
	store_put_later(st, STORE_TRANSFER, "L1", 1, "{\"id\":\"L1\",\"v\":2}", 17, on_put, &c);
	while (store_pending(st))
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(c.called == 1 && c.err == STORE_OK && c.rev == 2);
	/*
	 * A put's record: the put is told at once (its document is durable and
	 * vouches for the record), the record is synced at the group commit; a
	 * read of it meanwhile commits first, and an append after it is told
	 * after it.
	 */
	res_reset(&c);
	res_reset(&d);
	then_put_then_read(st, base, &c, &d);
	res_reset(&c);
	failpoints("store-fsync-log=EIO");
	store_append(st, STORE_EVENTS, 2, "{\"e\":3}", 7, on_append, &c);
	while (store_pending(st))
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(c.called == 1 && c.err == STORE_IO && store_broken(st));
	failpoints("");
	store_close(st);
	event_base_free(base);
	res_reset(&a);
	res_reset(&b);
	res_reset(&c);
	res_reset(&d);
	res_reset(&loaded);
}

static off_t
file_size(const char *dir, const char *rel)
{
	char *p = xprintf("%s/%s", dir, rel);
	struct stat sb;
	off_t n = stat(p, &sb) == 0 ? sb.st_size : -1;

	free(p);
	return n;
}

static void
copy_dir(const char *from, const char *to)
{
	char *cmd = xprintf("rm -rf '%s' && cp -a '%s' '%s'", to, from, to);

	if (system(cmd) != 0) {
		fprintf(stderr, "%s failed\n", cmd);
		exit(1);
	}
	free(cmd);
}

/*
 * The journal of documents (a loop): a put is one record of the journal,
 * read back from memory until the checkpoint writes its file and empties
 * the journal; a copy of the store taken before (a crash) loads the newer
 * document from the journal, writes its file and empties the journal; a
 * torn last record is cut and kept in quarantine; a clean close leaves the
 * journal empty.
 */
static void
test_journal(const char *spec)
{
	struct event_base *base = event_base_new();
	struct res loaded = { 0 }, a = { 0 }, g = { 0 };
	struct store_options o = { .sync = STORE_SYNC_ALWAYS, .checkpoint_ms = 50 };
	struct store_loader ld = { &loaded, ld_doc, ld_log, NULL, NULL };
	struct store *st;
	enum store_err err;
	char *cause = NULL, *copy = xprintf("%s.crash", spec), *torn = xprintf("%s.torn", spec);
	char *jp;
	FILE *f;

	st = store_open(spec, base, &o, &err, &cause);
	CHECK(st != NULL && store_load(st, &ld, &err, &cause) == 0);
	put(st, STORE_TRANSFER, "J1", STORE_REV_CREATE, "{\"id\":\"J1\",\"v\":1}", NULL, &a);
	CHECK(a.err == STORE_OK && a.rev == 1);
	put(st, STORE_TRANSFER, "J1", 1, "{\"id\":\"J1\",\"v\":2}", NULL, &a);
	CHECK(a.err == STORE_OK && a.rev == 2);
	CHECK(file_size(spec, "transfers/J1.json") == -1 && file_size(spec, "journal/a.log") > 0);
	store_get(st, STORE_TRANSFER, "J1", on_get, &g);
	CHECK(g.err == STORE_OK && g.rev == 2 && strcmp(g.json, "{\"id\":\"J1\",\"v\":2}") == 0);
	/* a crash now: the copy has the journal, not the file */
	copy_dir(spec, copy);
	/* the checkpoint: the file is written at the group commit, the journal emptied */
	while (file_size(spec, "journal/a.log") != 0)
		event_base_loop(base, EVLOOP_ONCE);
	CHECK(file_size(spec, "transfers/J1.json") > 0);
	res_reset(&g);
	store_get(st, STORE_TRANSFER, "J1", on_get, &g);
	CHECK(g.err == STORE_OK && g.rev == 2);
	/* puts go on in the other file meanwhile; a clean close writes and empties it */
	put(st, STORE_TRANSFER, "J1", 2, "{\"id\":\"J1\",\"v\":3}", NULL, &a);
	CHECK(a.err == STORE_OK && a.rev == 3 && file_size(spec, "journal/b.log") > 0);
	store_close(st);
	CHECK(file_size(spec, "journal/a.log") == 0 && file_size(spec, "journal/b.log") == 0);
	st = open_store(spec, NULL, STORE_SYNC_ALWAYS, 1, &loaded);
	res_reset(&g);
	store_get(st, STORE_TRANSFER, "J1", on_get, &g);
	CHECK(g.rev == 3 && strcmp(g.json, "{\"id\":\"J1\",\"v\":3}") == 0);
	store_close(st);
	/* the crashed copy: read-only it serves the journal's; writable it writes the file */
	st = open_store(copy, NULL, STORE_SYNC_ALWAYS, 1, &loaded);
	res_reset(&g);
	store_get(st, STORE_TRANSFER, "J1", on_get, &g);
	CHECK(g.err == STORE_OK && g.rev == 2);
	store_close(st);
	copy_dir(copy, torn);
	res_reset(&loaded);
	st = open_store(copy, NULL, STORE_SYNC_ALWAYS, 0, &loaded);
	CHECK(file_size(copy, "transfers/J1.json") > 0 && file_size(copy, "journal/a.log") == 0);
	res_reset(&g);
	store_get(st, STORE_TRANSFER, "J1", on_get, &g);
	CHECK(g.err == STORE_OK && g.rev == 2);
	store_close(st);
	/* a torn last record (a write never acknowledged) is cut, kept in quarantine */
	jp = xprintf("%s/journal/a.log", torn);
	CHECK((f = fopen(jp, "a")) != NULL && fputs("3 0badc0de {\"kind\":\"tra", f) >= 0 &&
	    fclose(f) == 0);
	res_reset(&loaded);
	st = open_store(torn, NULL, STORE_SYNC_ALWAYS, 0, &loaded);
	CHECK(file_size(torn, "journal/a.log") == 0);
	res_reset(&g);
	store_get(st, STORE_TRANSFER, "J1", on_get, &g);
	CHECK(g.err == STORE_OK && g.rev == 2);
	store_close(st);
	free(jp);
	jp = xprintf("ls %s/quarantine | grep -q journal-a.log.tail", torn);
	CHECK(system(jp) == 0);
	free(jp);
	event_base_free(base);
	free(copy);
	free(torn);
	res_reset(&a);
	res_reset(&g);
	res_reset(&loaded);
}

/* The whole suite against one fresh store. */
static void
store_suite(const char *spec)
{
	struct res loaded = { 0 };
	struct store *st = open_store(spec, NULL, STORE_SYNC_ALWAYS, 0, &loaded);

	CHECK(loaded.n == 0);
	test_documents(st);
	test_logs(st);
	test_then(st);
	test_watch(st);
	store_close(st);
	test_batch(spec);
	test_reopen(spec);
	test_faults(spec);
	test_events_grouped(spec);
	test_journal(spec);
	res_reset(&loaded);
}

int
main(void)
{
	char dir[] = "/tmp/rtcs-store.XXXXXX", *spec, *cmd;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	spec = xprintf("%s/store", dir);
	fp_file = xprintf("%s/failpoints", dir);
	setenv("RTCS_FAILPOINT_FILE", fp_file, 1);
	store_suite(spec);
	cmd = xprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	free(spec);
	if (failures > 0) {
		fprintf(stderr, "test_store: %d failures\n", failures);
		return 1;
	}
	printf("test_store: ok\n");
	return 0;
}
