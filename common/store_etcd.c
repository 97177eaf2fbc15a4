/*
 * The etcd backend (design.md 11, rtcs-store(5)): the store's documents and
 * logs as keys under a prefix of an etcd cluster, written by transactions of
 * its JSON gateway (etcd.c), so that several servers can share them:
 *
 *   PREFIX/format            {"format":2}
 *   PREFIX/d/KIND/ID         a document; its revision is the key's version
 *   PREFIX/l/LOG/SEQ         a log record, SEQ in 20 digits (key order is seq order)
 *
 * A put compares the key's version (0: create-only), an append creates its
 * record's key only if it is new and the one before it exists, and a put's
 * record goes in the same transaction as its document. Writes through other
 * servers arrive by one watch of the whole prefix, from the revision the
 * load read at: documents newer than the one this server knows and records
 * that come next in their log are handed to the store's watches.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "etcd.h"
#include "failpoint.h"
#include "log.h"
#include "store_be.h"
#include "store_format.h"
#include "strmap.h"
#include "xmalloc.h"

#define ETCD_PAGE		512		/* keys a load's range asks for at once */
#define ETCD_WATCH_RETRY_MS	200
#define ETCD_BARRIER_MS		2000	/* a barrier the watch does not reach by then fails */
#define ETCD_BARRIER_GAP_MS	10	/* barriers begin this far apart at least: <= 100 puts/s */

static const char *const kind_names[STORE_NKINDS] = { "session", "transfer", "invite", "meta" };

struct flush_wait {
	TAILQ_ENTRY(flush_wait) entry;
	uint64_t	 need;		/* every write up to this ticket has ended */
	store_done_cb	 cb;
	void		*arg;
};
TAILQ_HEAD(flush_waitq, flush_wait);

TAILQ_HEAD(es_opq, es_op);

struct es {
	struct store	*st;
	struct etcd	*et;
	char		*prefix;
	int		 readonly;
	int		 closing;
	struct strmap	*lasts;		/* log -> uint64_t *: its last durable seq */
	struct strmap	*seen;		/* "KIND/ID" -> uint64_t *: the newest revision known */
	struct strmap	*puts;		/* "KIND/ID" -> struct es_op *: this server's put in flight */
	struct strmap	*logqs;		/* log -> struct logq: its appends, one txn at a time */
	uint64_t	 rev;		/* etcd's revision this server has seen up to */
	struct etcd_watch *watch;
	struct event	*rewatch;
	int		 watching;	/* the watch is established: nothing is being missed */
	int		 failing;	/* the last call could not reach etcd: probed until one can */
	int		 lost;		/* the watch was cancelled: nothing is followed until a restart */
	uint64_t	 quota;		/* etcd's backend quota, bytes (--etcd-quota) */
	long		 compact_s;	/* --compact: the maintenance period (0: none) */
	struct event	*maint_ev;
	uint64_t	 maint_lease;	/* the lease of the lock this round, if held */
	uint64_t	 maint_rev;	/* the revision seen a round ago: compacted to */
	size_t		 maint_ep;	/* the member being defragmented */
	uint64_t	 db_size;	/* the last size its status said */
	struct event	*status_ev;
	struct event	*probe;
	struct es_opq	 writes;	/* puts and appends in flight, in the order they began */
	uint64_t	 tickets;	/* writes begun */
	struct flush_waitq flushes;
	/* Barriers (es_barrier): the waiters of the put in flight (none: no put), and the next's. */
	struct flush_waitq barriers, barriers_next;
	uint64_t	 barrier_rev;	/* the put's revision, once etcd answered (0: not yet) */
	uint64_t	 barrier_round;	/* puts begun */
	struct event	*barrier_to, *barrier_gap;
	struct timeval	 barrier_began;	/* the loop's time of the last put */
	cJSON		*late;		/* watch messages held back (failpoint etcd-watch-late) */
	struct event	*late_ev;
	struct store_stats stats;
};

/* One call in flight. */
struct es_op {
	TAILQ_ENTRY(es_op) entry;	/* a write: in es->writes */
	TAILQ_ENTRY(es_op) qentry;	/* an append: in its log's queue */
	uint64_t	 ticket;
	struct es	*es;
	enum store_kind	 kind;
	char		*id;		/* a document's, or a log's name */
	uint64_t	 expect;	/* a put's revision, an append's last seq */
	char		*json;
	size_t		 len;
	char		*then_log, *then_json;
	char		*seen_key;	/* a put's "KIND/ID" */
	/* The newest watch event of its key that came while the put was in flight. */
	char		*held;
	size_t		 held_len;
	uint64_t	 held_rev, held_mod;
	int		 guarded;	/* an append that compared a document's revision too */
	enum store_kind	 g_kind;
	char		*g_id;
	uint64_t	 g_rev;
	uint64_t	 then_seq;
	size_t		 then_len;
	size_t		 max_records, max_bytes;
	uint64_t	 from;
	store_get_cb	 get_cb;
	store_put_cb	 put_cb;
	store_append_cb	 append_cb;
	store_page_cb	 page_cb;
	store_done_cb	 done_cb;
	void		*arg;
};

/* ---- keys ---- */

static char *
doc_key(const struct es *es, enum store_kind kind, const char *id)
{
	return xprintf("%s/d/%s/%s", es->prefix, kind_names[kind], id);
}

static char *
rec_key(const struct es *es, const char *log, uint64_t seq)
{
	return xprintf("%s/l/%s/%020" PRIu64, es->prefix, log, seq);
}

/* The end of the range of every key that starts with p: p with its last byte + 1. */
static char *
range_end(const char *p)
{
	char *e = xstrdup(p);

	e[strlen(e) - 1]++;
	return e;
}

static void
add_b64(cJSON *obj, const char *name, const char *bin, size_t len)
{
	char *b = etcd_b64(bin, len);

	cJSON_AddStringToObject(obj, name, b);
	free(b);
}

static void
add_num(cJSON *obj, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRIu64, v);
	cJSON_AddStringToObject(obj, name, buf);
}

/* A compare of a key's version: result "EQUAL" or "GREATER". */
static void
cmp_version(cJSON *cmps, const char *key, const char *result, uint64_t v)
{
	cJSON *c = cJSON_CreateObject();

	add_b64(c, "key", key, strlen(key));
	cJSON_AddStringToObject(c, "target", "VERSION");
	cJSON_AddStringToObject(c, "result", result);
	add_num(c, "version", v);
	cJSON_AddItemToArray(cmps, c);
}

static void
op_put(cJSON *ops, const char *key, const char *val, size_t len)
{
	cJSON *o = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(o, "request_put");

	add_b64(p, "key", key, strlen(key));
	add_b64(p, "value", val, len);
	cJSON_AddItemToArray(ops, o);
}

static void
op_range(cJSON *ops, const char *key)
{
	cJSON *o = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(o, "request_range");

	add_b64(p, "key", key, strlen(key));
	cJSON_AddItemToArray(ops, o);
}

/* An append's compares: its record's key is new, and the one before it exists. */
static void
cmp_next(const struct es *es, cJSON *cmps, const char *log, uint64_t seq)
{
	char *k = rec_key(es, log, seq);

	cmp_version(cmps, k, "EQUAL", 0);
	free(k);
	if (seq > 1) {
		k = rec_key(es, log, seq - 1);
		cmp_version(cmps, k, "GREATER", 0);
		free(k);
	}
}

static uint64_t *
counter(struct strmap *m, const char *key)
{
	uint64_t *v;

	if ((v = strmap_get(m, key)) == NULL) {
		v = xcalloc(1, sizeof *v);
		strmap_put(m, key, v);
	}
	return v;
}

