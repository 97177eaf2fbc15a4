/*
 * The core's life: set up, loaded from the store (documents parsed into
 * memory, each log's end learned, nothing of the logs kept), checked,
 * recovered after a crash, freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "core_int.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "xmalloc.h"

void
core_init(struct core *c, struct store *st, struct event_base *base,
    const struct core_config *cfg)
{
	memset(c, 0, sizeof *c);
	c->store = st;
	c->base = base;
	c->cfg = *cfg;
	c->sessions = strmap_new();
	c->channels = strmap_new();
	c->tokens = strmap_new();
	c->transfers = strmap_new();
	c->claims = strmap_new();
	c->invites = strmap_new();
	c->owners = strmap_new();
	TAILQ_INIT(&c->xopen);
	lane_init(&c->events_lane);
	core_xfer_init(c);
}

struct load {
	struct core	*core;
	void		(*problem)(void *, const char *, const char *, int);
	void		(*note)(void *, const char *, const char *);
	void		*arg;
	int		 problems;
};

static void
load_problem(struct load *l, const char *where, const char *what)
{
	l->problems++;
	if (l->problem != NULL)
		l->problem(l->arg, where, what, 0);
}

/* The store's own findings, to the caller's printer. */
static void
fwd_problem(void *arg, const char *where, const char *what, int fixed)
{
	struct load *l = arg;

	if (l->problem != NULL)
		l->problem(l->arg, where, what, fixed);
}

static void
fwd_note(void *arg, const char *where, const char *what)
{
	struct load *l = arg;

	if (l->note != NULL)
		l->note(l->arg, where, what);
}

/* The server's keys (meta/keys): shared by every node that uses the store. */
static int
keys_from_doc(struct core *c, const cJSON *doc, uint64_t rev, char **why)
{
	const char *mk = json_str(doc, "match_key"), *ss = json_str(doc, "sign_seed");
	const char *name = json_str(doc, "name");
	unsigned char seed[PAYLOAD_SEED_BYTES];

	if (mk == NULL || hash_unhex(mk, c->match_key, sizeof c->match_key) != 0 ||
	    (ss != NULL && hash_unhex(ss, seed, sizeof seed) != 0) ||
	    (name != NULL && (!name_valid(name) || strlen(name) > PAYLOAD_DESC_NAME_MAX))) {
		*why = xstrdup("malformed keys document");
		return -1;
	}
	/* A store from before signed codes has no signing key yet: keys_ensure adds one. */
	if (ss != NULL) {
		payload_keypair(seed, c->sign_pk, c->sign_sk);
		sodium_memzero(seed, sizeof seed);
		c->have_sign = 1;
	}
	if (name != NULL)
		memcpy(c->name, name, strlen(name) + 1);
	c->have_keys = 1;
	c->keys_rev = rev;
	return 0;
}

static int
load_doc(void *arg, const struct store_doc *d, char **cause)
{
	struct load *l = arg;
	cJSON *doc;
	const char *id;
	char *why = NULL, *where;
	int rv;

	where = xprintf("%s %s", d->kind == STORE_SESSION ? "session" : d->kind == STORE_TRANSFER ?
	    "transfer" : d->kind == STORE_INVITE ? "invite" : "document", d->id);
	(void)cause;
	if ((doc = json_parse_object(d->json, d->len, &why)) == NULL)
		rv = -1;
	else if ((id = json_str(doc, "id")) == NULL || strcmp(id, d->id) != 0) {
		why = xstrdup("the document's id does not match its name");
		rv = -1;
	} else if (d->kind == STORE_SESSION)
		rv = session_from_doc(l->core, doc, d->rev, &why);
	else if (d->kind == STORE_TRANSFER)
		rv = xfer_from_doc(l->core, doc, d->rev, &why);
	else if (d->kind == STORE_INVITE)
		rv = invite_from_doc(l->core, doc, d->rev, &why);
	else if (strcmp(d->id, "keys") == 0)
		rv = keys_from_doc(l->core, doc, d->rev, &why);
	else
		rv = 0;
	/* Every document that does not hold is a problem; the load goes on to find the rest. */
	if (rv != 0)
		load_problem(l, where, why ? why : "malformed");
	free(why);
	free(where);
	cJSON_Delete(doc);
	return 0;
}