static void
seen_doc(struct es *es, enum store_kind kind, const char *id, uint64_t rev)
{
	char *k = xprintf("%s/%s", kind_names[kind], id);
	uint64_t *v = counter(es->seen, k);

	if (rev > *v)
		*v = rev;
	free(k);
}

static void
op_free(struct es_op *op)
{
	free(op->id);
	free(op->json);
	free(op->then_log);
	free(op->then_json);
	free(op->seen_key);
	free(op->held);
	free(op->g_id);
	free(op);
}

static struct es_op *
op_new(struct es *es, const char *id, void *arg)
{
	struct es_op *op = xcalloc(1, sizeof *op);

	op->es = es;
	op->id = xstrdup(id);
	op->arg = arg;
	return op;
}

static int
es_available(void *be)
{
	struct es *es = be;

	return es->watching && !es->failing && !es->lost;
}

/* Tells the store when etcd is lost or found again. */
static void
set_health(struct es *es, int watching, int failing)
{
	int was = es_available(es);

	es->watching = watching;
	es->failing = failing;
	if (was != es_available(es) && !es->closing) {
		if (was)
			log_warnx("%s: etcd cannot be reached: this server answers 503", store_where(es->st));
		else
			log_warnx("%s: etcd can be reached again: this server serves", store_where(es->st));
		store_notify_available(es->st, !was);
	}
}

static void	probe_start(struct es *);

/* A call's outcome: one that could not reach etcd makes the server unavailable. */
static void
call_outcome(struct es *es, enum store_err err)
{
	if (err == STORE_IO && es->st->base != NULL && !es->readonly) {
		if (!es->failing)
			probe_start(es);
		set_health(es, es->watching, 1);
	}
}

static void
write_begin(struct es *es, struct es_op *op)
{
	op->ticket = ++es->tickets;
	TAILQ_INSERT_TAIL(&es->writes, op, entry);
}

/*
 * A write ended: a flush is told once every write begun before it has ended
 * (writes begun after it do not hold it up).
 */
static void
write_done(struct es *es, struct es_op *op)
{
	struct flush_wait *f;
	uint64_t oldest;

	TAILQ_REMOVE(&es->writes, op, entry);
	/* Again for each: a flush's callback may begin a write. */
	while ((f = TAILQ_FIRST(&es->flushes)) != NULL &&
	    f->need < (oldest = TAILQ_EMPTY(&es->writes) ? UINT64_MAX :
	    TAILQ_FIRST(&es->writes)->ticket)) {
		TAILQ_REMOVE(&es->flushes, f, entry);
		if (!es->closing)
			f->cb(f->arg, STORE_OK, NULL);
		free(f);
	}
}

static uint64_t
header_rev(const cJSON *resp)
{
	return etcd_num(cJSON_GetObjectItemCaseSensitive(resp, "header"), "revision", 0);
}

static int
txn_ok(const cJSON *resp)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "succeeded"));
}

/* The first kv of a range answer (or of the range response of a txn's ith op). */
static const cJSON *
first_kv(const cJSON *range)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(range, "kvs"), 0);
}

/* A kv's value, decoded (NULL if it is not base64). */
static char *
kv_value(const cJSON *kv, size_t *len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, "value");

	*len = 0;
	return etcd_unb64(cJSON_IsString(v) ? v->valuestring : "", len);
}

/* ---- get ---- */

static void
got(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct es_op *op = arg;
	const cJSON *kv = first_kv(resp);
	struct store_doc d = { op->kind, op->id, 0, NULL, 0 };
	char *val = NULL;

	if (op->es->closing)
		goto out;
	call_outcome(op->es, err);
	if (err != STORE_OK) {
		op->get_cb(op->arg, err, NULL, cause);
		goto out;
	}
	if (kv == NULL) {
		op->get_cb(op->arg, STORE_NOT_FOUND, NULL, "no such document");
		goto out;
	}
	if ((val = kv_value(kv, &d.len)) == NULL) {
		op->get_cb(op->arg, STORE_CORRUPT, NULL, "etcd holds a value that is not base64");
		goto out;
	}
	d.json = val;
	d.rev = etcd_num(kv, "version", 0);
	seen_doc(op->es, op->kind, op->id, d.rev);
	op->get_cb(op->arg, STORE_OK, &d, NULL);
out:
	free(val);
	op_free(op);
}

static void
es_get(void *be, enum store_kind kind, const char *id, store_get_cb cb, void *arg)
{
	struct es *es = be;
	struct es_op *op = op_new(es, id, arg);
	cJSON *body = cJSON_CreateObject();
	char *k = doc_key(es, kind, id);

	op->kind = kind;
	op->get_cb = cb;
	add_b64(body, "key", k, strlen(k));
	free(k);
	etcd_call(es->et, "/v3/kv/range", body, got, op);
}

/* ---- put ---- */

static void
notify_rec(struct es *es, const char *log, uint64_t seq, const char *json, size_t len)
{
	uint64_t *last = counter(es->lasts, log);
	struct store_record r = { log, seq, json, len };

	if (seq != *last + 1)
		return;		/* told already (its own write and then the watch) */
	*last = seq;
	store_notify_record(es->st, &r);
}

/* A document (its "KIND/ID" key) is told if it is newer than the one known. */
static void
tell_newer(struct es *es, const char *seen_key, const struct store_doc *d)
{
	uint64_t *known = counter(es->seen, seen_key);

	if (d->rev <= *known)
		return;		/* its own write, told already */
	*known = d->rev;
	store_notify_doc(es->st, d);
}

/* The event a put held: told unless it is the put itself (mine: its etcd revision). */
static void
held_notify(struct es *es, struct es_op *op, uint64_t mine)
{
	struct store_doc d = { op->kind, op->id, op->held_rev, op->held, op->held_len };

	if (op->held != NULL && op->held_mod != mine)
		tell_newer(es, op->seen_key, &d);
}

static void
put_done(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct es_op *op = arg;
	struct es *es = op->es;
	const cJSON *r;
	uint64_t rev;
	struct store_doc d;

	if (strmap_get(es->puts, op->seen_key) == op)
		strmap_del(es->puts, op->seen_key);
	if (es->closing)
		goto out;
	call_outcome(es, err);
	if (err != STORE_OK) {
		op->put_cb(op->arg, err, 0, cause);
		held_notify(es, op, 0);
		goto out;
	}
	if (!txn_ok(resp)) {
		op->put_cb(op->arg, STORE_CONFLICT, 0, op->expect == STORE_REV_CREATE ?
		    "the document exists" : op->then_log != NULL ?
		    "another revision, or another last seq of its log, than expected" :
		    "another revision than expected");
		held_notify(es, op, 0);
		goto out;
	}
	if (op->expect == STORE_REV_ANY) {
		r = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(resp, "responses"),
		    op->then_log != NULL ? 2 : 1);
		rev = etcd_num(first_kv(cJSON_GetObjectItemCaseSensitive(r, "response_range")),
		    "version", 1);
	} else
		rev = op->expect + 1;
	es->stats.puts++;
	seen_doc(es, op->kind, op->id, rev);
	d = (struct store_doc){ op->kind, op->id, rev, op->json, op->len };
	if (op->then_log != NULL) {
		es->stats.appends++;
		notify_rec(es, op->then_log, op->then_seq, op->then_json, op->then_len);
	}
	op->put_cb(op->arg, STORE_OK, rev, NULL);
	store_notify_doc(es->st, &d);
	/* A later write of another server's, seen while this one was in flight. */
	held_notify(es, op, header_rev(resp));
out:
	write_done(es, op);
	op_free(op);
}

static void
es_put(void *be, enum store_kind kind, const char *id, uint64_t expect, const char *json,
    size_t len, const struct store_then *then, store_put_cb cb, void *arg)
{
	struct es *es = be;
	struct es_op *op;
	cJSON *body, *cmps, *ops;
	char *k, *rk;

	if (es->readonly) {
		cb(arg, STORE_INVALID, 0, "the store is open read-only");
		return;
	}
	op = op_new(es, id, arg);
	op->kind = kind;
	op->expect = expect;
	op->json = xstrndup(json, len);
	op->len = len;
	op->put_cb = cb;
	body = cJSON_CreateObject();
	cmps = cJSON_AddArrayToObject(body, "compare");
	ops = cJSON_AddArrayToObject(body, "success");
	k = doc_key(es, kind, id);
	if (expect != STORE_REV_ANY)
		cmp_version(cmps, k, "EQUAL", expect);
	op_put(ops, k, json, len);
	if (then != NULL) {
		op->then_log = xstrdup(then->log);
		op->then_seq = then->seq;
		op->then_json = xstrndup(then->json, then->len);
		op->then_len = then->len;
		cmp_next(es, cmps, then->log, then->seq);
		rk = rec_key(es, then->log, then->seq);
		op_put(ops, rk, then->json, then->len);
		free(rk);
	}
	if (expect == STORE_REV_ANY)
		op_range(ops, k);
	free(k);
	op->seen_key = xprintf("%s/%s", kind_names[kind], id);
	strmap_put(es->puts, op->seen_key, op);
	write_begin(es, op);
	etcd_call(es->et, "/v3/kv/txn", body, put_done, op);
}

/* ---- append ---- */

/*
 * A log's appends go to etcd one transaction at a time, and those that
 * queued behind it go together in the next (up to ETCD_BATCH records, each
 * the next seq of the one before): an append compares that its previous
 * record exists, so two in flight for one log would make the second fail.
 */
#define ETCD_BATCH		64
#define ETCD_BATCH_BYTES	(512u << 10)

struct logq {
	struct es	*es;
	char		*name;
	struct es_opq	 queued;
	struct es_op	*batch[ETCD_BATCH];
	size_t		 nbatch;
};

static void	logq_send(struct logq *);

static void
logq_free(void *p)
{
	struct logq *q = p;

	free(q->name);
	free(q);
}

static int
same_guard(const struct es_op *a, const struct es_op *b)
{
	return a->guarded == b->guarded && (!a->guarded || (a->g_kind == b->g_kind &&
	    a->g_rev == b->g_rev && strcmp(a->g_id, b->g_id) == 0));
}

static void
batch_done(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct logq *q = arg;
	struct es *es = q->es;
	struct es_op *op, *batch[ETCD_BATCH];
	size_t i, n = q->nbatch;

	/* The queue stays busy while its callbacks run: what they append only queues. */
	memcpy(batch, q->batch, n * sizeof *batch);
	if (!es->closing)
		call_outcome(es, err);
	for (i = 0; i < n; i++) {
		op = batch[i];
		if (es->closing)
			;
		else if (err != STORE_OK)
			op->append_cb(op->arg, err, 0, cause);
		else if (!txn_ok(resp))
			op->append_cb(op->arg, STORE_CONFLICT, 0, op->guarded ?
			    "another last seq than expected, or its session changed meanwhile "
			    "(another server's write): try again" : "another last seq than expected");
		else {
			es->stats.appends++;
			notify_rec(es, op->id, op->expect + 1, op->json, op->len);
			op->append_cb(op->arg, STORE_OK, op->expect + 1, NULL);
		}
		write_done(es, op);
		op_free(op);
	}
	q->nbatch = 0;
	if (TAILQ_EMPTY(&q->queued)) {
		strmap_del(es->logqs, q->name);
		logq_free(q);
		return;
	}
	if (!es->closing)
		logq_send(q);
}

static void
logq_send(struct logq *q)
{
	struct es *es = q->es;
	struct es_op *op, *first = TAILQ_FIRST(&q->queued);
	cJSON *body, *cmps, *ops;
	size_t bytes = 0;
	char *k;

	if (q->nbatch > 0 || first == NULL)
		return;
	body = cJSON_CreateObject();
	cmps = cJSON_AddArrayToObject(body, "compare");
	ops = cJSON_AddArrayToObject(body, "success");
	cmp_next(es, cmps, q->name, first->expect + 1);
	if (first->guarded) {
		k = doc_key(es, first->g_kind, first->g_id);
		cmp_version(cmps, k, "EQUAL", first->g_rev);
		free(k);
	}
	while ((op = TAILQ_FIRST(&q->queued)) != NULL && q->nbatch < ETCD_BATCH &&
	    (q->nbatch == 0 || (op->expect == first->expect + q->nbatch &&
	    same_guard(op, first) && bytes + op->len <= ETCD_BATCH_BYTES))) {
		TAILQ_REMOVE(&q->queued, op, qentry);
		k = rec_key(es, q->name, op->expect + 1);
		if (q->nbatch > 0)
			cmp_version(cmps, k, "EQUAL", 0);
		op_put(ops, k, op->json, op->len);
		free(k);
		bytes += op->len;
		q->batch[q->nbatch++] = op;
	}
	etcd_call(es->et, "/v3/kv/txn", body, batch_done, q);
}

static void
es_append_if(void *be, const char *log, uint64_t expect_last, const struct store_guard *g,
    const char *json, size_t len, store_append_cb cb, void *arg)
{
	struct es *es = be;
	struct es_op *op;
	struct logq *q;

	if (es->readonly) {
		cb(arg, STORE_INVALID, 0, "the store is open read-only");
		return;
	}
	op = op_new(es, log, arg);
	op->expect = expect_last;
	op->json = xstrndup(json, len);
	op->len = len;
	op->append_cb = cb;
	if (g != NULL) {
		op->guarded = 1;
		op->g_kind = g->kind;
		op->g_id = xstrdup(g->id);
		op->g_rev = g->rev;
	}
	if ((q = strmap_get(es->logqs, log)) == NULL) {
		q = xcalloc(1, sizeof *q);
		q->es = es;
		TAILQ_INIT(&q->queued);
		q->name = xstrdup(log);
		strmap_put(es->logqs, log, q);
	}
	write_begin(es, op);
	TAILQ_INSERT_TAIL(&q->queued, op, qentry);
	logq_send(q);
}

static void
es_append(void *be, const char *log, uint64_t expect_last, const char *json, size_t len,
    store_append_cb cb, void *arg)
{
	es_append_if(be, log, expect_last, NULL, json, len, cb, arg);
}

/* ---- read ---- */

/* The seq of a record's key (0 if it is not one of log's). */
static uint64_t
key_seq(const struct es *es, const char *key, size_t klen, const char *log)
{
	size_t pl = strlen(es->prefix), ll = strlen(log);
	char digits[21];

	if (klen != pl + 3 + ll + 1 + 20 || memcmp(key, es->prefix, pl) != 0 ||
	    memcmp(key + pl, "/l/", 3) != 0 || memcmp(key + pl + 3, log, ll) != 0 ||
	    key[pl + 3 + ll] != '/')
		return 0;
	memcpy(digits, key + pl + 3 + ll + 1, 20);
	digits[20] = '\0';
	return strtoull(digits, NULL, 10);
}