struct keys_put {
	uint64_t rev;
	int	 done;
	enum store_err err;
	char	*cause;
};

static void
keys_written(void *arg, enum store_err err, uint64_t rev, const char *cause)
{
	struct keys_put *kp = arg;

	kp->rev = rev;
	kp->done = 1;
	kp->err = err;
	kp->cause = cause != NULL ? xstrdup(cause) : NULL;
}

struct keys_get {
	struct core	*core;
	int		 done, rc;
	enum store_err	 err;
	char		*cause;
};

static void
keys_got(void *arg, enum store_err err, const struct store_doc *d, const char *cause)
{
	struct keys_get *kg = arg;
	cJSON *doc;

	kg->done = 1;
	kg->err = err;
	kg->rc = -1;
	if (err != STORE_OK) {
		kg->cause = xstrdup(cause != NULL ? cause : "cannot read the keys");
		return;
	}
	if ((doc = json_parse_object(d->json, d->len, &kg->cause)) != NULL) {
		kg->rc = keys_from_doc(kg->core, doc, d->rev, &kg->cause);
		cJSON_Delete(doc);
	}
	if (kg->rc != 0)
		kg->err = STORE_CORRUPT;
}

/* The keys another node has just written (a shared store), waited for on the loop. */
static int
keys_reread(struct core *c, enum store_err *err, char **cause)
{
	struct keys_get kg = { c, 0, -1, STORE_OK, NULL };

	store_get(c->store, STORE_META, "keys", keys_got, &kg);
	while (!kg.done && c->base != NULL && event_base_loop(c->base, EVLOOP_ONCE) == 0)
		;
	if (kg.rc != 0) {
		*err = kg.done ? kg.err : STORE_IO;
		*cause = kg.cause != NULL ? kg.cause : xstrdup("cannot read the keys");
		return -1;
	}
	return 0;
}

/*
 * A new store gets its keys and its name at the first start, a store from
 * before signed codes its signing key, and --name renames the server (every
 * node on the store signs with one key under one name; start-up: this may
 * wait). Computed, written (create-only, or over the revision read), then used.
 * reread: another node's keys were read after losing the race to write them.
 */