static void
page_read(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct es_op *op = arg;
	const cJSON *kvs = cJSON_GetObjectItemCaseSensitive(resp, "kvs"), *kv;
	struct store_record *recs = NULL;
	char **vals = NULL, *key;
	size_t n = 0, i, bytes = 0, klen;

	if (op->es->closing)
		goto out;
	call_outcome(op->es, err);
	if (err != STORE_OK) {
		op->page_cb(op->arg, err, NULL, 0, cause);
		goto out;
	}
	recs = xcalloc((size_t)cJSON_GetArraySize(kvs) + 1, sizeof *recs);
	vals = xcalloc((size_t)cJSON_GetArraySize(kvs) + 1, sizeof *vals);
	cJSON_ArrayForEach(kv, kvs) {
		const cJSON *kj = cJSON_GetObjectItemCaseSensitive(kv, "key");

		if (n > 0 && bytes >= op->max_bytes)
			break;
		key = etcd_unb64(cJSON_IsString(kj) ? kj->valuestring : "", &klen);
		recs[n].seq = key != NULL ? key_seq(op->es, key, klen, op->id) : 0;
		free(key);
		if (recs[n].seq != op->from + n || (vals[n] = kv_value(kv, &recs[n].len)) == NULL) {
			op->page_cb(op->arg, STORE_CORRUPT, NULL, 0,
			    "a log's key in etcd is not the next seq, or its value is not base64");
			goto out;
		}
		recs[n].log = op->id;
		recs[n].json = vals[n];
		bytes += recs[n].len;
		n++;
	}
	op->page_cb(op->arg, STORE_OK, recs, n, NULL);
out:
	for (i = 0; vals != NULL && i < n + 1; i++)
		free(vals[i]);
	free(vals);
	free(recs);
	op_free(op);
}

static void
es_read(void *be, const char *log, uint64_t from, size_t max_records, size_t max_bytes,
    store_page_cb cb, void *arg)
{
	struct es *es = be;
	struct es_op *op = op_new(es, log, arg);
	cJSON *body = cJSON_CreateObject();
	char *k = rec_key(es, log, from), *pfx = xprintf("%s/l/%s/", es->prefix, log);
	char *end = range_end(pfx);

	op->from = from;
	op->max_records = max_records;
	op->max_bytes = max_bytes;
	op->page_cb = cb;
	add_b64(body, "key", k, strlen(k));
	add_b64(body, "range_end", end, strlen(end));
	add_num(body, "limit", max_records);
	free(k);
	free(pfx);
	free(end);
	etcd_call(es->et, "/v3/kv/range", body, page_read, op);
}

/* ---- remove (retention) ---- */

static void
op_delete(cJSON *ops, const char *key, const char *end)
{
	cJSON *o = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(o, "request_delete_range");

	add_b64(p, "key", key, strlen(key));
	if (end != NULL)
		add_b64(p, "range_end", end, strlen(end));
	cJSON_AddItemToArray(ops, o);
}

static void
removed(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct es_op *op = arg;
	struct es *es = op->es;
	char *k;

	if (es->closing)
		goto out;
	call_outcome(es, err);
	if (err != STORE_OK)
		op->done_cb(op->arg, err, cause);
	else if (!txn_ok(resp))
		op->done_cb(op->arg, STORE_CONFLICT, "another revision than expected");
	else {
		k = xprintf("%s/%s", kind_names[op->kind], op->id);
		free(strmap_del(es->seen, k));
		free(k);
		if (op->then_log != NULL)
			free(strmap_del(es->lasts, op->then_log));
		op->done_cb(op->arg, STORE_OK, NULL);
	}
out:
	write_done(es, op);
	op_free(op);
}

static void
es_remove(void *be, enum store_kind kind, const char *id, uint64_t expect, const char *log,
    store_done_cb cb, void *arg)
{
	struct es *es = be;
	struct es_op *op;
	cJSON *body, *ops;
	char *k, *pfx, *end;

	if (es->readonly) {
		cb(arg, STORE_INVALID, "the store is open read-only");
		return;
	}
	op = op_new(es, id, arg);
	op->kind = kind;
	op->done_cb = cb;
	body = cJSON_CreateObject();
	k = doc_key(es, kind, id);
	cmp_version(cJSON_AddArrayToObject(body, "compare"), k, "EQUAL", expect);
	ops = cJSON_AddArrayToObject(body, "success");
	op_delete(ops, k, NULL);
	free(k);
	if (log != NULL) {
		op->then_log = xstrdup(log);
		pfx = xprintf("%s/l/%s/", es->prefix, log);
		end = range_end(pfx);
		op_delete(ops, pfx, end);
		free(pfx);
		free(end);
	}
	write_begin(es, op);
	etcd_call(es->et, "/v3/kv/txn", body, removed, op);
}

static void
es_flush(void *be, store_done_cb cb, void *arg)
{
	struct es *es = be;
	struct flush_wait *f;

	if (TAILQ_EMPTY(&es->writes)) {
		cb(arg, STORE_OK, NULL);
		return;
	}
	f = xcalloc(1, sizeof *f);
	f->need = es->tickets;
	f->cb = cb;
	f->arg = arg;
	TAILQ_INSERT_TAIL(&es->flushes, f, entry);
}

/*
 * ---- barriers: this server has heard every write acknowledged before ----
 * A write another server had acknowledged may not have reached this one's
 * watch yet (a token it just issued, say). A barrier puts PREFIX/b (one key
 * for every server: its value is nothing) and waits until the watch has
 * delivered up to that put's revision: the watch delivers in revision
 * order, so every write acknowledged before the put has been heard by then.
 * The waiters that come while a put is in flight wait for the next one.
 */
static void barrier_start(struct es *);

/*
 * The next round, for what waits in barriers_next: at once, or once
 * ETCD_BARRIER_GAP_MS have passed since the last began (callers that come
 * faster, a flood of unknown tokens, share rounds instead of costing etcd a
 * put each).
 */
static void
barrier_soon(struct es *es)
{
	struct timeval now, since, gap = { 0, ETCD_BARRIER_GAP_MS * 1000 }, wait;

	if (es->closing || !TAILQ_EMPTY(&es->barriers) || TAILQ_EMPTY(&es->barriers_next))
		return;
	if (evtimer_pending(es->barrier_gap, NULL))
		return;
	event_base_gettimeofday_cached(es->st->base, &now);
	timersub(&now, &es->barrier_began, &since);
	if (since.tv_sec < 0 || !timercmp(&since, &gap, <)) {
		barrier_start(es);
		return;
	}
	timersub(&gap, &since, &wait);
	evtimer_add(es->barrier_gap, &wait);
}

static void
barrier_gap_ev(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	barrier_soon(arg);
}

static void
barrier_tell(struct es *es, enum store_err err, const char *cause)
{
	struct flush_wait *f;

	while ((f = TAILQ_FIRST(&es->barriers)) != NULL) {
		TAILQ_REMOVE(&es->barriers, f, entry);
		f->cb(f->arg, err, cause);
		free(f);
	}
	es->barrier_rev = 0;
	if (es->barrier_to != NULL)
		evtimer_del(es->barrier_to);
	barrier_soon(es);
}

/* After each watch message: the watch reached the barrier's revision. */
static void
barrier_check(struct es *es)
{
	if (es->barrier_rev > 0 && es->rev >= es->barrier_rev)
		barrier_tell(es, STORE_OK, NULL);
}

/* A barrier's put: its round, so that a late answer to one that timed out tells no other. */
struct barrier_call {
	struct es	*es;
	uint64_t	 round;
};

static void
barrier_put(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct barrier_call *bc = arg;
	struct es *es = bc->es;
	uint64_t round = bc->round;

	free(bc);
	if (es->closing || round != es->barrier_round || TAILQ_EMPTY(&es->barriers))
		return;
	if (err != STORE_OK) {
		barrier_tell(es, err, cause);
		return;
	}
	es->barrier_rev = header_rev(resp);
	barrier_check(es);
}

static void
barrier_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	barrier_tell(arg, STORE_IO, "the watch of other servers' writes is behind");
}