static int
keys_ensure(struct core *c, int reread, enum store_err *err, char **cause)
{
	struct keys_put kp = { 0, 0, STORE_OK, NULL };
	unsigned char match_key[sizeof c->match_key], seed[PAYLOAD_SEED_BYTES];
	char hex[65], shex[65], *json, name[PAYLOAD_DESC_NAME_MAX + 1];
	cJSON *doc;

	/* The name: --name, else the store's, else the host's. */
	if (c->cfg.name[0] != '\0')
		memcpy(name, c->cfg.name, sizeof name);
	else if (c->name[0] != '\0')
		memcpy(name, c->name, sizeof name);
	else
		name_from_host(name, PAYLOAD_DESC_NAME_MAX, "rtcs");
	if ((!c->have_keys || !c->have_sign || strcmp(name, c->name) != 0) && !c->readonly) {
		if (c->have_keys)
			memcpy(match_key, c->match_key, sizeof match_key);
		else
			randombytes_buf(match_key, sizeof match_key);
		if (c->have_sign)
			crypto_sign_ed25519_sk_to_seed(seed, c->sign_sk);
		else
			randombytes_buf(seed, sizeof seed);
		hash_hex_bytes(match_key, sizeof match_key, hex);
		hash_hex_bytes(seed, sizeof seed, shex);
		doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "id", "keys");
		cJSON_AddStringToObject(doc, "match_key", hex);
		cJSON_AddStringToObject(doc, "sign_seed", shex);
		cJSON_AddStringToObject(doc, "name", name);
		json = json_print(doc);
		cJSON_Delete(doc);
		store_put(c->store, STORE_META, "keys", c->have_keys ? c->keys_rev : STORE_REV_CREATE,
		    json, strlen(json), NULL, keys_written, &kp);
		/* Not serving yet: a store that answers on the loop (etcd) is waited for. */
		while (!kp.done && c->base != NULL && event_base_loop(c->base, EVLOOP_ONCE) == 0)
			;
		sodium_memzero(json, strlen(json));
		free(json);
		sodium_memzero(hex, sizeof hex);
		sodium_memzero(shex, sizeof shex);
		if (kp.done && kp.err == STORE_CONFLICT && store_shared(c->store) && !reread) {
			/* Another node wrote them first (they started together): its keys are ours. */
			sodium_memzero(seed, sizeof seed);
			free(kp.cause);
			return keys_reread(c, err, cause) != 0 ? -1 : keys_ensure(c, 1, err, cause);
		}
		if (!kp.done || kp.err != STORE_OK) {
			sodium_memzero(seed, sizeof seed);
			*err = kp.done ? kp.err : STORE_IO;
			*cause = kp.cause != NULL ? kp.cause : xstrdup("cannot write the keys");
			return -1;
		}
		memcpy(c->match_key, match_key, sizeof match_key);
		payload_keypair(seed, c->sign_pk, c->sign_sk);
		sodium_memzero(seed, sizeof seed);
		sodium_memzero(match_key, sizeof match_key);
		if (c->name[0] != '\0' && strcmp(c->name, name) != 0)
			log_warnx("the server's name is now %s (was %s): devices that kept its key "
			    "under the old name will keep it again under the new one", name, c->name);
		c->have_keys = c->have_sign = 1;
		c->keys_rev = kp.rev;
	}
	memcpy(c->name, name, sizeof name);
	transfer_set_match_key(c->match_key);
	if (c->have_sign)
		transfer_set_sign_key(c->sign_pk);
	return 0;
}

static int
load_log(void *arg, const char *log, uint64_t last, char **cause)
{
	struct load *l = arg;
	struct core_session *s;
	char *what;

	(void)cause;
	if (strcmp(log, STORE_EVENTS) == 0) {
		l->core->events_appended = l->core->events_durable = last;
		return 0;
	}
	if ((s = core_session_find(l->core, log)) == NULL) {
		what = xprintf("log %s has no session", log);
		load_problem(l, log, what);
		free(what);
		return 0;
	}
	s->appended = s->durable = last;
	return 0;
}

static int
session_cmp(const void *a, const void *b)
{
	const struct core_session *x = *(struct core_session *const *)a;
	const struct core_session *y = *(struct core_session *const *)b;

	return (x->created_ms > y->created_ms) - (x->created_ms < y->created_ms);
}

static void
check_session(struct load *l, struct core_session *s)
{
	char *where = xprintf("session %s", s->id), *what;
	size_t i, j;

	for (i = 0; i < s->nchannels; i++) {
		struct core_channel *ch = s->channels[i];
		struct core_participant *p = core_participant(s, ch->participant);
		what = NULL;
		if (ch->start_seq > s->durable + 1)
			what = xprintf("channel %s starts after the end of the log", ch->id);
		else if (ch->delivered_seq > s->durable)
			what = xprintf("channel %s delivered beyond the log", ch->id);
		else if (ch->open && s->ended)
			what = xprintf("channel %s open in an ended session", ch->id);
		else if (ch->open && (p == NULL || p->channel != ch))
			what = xprintf("open channel %s is not its participant's", ch->id);
		else if (!ch->open && p != NULL && p->channel == ch && !s->ended)
			what = xprintf("participant %s speaks through closed channel %s", p->name,
			    ch->id);
		for (j = 0; what == NULL && ch->open && j < i; j++)
			if (s->channels[j]->open && strcmp(s->channels[j]->device, ch->device) == 0)
				what = xprintf("device %s holds two open channels, %s and %s",
				    ch->device, s->channels[j]->id, ch->id);
		if (what != NULL) {
			load_problem(l, where, what);
			free(what);
		}
	}
	free(where);
}