static void
barrier_start(struct es *es)
{
	struct timeval tv = { ETCD_BARRIER_MS / 1000, (ETCD_BARRIER_MS % 1000) * 1000 };
	cJSON *body = cJSON_CreateObject();
	char *k = xprintf("%s/b", es->prefix);
	struct barrier_call *bc = xcalloc(1, sizeof *bc);

	TAILQ_CONCAT(&es->barriers, &es->barriers_next, entry);
	event_base_gettimeofday_cached(es->st->base, &es->barrier_began);
	bc->es = es;
	bc->round = ++es->barrier_round;
	evtimer_add(es->barrier_to, &tv);
	add_b64(body, "key", k, strlen(k));
	free(k);
	etcd_call(es->et, "/v3/kv/put", body, barrier_put, bc);
}

static void
es_barrier(void *be, store_done_cb cb, void *arg)
{
	struct es *es = be;
	struct flush_wait *f;

	if (es->closing) {
		cb(arg, STORE_IO, "the store is closing");
		return;
	}
	if (es->readonly && es->watching) {
		cb(arg, STORE_OK, NULL);
		return;
	}
	if (!es->watching || es->barrier_to == NULL) {	/* down, or no loop to follow it on */
		cb(arg, STORE_IO, "the watch of other servers' writes is down");
		return;
	}
	f = xcalloc(1, sizeof *f);
	f->cb = cb;
	f->arg = arg;
	TAILQ_INSERT_TAIL(&es->barriers_next, f, entry);
	barrier_soon(es);
}

static uint64_t
es_durable_last(void *be, const char *log)
{
	struct es *es = be;
	uint64_t *v = strmap_get(es->lasts, log);

	return v != NULL ? *v : 0;
}

/*
 * ---- maintenance (--compact S): compaction, then defragmentation, one member at a time ----
 * Every S seconds one node (the one whose create-only PREFIX/maint key, on
 * a 60 s lease, is written first) compacts etcd's history to the revision it
 * had seen S seconds before (every live node's watch is past it), then
 * defragments the members one after the other, each call waiting for the
 * one before: never two members at once. The lease going frees the key.
 */
#define ETCD_MAINT_LEASE_S	60

static void	maint_arm(struct es *);
static void	maint_ignored(void *, const cJSON *, enum store_err, const char *);

static void
maint_done(struct es *es, const char *why)
{
	cJSON *body;
	char buf[24];

	if (why != NULL)
		log_warnx("%s: etcd maintenance: %s", store_where(es->st), why);
	if (es->maint_lease != 0) {
		body = cJSON_CreateObject();
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)es->maint_lease);
		cJSON_AddStringToObject(body, "ID", buf);
		etcd_call(es->et, "/v3/lease/revoke", body, maint_ignored, es);
		es->maint_lease = 0;
	}
	es->maint_rev = es->rev;
	maint_arm(es);
}

static void
maint_ignored(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	(void)arg;
	(void)resp;
	(void)err;
	(void)cause;
}

static void
maint_defragged(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct es *es = arg;
	cJSON *body;

	(void)resp;
	if (es->closing)
		return;
	if (err != STORE_OK) {
		maint_done(es, cause);
		return;
	}
	log_info("%s: etcd maintenance: member %zu of %zu defragmented", store_where(es->st),
	    es->maint_ep + 1, etcd_endpoints(es->et));
	if (++es->maint_ep >= etcd_endpoints(es->et)) {
		maint_done(es, NULL);
		return;
	}
	body = cJSON_CreateObject();
	etcd_call_at(es->et, es->maint_ep, "/v3/maintenance/defragment", body, maint_defragged, es);
}

static void
maint_compacted(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct es *es = arg;

	(void)resp;
	if (es->closing)
		return;
	/* Compacted already (another node, a round before): as good. */
	if (err != STORE_OK && (cause == NULL || strstr(cause, "compacted") == NULL)) {
		maint_done(es, cause);
		return;
	}
	if (err == STORE_OK && es->maint_rev > 0)
		log_info("%s: etcd maintenance: compacted to revision %llu", store_where(es->st),
		    (unsigned long long)es->maint_rev);
	es->maint_ep = 0;
	etcd_call_at(es->et, 0, "/v3/maintenance/defragment", cJSON_CreateObject(),
	    maint_defragged, es);
}

static void
maint_locked(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct es *es = arg;
	cJSON *body;

	if (es->closing)
		return;
	if (err != STORE_OK || !txn_ok(resp)) {
		/* Another node holds it this round (or etcd said no): next round. */
		maint_done(es, err != STORE_OK ? cause : NULL);
		return;
	}
	if (es->maint_rev == 0) {
		maint_compacted(es, NULL, STORE_OK, NULL);
		return;
	}
	body = cJSON_CreateObject();
	add_num(body, "revision", es->maint_rev);
	cJSON_AddBoolToObject(body, "physical", 1);
	etcd_call(es->et, "/v3/kv/compaction", body, maint_compacted, es);
}

static void
maint_leased(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct es *es = arg;
	cJSON *body, *cmps, *ops, *o, *p;
	char *k, *v, buf[24];

	if (es->closing)
		return;
	if (err != STORE_OK || (es->maint_lease = etcd_num(resp, "ID", 0)) == 0) {
		maint_done(es, err != STORE_OK ? cause : "etcd granted no lease");
		return;
	}
	k = xprintf("%s/maint", es->prefix);
	body = cJSON_CreateObject();
	cmps = cJSON_AddArrayToObject(body, "compare");
	o = cJSON_CreateObject();
	add_b64(o, "key", k, strlen(k));
	cJSON_AddStringToObject(o, "target", "CREATE");
	cJSON_AddStringToObject(o, "result", "EQUAL");
	cJSON_AddStringToObject(o, "create_revision", "0");
	cJSON_AddItemToArray(cmps, o);
	ops = cJSON_AddArrayToObject(body, "success");
	o = cJSON_CreateObject();
	p = cJSON_AddObjectToObject(o, "request_put");
	add_b64(p, "key", k, strlen(k));
	v = xprintf("{\"revision\":%llu}", (unsigned long long)es->rev);
	add_b64(p, "value", v, strlen(v));
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)es->maint_lease);
	cJSON_AddStringToObject(p, "lease", buf);
	cJSON_AddItemToArray(ops, o);
	free(k);
	free(v);
	etcd_call(es->et, "/v3/kv/txn", body, maint_locked, es);
}

static void
maint_fire(evutil_socket_t fd, short what, void *arg)
{
	struct es *es = arg;
	cJSON *body;

	(void)fd;
	(void)what;
	if (!es_available(es)) {
		maint_arm(es);
		return;
	}
	body = cJSON_CreateObject();
	add_num(body, "TTL", ETCD_MAINT_LEASE_S);
	etcd_call(es->et, "/v3/lease/grant", body, maint_leased, es);
}

static void
maint_arm(struct es *es)
{
	struct timeval tv = { es->compact_s, 0 };

	if (es->maint_ev != NULL && !es->closing)
		evtimer_add(es->maint_ev, &tv);
}

/* ---- the quota: etcd's status, every ETCD_STATUS_MS ---- */

#define ETCD_STATUS_MS		5000
#define ETCD_FULL_PCT		90

static int
es_full_soon(void *be)
{
	struct es *es = be;

	return es->quota > 0 && es->db_size >= es->quota / 100 * ETCD_FULL_PCT;
}

static void
status_got(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct es *es = arg;
	struct timeval tv = { ETCD_STATUS_MS / 1000, 0 };
	int was;

	(void)cause;
	if (es->closing)
		return;
	if (err == STORE_OK) {
		was = es_full_soon(es);
		es->db_size = etcd_num(resp, "dbSize", es->db_size);
		if (es_full_soon(es) != was)
			log_warnx("%s: etcd's database is %llu MiB of its %llu MiB quota: %s",
			    store_where(es->st), (unsigned long long)(es->db_size >> 20),
			    (unsigned long long)(es->quota >> 20), was ? "new sessions, transfers "
			    "and invites are taken again" : "new sessions, transfers and invites get "
			    "503 store_full until etcd is compacted and defragmented");
	}
	if (es->status_ev != NULL)
		evtimer_add(es->status_ev, &tv);
}