static void
check_transfers(struct load *l)
{
	struct core *c = l->core;
	struct core_channel *ch;
	char *where;
	const char *what;
	size_t i;

	for (i = 0; i < c->nxfers; i++) {
		struct transfer *t = &c->xlist[i]->t;
		what = NULL;
		if (t->session[0] != '\0' && core_session_find(c, t->session) == NULL)
			what = "transfer of a session that does not exist";
		else if (t->state == TS_COMPLETED && ((ch = strmap_get(c->channels,
		    t->new_channel)) == NULL || strcmp(ch->session->id, t->session) != 0))
			what = "completed transfer whose new channel is not in its session";
		if (what == NULL)
			continue;
		where = xprintf("transfer %s", t->id);
		load_problem(l, where, what);
		free(where);
	}
}

int
core_load(struct core *c, void (*problem)(void *, const char *, const char *, int),
    void (*note)(void *, const char *, const char *), void *arg, int check_files,
    enum store_err *err, char **cause)
{
	struct load l = { c, problem, note, arg, 0 };
	struct store_loader ld = { &l, load_doc, load_log, fwd_problem, fwd_note };
	size_t i;
	int problems;

	if (sodium_init() < 0) {
		*err = STORE_IO;
		*cause = xstrdup("libsodium cannot start");
		return -1;
	}
	/* Before the load: what the others write from its revision on is followed. */
	core_peer_follow(c);
	if ((problems = store_load(c->store, &ld, err, cause)) < 0 ||
	    keys_ensure(c, 0, err, cause) != 0)
		return -1;
	if (c->nsessions > 1)
		qsort(c->slist, c->nsessions, sizeof *c->slist, session_cmp);
	for (i = 0; i < c->nsessions; i++) {
		check_session(&l, c->slist[i]);
		core_session_watch(c, c->slist[i]);
	}
	check_transfers(&l);
	invite_count_uses(c);
	/* A shared store: the event log's last seq follows the others' events too. */
	if (store_shared(c->store) && !c->readonly)
		core_events_watch(c);
	core_retain_start(c);
	if (check_files)
		problems += store_check_files(c->store, &ld);
	return problems + l.problems;
}

int
core_recover(struct core *c, char **cause)
{
	struct core_xfer *x, *next;
	struct core_channel *sw;

	(void)cause;
	for (x = TAILQ_FIRST(&c->xopen); x != NULL; x = next) {
		next = TAILQ_NEXT(x, entry);
		sw = core_xfer_switched(c, x);
		/* A shared store: the open ones may be another live server's; their deadlines settle them. */
		if (sw != NULL || !store_shared(c->store))
			xfer_recover_one(c, x, sw);
	}
	return 0;
}

void
core_free(struct core *c)
{
	size_t i;

	sodium_memzero(c->sign_sk, sizeof c->sign_sk);
	sodium_memzero(c->match_key, sizeof c->match_key);

	for (i = 0; i < c->nsessions; i++) {
		store_unwatch(c->slist[i]->watch);
		session_free(c->slist[i]);
	}
	free(c->slist);
	for (i = 0; i < c->nxfers; i++)
		xfer_free(c->xlist[i]);
	free(c->xlist);
	for (i = 0; i < c->ninvites; i++)
		free(c->ilist[i]);
	free(c->ilist);
	if (c->retain_ev != NULL)
		event_free(c->retain_ev);
	store_unwatch(c->events_watch);
	store_unwatch(c->peer_watch[0]);
	store_unwatch(c->peer_watch[1]);
	store_unwatch(c->peer_watch[2]);
	strmap_free(c->sessions, NULL);
	strmap_free(c->channels, NULL);
	strmap_free(c->tokens, NULL);
	strmap_free(c->transfers, NULL);
	strmap_free(c->claims, NULL);
	strmap_free(c->invites, NULL);
	strmap_free(c->owners, NULL);
}