static void
status_fire(evutil_socket_t fd, short what, void *arg)
{
	struct es *es = arg;

	(void)fd;
	(void)what;
	etcd_call(es->et, "/v3/maintenance/status", cJSON_CreateObject(), status_got, es);
}

/* ---- the watch: what other servers write ---- */

/*
 * A document's key (PREFIX/d/KIND/ID): its kind and where "KIND/ID" (the
 * seen map's key) and ID start in it; -1 if it is not one.
 */
static int
doc_key_parse(const struct es *es, const char *key, size_t klen, enum store_kind *kind,
    const char **seen_key, const char **id)
{
	size_t pl = strlen(es->prefix), kl;
	int k;

	if (klen <= pl + 3 || memcmp(key, es->prefix, pl) != 0 || memcmp(key + pl, "/d/", 3) != 0)
		return -1;
	for (k = 0; k < STORE_NKINDS; k++) {
		kl = strlen(kind_names[k]);
		if (strncmp(key + pl + 3, kind_names[k], kl) == 0 && key[pl + 3 + kl] == '/') {
			*kind = (enum store_kind)k;
			*seen_key = key + pl + 3;
			*id = key + pl + 3 + kl + 1;
			return 0;
		}
	}
	return -1;
}

static void	watch_start(struct es *);

/* One event of the watch: a document newer than known, or a log's next record. */
static void
watch_event(struct es *es, const cJSON *kv)
{
	const cJSON *kj = cJSON_GetObjectItemCaseSensitive(kv, "key");
	char *key, *val = NULL, *slash, name[STORE_ID_MAX + 16];
	const char *seen_key, *id;
	size_t klen, vlen, pl = strlen(es->prefix);
	enum store_kind kind;
	uint64_t v;
	struct store_doc d;
	struct es_op *own;

	if (!cJSON_IsString(kj) || (key = etcd_unb64(kj->valuestring, &klen)) == NULL)
		return;
	if (klen < pl + 3 || memcmp(key, es->prefix, pl) != 0)
		goto out;
	if ((val = kv_value(kv, &vlen)) == NULL)
		goto out;
	if (memcmp(key + pl, "/l/", 3) == 0) {
		if ((slash = strrchr(key + pl + 3, '/')) == NULL || slash - (key + pl + 3) > STORE_ID_MAX)
			goto out;
		memcpy(name, key + pl + 3, (size_t)(slash - (key + pl + 3)));
		name[slash - (key + pl + 3)] = '\0';
		notify_rec(es, name, strtoull(slash + 1, NULL, 10), val, vlen);
	} else if (doc_key_parse(es, key, klen, &kind, &seen_key, &id) == 0) {
		v = etcd_num(kv, "version", 0);
		/*
		 * A put of this server's on the key is in flight: whether the event
		 * is that put (its revision) is known once etcd answers it, so the
		 * event waits in the put (the newest one) and put_done decides.
		 */
		if ((own = strmap_get(es->puts, seen_key)) != NULL) {
			if (v > own->held_rev) {
				free(own->held);
				own->held = val;
				own->held_len = vlen;
				own->held_rev = v;
				own->held_mod = etcd_num(kv, "mod_revision", 0);
				val = NULL;
			}
			goto out;
		}
		d = (struct store_doc){ kind, id, v, val, vlen };
		tell_newer(es, seen_key, &d);
	}
out:
	free(val);
	free(key);
}

/* A document another server removed: told as json NULL, if it was known. */
static void
watch_delete(struct es *es, const cJSON *kv)
{
	const cJSON *kj = cJSON_GetObjectItemCaseSensitive(kv, "key");
	const char *seen_key, *id;
	enum store_kind kind;
	uint64_t *known;
	struct store_doc d;
	size_t klen;
	char *key;

	if (!cJSON_IsString(kj) || (key = etcd_unb64(kj->valuestring, &klen)) == NULL)
		return;
	/* Not known: its own removal, told already, or never known. */
	if (doc_key_parse(es, key, klen, &kind, &seen_key, &id) == 0 &&
	    (known = strmap_del(es->seen, seen_key)) != NULL) {
		free(known);
		d = (struct store_doc){ kind, id, 0, NULL, 0 };
		if (kind == STORE_SESSION)
			free(strmap_del(es->lasts, id));
		store_notify_doc(es->st, &d);
	}
	free(key);
}

static void
watch_apply(struct es *es, const cJSON *result)
{
	const cJSON *ev, *kv;
	uint64_t rev = header_rev(result);

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "created")) &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "canceled")))
		set_health(es, 1, es->failing);
	/*
	 * etcd compacted revisions this server had not seen yet (or cancelled
	 * the watch): what others wrote meanwhile cannot be followed. Rather
	 * than serve stale state, the server stays unavailable until a restart
	 * reads the store again.
	 */
	if (etcd_num(result, "compact_revision", 0) > 0 ||
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "canceled"))) {
		log_warnx("%s: etcd cancelled the watch of other servers' writes (compacted at "
		    "revision %llu, this server had seen %llu): restart this server to read the "
		    "store again", store_where(es->st),
		    etcd_num(result, "compact_revision", 0), (unsigned long long)es->rev);
		etcd_watch_stop(es->watch);
		es->watch = NULL;
		es->lost = 1;
		set_health(es, 0, es->failing);
		return;
	}
	cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(result, "events")) {
		kv = cJSON_GetObjectItemCaseSensitive(ev, "kv");
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(ev, "type")))
			watch_delete(es, kv);	/* DELETE: another server's retention */
		else
			watch_event(es, kv);
		if (etcd_num(kv, "mod_revision", 0) > es->rev)
			es->rev = etcd_num(kv, "mod_revision", 0);
	}
	if (cJSON_GetObjectItemCaseSensitive(result, "events") == NULL && rev > es->rev &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "created")))
		es->rev = rev;
	barrier_check(es);
}

/* Tests (failpoint etcd-watch-late): what the watch hears is applied 200 ms late, in order. */
static void
watch_late(evutil_socket_t fd, short what, void *arg)
{
	struct es *es = arg;
	cJSON *m;

	(void)fd;
	(void)what;
	while ((m = cJSON_DetachItemFromArray(es->late, 0)) != NULL) {
		watch_apply(es, m);
		cJSON_Delete(m);
		if (es->watch == NULL)
			break;	/* cancelled: the rest is not followed */
	}
}

static void
watch_msg(void *arg, const cJSON *result)
{
	static const struct timeval late = { 0, 200000 };
	struct es *es = arg;

	if (es->late_ev != NULL && (cJSON_GetArraySize(es->late) > 0 ||
	    failpoint_errno("etcd-watch-late") != 0)) {
		if (cJSON_GetArraySize(es->late) == 0)
			evtimer_add(es->late_ev, &late);
		cJSON_AddItemToArray(es->late, cJSON_Duplicate(result, 1));
		return;
	}
	watch_apply(es, result);
}

static void
rewatch(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	watch_start(arg);
}

static void
watch_end(void *arg, const char *cause)
{
	struct es *es = arg;
	struct timeval tv = { 0, ETCD_WATCH_RETRY_MS * 1000 };

	es->watch = NULL;
	if (es->closing)
		return;
	if (es->watching)
		log_warnx("%s: the watch of other servers' writes ended (%s): it starts again",
		    store_where(es->st), cause);
	set_health(es, 0, es->failing);
	evtimer_add(es->rewatch, &tv);
}

/* The probe: one small read every ETCD_WATCH_RETRY_MS until etcd answers. */
static void
probed(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct es *es = arg;
	struct timeval tv = { 0, ETCD_WATCH_RETRY_MS * 1000 };

	(void)resp;
	(void)cause;
	if (es->closing)
		return;
	if (err == STORE_OK)
		set_health(es, es->watching, 0);
	else
		evtimer_add(es->probe, &tv);
}

static void
probe_fire(evutil_socket_t fd, short what, void *arg)
{
	struct es *es = arg;
	cJSON *body = cJSON_CreateObject();
	char *k = xprintf("%s/format", es->prefix);

	(void)fd;
	(void)what;
	add_b64(body, "key", k, strlen(k));
	free(k);
	etcd_call(es->et, "/v3/kv/range", body, probed, es);
}

static void
probe_start(struct es *es)
{
	struct timeval tv = { 0, ETCD_WATCH_RETRY_MS * 1000 };

	evtimer_add(es->probe, &tv);
}

static void
watch_start(struct es *es)
{
	cJSON *body = cJSON_CreateObject(), *cr = cJSON_AddObjectToObject(body, "create_request");
	char *pfx = xprintf("%s/", es->prefix), *end = range_end(pfx);

	add_b64(cr, "key", pfx, strlen(pfx));
	add_b64(cr, "range_end", end, strlen(end));
	add_num(cr, "start_revision", es->rev + 1);
	free(pfx);
	free(end);
	if ((es->watch = etcd_watch(es->et, body, watch_msg, watch_end, es)) == NULL) {
		struct timeval tv = { 0, ETCD_WATCH_RETRY_MS * 1000 };

		set_health(es, 0, es->failing);
		evtimer_add(es->rewatch, &tv);
	}
}

/* ---- load ---- */

struct answer {
	cJSON		*resp;
	enum store_err	 err;
	char		*cause;
};

static void
answered(void *arg, const cJSON *resp, enum store_err err, const char *cause)
{
	struct answer *a = arg;

	a->err = err;
	a->resp = resp != NULL ? cJSON_Duplicate(resp, 1) : NULL;
	a->cause = cause != NULL ? xstrdup(cause) : NULL;
}

/* A blocking call: its answer, or NULL with *err and *cause. */
static cJSON *
call_wait(struct es *es, const char *path, cJSON *body, enum store_err *err, char **cause)
{
	struct answer a = { NULL, STORE_OK, NULL };

	etcd_call_wait(es->et, path, body, answered, &a);
	if (a.err != STORE_OK) {
		*err = a.err;
		*cause = a.cause;
		return NULL;
	}
	free(a.cause);
	return a.resp;
}

/* The format key: written on a new store, checked on an old one. */
static int
check_format(struct es *es, enum store_err *err, char **cause)
{
	char *k = xprintf("%s/format", es->prefix), want[32], *val;
	cJSON *body = cJSON_CreateObject(), *resp, *ops;
	const cJSON *kv;
	size_t len;
	int rc = -1;

	snprintf(want, sizeof want, "{\"format\":%d}", STORE_FORMAT);
	add_b64(body, "key", k, strlen(k));
	if ((resp = call_wait(es, "/v3/kv/range", body, err, cause)) == NULL)
		goto out;
	es->rev = header_rev(resp);
	if ((kv = first_kv(resp)) != NULL) {
		val = kv_value(kv, &len);
		if (val == NULL || strcmp(val, want) != 0) {
			*err = STORE_FORMAT_ERR;
			*cause = xprintf("%s: not an rtcs store of format %d (%s is '%s')",
			    store_where(es->st), STORE_FORMAT, k, val != NULL ? val : "?");
		} else
			rc = 0;
		free(val);
	} else if (es->readonly) {
		*err = STORE_FORMAT_ERR;
		*cause = xprintf("%s: no rtcs store is there (no %s)", store_where(es->st), k);
	} else {
		cJSON_Delete(resp);
		body = cJSON_CreateObject();
		cmp_version(cJSON_AddArrayToObject(body, "compare"), k, "EQUAL", 0);
		ops = cJSON_AddArrayToObject(body, "success");
		op_put(ops, k, want, strlen(want));
		if ((resp = call_wait(es, "/v3/kv/txn", body, err, cause)) != NULL) {
			es->rev = header_rev(resp);
			rc = 0;		/* another server's first start raced ours: the same key */
		}
	}
out:
	cJSON_Delete(resp);
	free(k);
	return rc;
}

/* The last seq of a log (0: no record), at the load's revision. */
static int
log_last(struct es *es, const char *log, uint64_t *last, enum store_err *err, char **cause)
{
	char *pfx = xprintf("%s/l/%s/", es->prefix, log), *end = range_end(pfx), *key;
	cJSON *body = cJSON_CreateObject(), *resp;
	const cJSON *kv, *kj;
	size_t klen;

	add_b64(body, "key", pfx, strlen(pfx));
	add_b64(body, "range_end", end, strlen(end));
	add_num(body, "limit", 1);
	add_num(body, "revision", es->rev);
	cJSON_AddStringToObject(body, "sort_order", "DESCEND");
	cJSON_AddStringToObject(body, "sort_target", "KEY");
	cJSON_AddBoolToObject(body, "keys_only", 1);
	free(pfx);
	free(end);
	if ((resp = call_wait(es, "/v3/kv/range", body, err, cause)) == NULL)
		return -1;
	*last = 0;
	if ((kv = first_kv(resp)) != NULL) {
		kj = cJSON_GetObjectItemCaseSensitive(kv, "key");
		if ((key = etcd_unb64(cJSON_IsString(kj) ? kj->valuestring : "", &klen)) != NULL)
			*last = key_seq(es, key, klen, log);
		free(key);
	}
	cJSON_Delete(resp);
	return 0;
}

/* Every document of a kind, page by page, at the load's revision. */
static int
load_kind(struct es *es, enum store_kind kind, const struct store_loader *ld,
    struct strmap *logs, enum store_err *err, char **cause)
{
	char *pfx = xprintf("%s/d/%s/", es->prefix, kind_names[kind]), *end = range_end(pfx);
	char *from = xstrdup(pfx), *key, *val, *why = NULL;
	size_t plen = strlen(pfx), klen, vlen;
	cJSON *body, *resp;
	const cJSON *kv, *kj;
	int more = 1, rc = 0;
	struct store_doc d;

	while (more && rc == 0) {
		body = cJSON_CreateObject();
		/* After the first page: from the key just after the last one read. */
		add_b64(body, "key", from, strlen(from) + (strcmp(from, pfx) != 0));
		add_b64(body, "range_end", end, strlen(end));
		add_num(body, "limit", ETCD_PAGE);
		add_num(body, "revision", es->rev);
		if ((resp = call_wait(es, "/v3/kv/range", body, err, cause)) == NULL) {
			rc = -1;
			break;
		}
		more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "more"));
		cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(resp, "kvs")) {
			kj = cJSON_GetObjectItemCaseSensitive(kv, "key");
			key = etcd_unb64(cJSON_IsString(kj) ? kj->valuestring : "", &klen);
			val = kv_value(kv, &vlen);
			if (key == NULL) {
				/* No key to go on from: the range cannot be paged. */
				*err = STORE_CORRUPT;
				*cause = xprintf("%s: etcd answered a key that is not base64",
				    store_where(es->st));
				free(val);
				rc = -1;
				break;
			}
			if (val == NULL || klen <= plen ||
			    !store_id_valid(key + plen, klen - plen)) {
				if (ld->problem != NULL)
					ld->problem(ld->arg, key, "a key or a value that is not the store's", 0);
				rc = rc == 0 ? 1 : rc + 1;
			} else {
				d = (struct store_doc){ kind, key + plen, etcd_num(kv, "version", 0), val,
				    vlen };
				seen_doc(es, kind, d.id, d.rev);
				if (kind == STORE_SESSION)
					strmap_put(logs, d.id, NULL);
				if (ld->doc != NULL && ld->doc(ld->arg, &d, &why) != 0) {
					*err = STORE_CORRUPT;
					*cause = why;
					rc = -1;
				}
			}
			free(from);
			from = key;
			free(val);
			if (rc < 0)
				break;
		}
		cJSON_Delete(resp);
	}
	free(pfx);
	free(end);
	free(from);
	return rc;
}

struct log_load {
	struct es	*es;
	const struct store_loader *ld;
	enum store_err	*err;
	char		**cause;
	int		 rc;
};

static void
load_log(const char *name, void *val, void *arg)
{
	struct log_load *l = arg;
	uint64_t last;
	char *why = NULL;

	(void)val;
	if (l->rc < 0)
		return;
	if (log_last(l->es, name, &last, l->err, l->cause) != 0) {
		l->rc = -1;
		return;
	}
	*counter(l->es->lasts, name) = last;
	if (l->ld->log != NULL && l->ld->log(l->ld->arg, name, last, &why) != 0) {
		*l->err = STORE_CORRUPT;
		*l->cause = why;
		l->rc = -1;
	}
}

static int
es_load(void *be, const struct store_loader *ld, enum store_err *err, char **cause)
{
	struct es *es = be;
	struct strmap *logs = strmap_new();
	struct log_load ll = { es, ld, err, cause, 0 };
	int kind, rc = 0, n;

	if (check_format(es, err, cause) != 0) {
		strmap_free(logs, NULL);
		return -1;
	}
	for (kind = 0; kind < STORE_NKINDS && rc >= 0; kind++)
		if ((n = load_kind(es, (enum store_kind)kind, ld, logs, err, cause)) < 0)
			rc = -1;
		else
			rc += n;
	strmap_put(logs, STORE_EVENTS, NULL);
	if (rc >= 0) {
		strmap_each(logs, load_log, &ll);
		if (ll.rc < 0)
			rc = -1;
	}
	strmap_free(logs, NULL);
	/* What the load read is everything up to es->rev: the watch goes on from there. */
	es->watching = 1;
	if (rc >= 0 && es->st->base != NULL && !es->readonly) {
		watch_start(es);
		es->status_ev = evtimer_new(es->st->base, status_fire, es);
		status_fire(-1, 0, es);
		if (es->compact_s > 0) {
			es->maint_ev = evtimer_new(es->st->base, maint_fire, es);
			es->maint_rev = es->rev;
			maint_arm(es);
		}
	}
	return rc;
}

/* ---- open and close ---- */

static int
es_broken(void *be)
{
	(void)be;
	return 0;	/* etcd refuses what it did not do: a failed call breaks nothing */
}

static int
es_pending(void *be)
{
	struct es *es = be;

	return !TAILQ_EMPTY(&es->writes) || !TAILQ_EMPTY(&es->barriers) ||
	    !TAILQ_EMPTY(&es->barriers_next);
}

static int
es_check_files(void *be, const struct store_loader *ld)
{
	(void)be;
	(void)ld;
	return 0;	/* no files: etcd keeps its own */
}

static void
es_stats(void *be, struct store_stats *out)
{
	*out = ((struct es *)be)->stats;
}

/* At close: appends never sent are dropped (their callers hear nothing, as for the others). */
static void
logq_drop(const char *name, void *val, void *arg)
{
	struct logq *q = val;
	struct es_op *op;

	(void)name;
	(void)arg;
	while ((op = TAILQ_FIRST(&q->queued)) != NULL) {
		TAILQ_REMOVE(&q->queued, op, qentry);
		op_free(op);
	}
}

/* Closing: the waiters of q go, untold. */
static void
waitq_drop(struct flush_waitq *q)
{
	struct flush_wait *f;

	while ((f = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, f, entry);
		free(f);
	}
}

static void
es_close(void *be)
{
	struct es *es = be;

	es->closing = 1;
	/*
	 * As every call's callback once closing: the barriers' waiters hear
	 * nothing (what they wait for, a request, a session, is gone already).
	 */
	waitq_drop(&es->barriers);
	waitq_drop(&es->barriers_next);
	if (es->barrier_to != NULL)
		event_free(es->barrier_to);
	if (es->barrier_gap != NULL)
		event_free(es->barrier_gap);
	es->barrier_to = es->barrier_gap = NULL;
	es->barrier_rev = 0;
	etcd_watch_stop(es->watch);
	es->watch = NULL;
	etcd_free(es->et);
	waitq_drop(&es->flushes);
	if (es->late_ev != NULL)
		event_free(es->late_ev);
	cJSON_Delete(es->late);
	if (es->rewatch != NULL)
		event_free(es->rewatch);
	if (es->probe != NULL)
		event_free(es->probe);
	if (es->status_ev != NULL)
		event_free(es->status_ev);
	if (es->maint_ev != NULL)
		event_free(es->maint_ev);
	strmap_free(es->lasts, free);
	strmap_free(es->seen, free);
	strmap_free(es->puts, NULL);
	strmap_each(es->logqs, logq_drop, NULL);
	strmap_free(es->logqs, logq_free);
	free(es->prefix);
	free(es);
}

void *
store_etcd_open(struct store *st, const char *spec, const struct store_options *opt,
    enum store_err *err, char **cause)
{
	struct es *es;
	const char *hosts = spec + strlen("etcd://"), *slash = strchr(hosts, '/');
	char *eps = slash != NULL ? xstrndup(hosts, (size_t)(slash - hosts)) : xstrdup(hosts);
	size_t i;

	es = xcalloc(1, sizeof *es);
	es->st = st;
	es->readonly = opt->readonly;
	es->quota = (uint64_t)(opt->quota_mib > 0 ? opt->quota_mib : 2048) << 20;
	es->compact_s = opt->compact_s;
	es->prefix = xstrdup(slash != NULL && slash[1] != '\0' ? slash : "/rtcs");
	for (i = strlen(es->prefix); i > 1 && es->prefix[i - 1] == '/'; i--)
		es->prefix[i - 1] = '\0';
	if (strlen(es->prefix) < 2 || strpbrk(es->prefix, " \n\t") != NULL) {
		*err = STORE_INVALID;
		*cause = xprintf("%s: the prefix after the endpoints is /NAME", spec);
		goto fail;
	}
	if ((es->et = etcd_new(eps, st->base, cause)) == NULL) {
		*err = STORE_INVALID;
		goto fail;
	}
	free(eps);
	es->lasts = strmap_new();
	es->seen = strmap_new();
	es->puts = strmap_new();
	es->logqs = strmap_new();
	TAILQ_INIT(&es->writes);
	TAILQ_INIT(&es->flushes);
	TAILQ_INIT(&es->barriers);
	TAILQ_INIT(&es->barriers_next);
	if (st->base != NULL) {
		es->barrier_to = evtimer_new(st->base, barrier_timeout, es);
		es->barrier_gap = evtimer_new(st->base, barrier_gap_ev, es);
		es->late = cJSON_CreateArray();
		es->late_ev = evtimer_new(st->base, watch_late, es);
		es->rewatch = evtimer_new(st->base, rewatch, es);
		es->probe = evtimer_new(st->base, probe_fire, es);
	}
	return es;
fail:
	free(eps);
	free(es->prefix);
	free(es);
	return NULL;
}

const struct store_ops store_etcd_ops = {
	.name = "etcd",
	.shared = 1,
	.load = es_load,
	.get = es_get,
	.put = es_put,
	.put_later = NULL,
	.append = es_append,
	.append_if = es_append_if,
	.read = es_read,
	.flush = es_flush,
	.barrier = es_barrier,
	.remove = es_remove,
	.durable_last = es_durable_last,
	.broken = es_broken,
	.available = es_available,
	.full_soon = es_full_soon,
	.pending = es_pending,
	.check_files = es_check_files,
	.stats = es_stats,
	.close = es_close,
};
