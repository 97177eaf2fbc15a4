/* The in-memory index of sessions, channels and logs, and how it is persisted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "failpoint.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "payload.h"
#include "rand.h"
#include "serve.h"
#include "xmalloc.h"

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
time_format(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000) % 1000u);
}

/* Parses what time_format writes; -1 if absent or malformed. */
static int64_t
time_parse(const cJSON *obj, const char *key)
{
	const char *s = json_str(obj, key);
	struct tm tm;
	int ms, n = 0;

	if (s == NULL)
		return -1;
	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &n) != 7 || s[n] != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

void
json_add_time(cJSON *obj, const char *key, int64_t ms)
{
	char buf[32];

	if (ms < 0) {
		cJSON_AddNullToObject(obj, key);
		return;
	}
	time_format(ms, buf);
	cJSON_AddStringToObject(obj, key, buf);
}

static void
json_add_str_or_null(cJSON *obj, const char *key, const char *s)
{
	if (s == NULL)
		cJSON_AddNullToObject(obj, key);
	else
		cJSON_AddStringToObject(obj, key, s);
}

/* ---- objects ---- */

static void
server_add_session(struct server *srv, struct session *s)
{
	if (srv->nsessions == srv->scap) {
		srv->scap = srv->scap ? srv->scap * 2 : 64;
		srv->slist = xreallocarray(srv->slist, srv->scap, sizeof *srv->slist);
	}
	srv->slist[srv->nsessions++] = s;
	strmap_put(srv->sessions, s->id, s);
}

struct session *
session_new(struct server *srv, const char *kind)
{
	struct session *s = xcalloc(1, sizeof *s);

	TAILQ_INIT(&s->followers);
	s->srv = srv;
	s->id = rand_id('S');
	s->kind = xstrdup(kind);
	s->created_ms = now_ms();
	s->ended_ms = -1;
	server_add_session(srv, s);
	return s;
}

struct session *
session_find(struct server *srv, const char *id)
{
	return id != NULL ? strmap_get(srv->sessions, id) : NULL;
}

struct participant *
session_participant(struct session *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nparticipants; i++)
		if (strcmp(s->participants[i].name, name) == 0)
			return &s->participants[i];
	return NULL;
}

/* The open channel of device in s, if any. */
struct channel *
session_device_channel(struct session *s, const char *device)
{
	size_t i;

	for (i = 0; i < s->nchannels; i++)
		if (s->channels[i]->open && strcmp(s->channels[i]->device, device) == 0)
			return s->channels[i];
	return NULL;
}

static struct channel *
channel_add(struct server *srv, struct session *s, const char *id, const char *participant,
    const char *device)
{
	struct channel *ch = xcalloc(1, sizeof *ch);

	ch->id = xstrdup(id);
	ch->session = s;
	ch->participant = xstrdup(participant);
	ch->device = xstrdup(device);
	ch->opened_ms = now_ms();
	ch->closed_ms = -1;
	TAILQ_INIT(&ch->streams);
	s->channels = xreallocarray(s->channels, s->nchannels + 1, sizeof *s->channels);
	s->channels[s->nchannels++] = ch;
	strmap_put(srv->channels, ch->id, ch);
	return ch;
}

/*
 * Opens a channel with the given id and token for device speaking for
 * participant (added if new); its streams start after the current end of
 * the log. The channel keeps only the token's hash.
 */
struct channel *
channel_open_as(struct server *srv, struct session *s, const char *participant,
    const char *device, const char *id, const char *token)
{
	struct participant *p;
	struct channel *ch;

	ch = channel_add(srv, s, id, participant, device);
	ch->open = 1;
	ch->start_seq = s->last_seq + 1;
	ch->token_hash = hash_secret(token);
	strmap_put(srv->tokens, ch->token_hash, ch);
	if ((p = session_participant(s, participant)) == NULL) {
		s->participants = xreallocarray(s->participants, s->nparticipants + 1,
		    sizeof *s->participants);
		p = &s->participants[s->nparticipants++];
		p->name = xstrdup(participant);
	}
	p->channel = ch;
	return ch;
}

/* channel_open_as with a fresh id and token; *token is the only copy of the secret. */
struct channel *
channel_open(struct server *srv, struct session *s, const char *participant,
    const char *device, char **token)
{
	struct channel *ch;
	char *id = rand_id('C');

	*token = rand_base32(16);
	ch = channel_open_as(srv, s, participant, device, id, *token);
	free(id);
	return ch;
}

/* The token stops working at once: every later call with it gets 401. */
void
channel_revoke(struct server *srv, struct channel *ch)
{
	if (ch->token_hash == NULL)
		return;
	if (strmap_get(srv->tokens, ch->token_hash) == ch)
		strmap_del(srv->tokens, ch->token_hash);
	free(ch->token_hash);
	ch->token_hash = NULL;
}

static cJSON *
channel_json(const struct channel *ch, int with_secrets)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", ch->id);
	cJSON_AddStringToObject(o, "participant", ch->participant);
	cJSON_AddStringToObject(o, "device", ch->device);
	cJSON_AddStringToObject(o, "state", ch->open ? "open" : "closed");
	json_add_time(o, "opened_at", ch->opened_ms);
	json_add_time(o, "closed_at", ch->closed_ms);
	json_add_str_or_null(o, "closed_reason", ch->closed_reason);
	if (ch->closed_to != NULL)
		cJSON_AddStringToObject(o, "closed_to", ch->closed_to);
	cJSON_AddNumberToObject(o, "start_seq", (double)ch->start_seq);
	cJSON_AddNumberToObject(o, "delivered_seq", (double)ch->delivered_seq);
	if (with_secrets && ch->token_hash != NULL)
		cJSON_AddStringToObject(o, "token_hash", ch->token_hash);
	return o;
}

/* The Session object of doc/api.md; with_secrets adds what only the store keeps. */
cJSON *
session_json(const struct session *s, int with_channels, int with_secrets)
{
	cJSON *o = cJSON_CreateObject(), *a, *p;
	size_t i;

	cJSON_AddStringToObject(o, "id", s->id);
	cJSON_AddStringToObject(o, "kind", s->kind);
	cJSON_AddStringToObject(o, "state", s->ended ? "ended" : "live");
	json_add_time(o, "created_at", s->created_ms);
	json_add_time(o, "ended_at", s->ended_ms);
	if (!with_secrets)
		cJSON_AddNumberToObject(o, "last_seq", (double)s->last_seq);
	a = cJSON_AddArrayToObject(o, "participants");
	for (i = 0; i < s->nparticipants; i++) {
		const struct channel *ch = s->participants[i].channel;
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", s->participants[i].name);
		cJSON_AddStringToObject(p, "device", ch->device);
		cJSON_AddStringToObject(p, "channel", ch->id);
		cJSON_AddItemToArray(a, p);
	}
	if (with_channels) {
		a = cJSON_AddArrayToObject(o, "channels");
		for (i = 0; i < s->nchannels; i++)
			cJSON_AddItemToArray(a, channel_json(s->channels[i], with_secrets));
	}
	return o;
}

struct put_result {
	int	 done;
	enum store_err err;
	uint64_t rev;
	char	*cause;
};

static void
put_done(void *arg, enum store_err err, uint64_t rev, const char *cause)
{
	struct put_result *r = arg;

	r->done = 1;
	r->err = err;
	r->rev = rev;
	r->cause = cause != NULL ? xstrdup(cause) : NULL;
}

/*
 * Every document goes through here, with the revision it replaces (0 for a
 * new one; updated on success). A document replaced whose durability is
 * unknown is committed as far as the disk goes: memory cannot be undone
 * safely, so the server stops before acknowledging (the restart reads the
 * disk). The flat-file store completes a put before it returns.
 */
int
server_put_doc(struct server *srv, enum store_kind kind, const char *id, uint64_t *rev,
    const cJSON *doc, const struct store_then *then, char **cause)
{
	struct put_result r = { 0, STORE_OK, 0, NULL };
	char *text = json_print(doc);

	store_put(srv->store, kind, id, *rev, text, strlen(text), then, put_done, &r);
	free(text);
	if (!r.done)
		fatalx("%s: the store did not complete a write at once", id);
	if (r.err == STORE_OK) {
		*rev = r.rev;
		return 0;
	}
	if (store_broken(srv->store))
		fatalx("%s: cannot tell what is durable", r.cause);
	*cause = r.cause;
	return -1;
}

int
session_save(struct server *srv, struct session *s, char **cause)
{
	cJSON *doc = session_json(s, 1, 1);
	int rv;

	rv = server_put_doc(srv, STORE_SESSION, s->id, &s->rev, doc, NULL, cause);
	cJSON_Delete(doc);
	return rv;
}

static void
doc_set(cJSON *o, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, v);
}

/*
 * The document of s as it will be once ended at ms (every open channel
 * closed "session_ended", its token gone), nothing changed in memory: the
 * commit point of an end, applied to memory only once durable.
 */
cJSON *
session_ended_doc(struct session *s, int64_t ms)
{
	cJSON *doc = session_json(s, 1, 1), *c, *t = cJSON_CreateObject();
	const char *state;

	json_add_time(t, "at", ms);
	doc_set(doc, "state", cJSON_CreateString("ended"));
	doc_set(doc, "ended_at", cJSON_Duplicate(t->child, 1));
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "channels")) {
		if ((state = json_str(c, "state")) == NULL || strcmp(state, "open") != 0)
			continue;
		doc_set(c, "state", cJSON_CreateString("closed"));
		doc_set(c, "closed_at", cJSON_Duplicate(t->child, 1));
		doc_set(c, "closed_reason", cJSON_CreateString("session_ended"));
		cJSON_DeleteItemFromObjectCaseSensitive(c, "token_hash");
	}
	cJSON_Delete(t);
	return doc;
}

/* Applies an end already saved (session_ended_doc) to memory. */
void
session_mark_ended(struct server *srv, struct session *s, int64_t ms)
{
	size_t i;

	s->ended = 1;
	s->ended_ms = ms;
	for (i = 0; i < s->nchannels; i++) {
		if (s->channels[i]->open) {
			channel_close(srv, s->channels[i], "session_ended", NULL);
			s->channels[i]->closed_ms = ms;
		}
	}
}

/* Takes back channel_open of a new participant whose document was not saved. */
void
channel_unopen(struct server *srv, struct channel *ch)
{
	struct session *s = ch->session;
	size_t i;

	channel_revoke(srv, ch);
	strmap_del(srv->channels, ch->id);
	for (i = 0; i < s->nparticipants; i++) {
		if (s->participants[i].channel == ch) {
			free(s->participants[i].name);
			s->participants[i] = s->participants[--s->nparticipants];
			break;
		}
	}
	if (s->nchannels > 0 && s->channels[s->nchannels - 1] == ch)
		s->nchannels--;
	channel_free(ch);
}

/*
 * The one policy for a failure after the commit point (the document is
 * saved): the action happened and is acknowledged; what is lost (a server
 * event) is logged. Frees cause.
 */
void
after_commit_failed(const char *what, const char *id, char *cause)
{
	log_warnx("%s %s: committed, but %s", what, id, cause);
	free(cause);
}

/* A log entry of s with its seq (the next one) and time; the caller adds the rest. */
cJSON *
entry_new(struct session *s, const char *type)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddNumberToObject(e, "seq", (double)(s->last_seq + 1));
	json_add_time(e, "ts", now_ms());
	cJSON_AddStringToObject(e, "type", type);
	return e;
}

static void
log_push(char ***log, size_t *cap, uint64_t n, char *text)
{
	if (n >= *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*log = xreallocarray(*log, *cap, sizeof **log);
	}
	(*log)[n] = text;
}

/* Replies held for the group commit can go once nothing is pending. */
static void
model_durable(struct server *srv)
{
	if (!store_pending(srv->store))
		http_flush_pending(srv);
}

/*
 * The result of an append: in the call (a refusal, or a store that syncs at
 * once), or at the group commit, where a failure means acknowledged-looking
 * writes may be lost: the server stops.
 */
static int
append_result(struct append_wait *aw, enum store_err err, const char *what, const char *cause)
{
	if (aw->active) {
		aw->err = err;
		aw->cause = err != STORE_OK ? xstrdup(cause ? cause : "") : NULL;
	} else if (err != STORE_OK)
		fatalx("%s: %s: cannot acknowledge writes that may be lost", what, cause);
	return err == STORE_OK;
}

static void
session_appended(void *arg, enum store_err err, uint64_t seq, const char *cause)
{
	struct session *s = arg;

	if (!append_result(&s->aw, err, s->id, cause))
		return;
	if (seq > s->durable_seq)
		s->durable_seq = seq;
	stream_wake_session(s);
	model_durable(s->srv);
}

/* Appends entry (made by entry_new; freed here) to the log of s; *seq is its number. */
int
session_append(struct server *srv, struct session *s, cJSON *entry, uint64_t *seq,
    char **cause)
{
	char *text = json_print(entry);

	cJSON_Delete(entry);
	/* In memory first: a store that syncs at once wakes the streams in the call. */
	log_push(&s->log, &s->logcap, s->last_seq, text);
	s->last_seq++;
	s->aw.active = 1;
	s->aw.err = STORE_OK;
	store_append(srv->store, s->id, s->last_seq - 1, text, strlen(text), session_appended, s);
	s->aw.active = 0;
	if (s->aw.err != STORE_OK) {
		if (store_broken(srv->store))
			fatalx("%s: cannot tell what is durable", s->aw.cause);
		s->last_seq--;
		free(text);
		*cause = s->aw.cause;
		s->aw.cause = NULL;
		return -1;
	}
	if (seq != NULL)
		*seq = s->last_seq;
	return 0;
}

/*
 * Saves doc (s's document, freed; NULL: as it is in memory) and entry (made
 * by entry_new, the next seq; freed) together: both are in the store or
 * neither. The document is the commit point.
 */
int
session_commit(struct server *srv, struct session *s, cJSON *doc, cJSON *entry, char **cause)
{
	char *text = json_print(entry);
	struct store_then then = { s->id, s->last_seq + 1, text, strlen(text) };
	cJSON *d = doc != NULL ? doc : session_json(s, 1, 1);
	int rv;

	cJSON_Delete(entry);
	rv = server_put_doc(srv, STORE_SESSION, s->id, &s->rev, d, &then, cause);
	cJSON_Delete(d);
	if (rv != 0) {
		free(text);
		return -1;
	}
	/* The record stands with its document, synced or not: streams may have it. */
	log_push(&s->log, &s->logcap, s->last_seq, text);
	s->last_seq++;
	s->durable_seq = s->last_seq;
	stream_wake_session(s);
	return 0;
}

static void
event_appended(void *arg, enum store_err err, uint64_t seq, const char *cause)
{
	struct server *srv = arg;

	if (!append_result(&srv->events_aw, err, "server events", cause))
		return;
	if (seq > srv->events_durable)
		srv->events_durable = seq;
	events_wake(srv);
	model_durable(srv);
}

/* Appends a server event (GET /v1/events); extra (may be NULL) is merged and freed. */
int
server_event(struct server *srv, const char *event, struct session *s, cJSON *extra,
    char **cause)
{
	cJSON *e = cJSON_CreateObject(), *item;
	char *text;

	cJSON_AddNumberToObject(e, "seq", (double)(srv->nevents + 1));
	json_add_time(e, "ts", now_ms());
	cJSON_AddStringToObject(e, "event", event);
	if (s != NULL)
		cJSON_AddStringToObject(e, "session", s->id);
	while (extra != NULL && (item = extra->child) != NULL) {
		cJSON_DetachItemViaPointer(extra, item);
		cJSON_AddItemToObject(e, item->string, item);
	}
	cJSON_Delete(extra);
	text = json_print(e);
	cJSON_Delete(e);
	log_push(&srv->events, &srv->eventcap, srv->nevents, text);
	srv->nevents++;
	srv->events_aw.active = 1;
	srv->events_aw.err = STORE_OK;
	store_append(srv->store, STORE_EVENTS, srv->nevents - 1, text, strlen(text),
	    event_appended, srv);
	srv->events_aw.active = 0;
	if (srv->events_aw.err != STORE_OK) {
		if (store_broken(srv->store))
			fatalx("%s: cannot tell what is durable", srv->events_aw.cause);
		srv->nevents--;
		free(text);
		*cause = srv->events_aw.cause;
		srv->events_aw.cause = NULL;
		return -1;
	}
	return 0;
}

/* ---- loading ---- */

static int
load_fail(char **cause, const char *id, const char *what)
{
	*cause = xprintf("session %s: %s", id, what);
	return -1;
}

/* A sequence number read from a document: an integer from min to 2^53. */
static int
seq_valid(const cJSON *n, double min)
{
	double v;

	if (!cJSON_IsNumber(n))
		return 0;
	v = n->valuedouble;
	return v >= min && v <= 9007199254740992.0 && (double)(uint64_t)v == v;
}

static int
load_channel(struct server *srv, struct session *s, const cJSON *o, char **cause)
{
	const char *id = json_str(o, "id"), *p = json_str(o, "participant");
	const char *d = json_str(o, "device"), *state = json_str(o, "state");
	const char *th = json_str(o, "token_hash"), *r = json_str(o, "closed_reason");
	const cJSON *ss = cJSON_GetObjectItemCaseSensitive(o, "start_seq");
	const cJSON *ds = cJSON_GetObjectItemCaseSensitive(o, "delivered_seq");
	struct channel *ch;

	if (id == NULL || !payload_id_valid(id, 'C') || p == NULL || !name_valid(p) ||
	    d == NULL || !name_valid(d) || state == NULL || !seq_valid(ss, 1) ||
	    !seq_valid(ds, 0))
		return load_fail(cause, s->id, "malformed channel");
	if (strmap_get(srv->channels, id) != NULL)
		return load_fail(cause, s->id, "duplicate channel id");
	ch = channel_add(srv, s, id, p, d);
	ch->open = strcmp(state, "open") == 0;
	ch->opened_ms = time_parse(o, "opened_at");
	ch->closed_ms = time_parse(o, "closed_at");
	ch->start_seq = (uint64_t)ss->valuedouble;
	ch->delivered_seq = (uint64_t)ds->valuedouble;
	ch->closed_reason = r ? xstrdup(r) : NULL;
	ch->closed_to = json_str(o, "closed_to") ? xstrdup(json_str(o, "closed_to")) : NULL;
	if (ch->open) {
		if (th == NULL || strlen(th) != HASH_HEX_LEN)
			return load_fail(cause, s->id, "open channel without a token hash");
		ch->token_hash = xstrdup(th);
		strmap_put(srv->tokens, th, ch);
	}
	return 0;
}

static int
load_session(struct server *srv, const cJSON *doc, uint64_t rev, char **cause)
{
	const char *id = json_str(doc, "id"), *kind = json_str(doc, "kind");
	const char *state = json_str(doc, "state");
	const cJSON *chans = cJSON_GetObjectItemCaseSensitive(doc, "channels");
	const cJSON *parts = cJSON_GetObjectItemCaseSensitive(doc, "participants"), *o;
	struct session *s;
	struct participant *p;

	if (kind == NULL || state == NULL || !cJSON_IsArray(chans) || !cJSON_IsArray(parts))
		return load_fail(cause, id, "malformed session document");
	s = xcalloc(1, sizeof *s);
	TAILQ_INIT(&s->followers);
	s->srv = srv;
	s->rev = rev;
	s->id = xstrdup(id);
	s->kind = xstrdup(kind);
	s->ended = strcmp(state, "ended") == 0;
	s->created_ms = time_parse(doc, "created_at");
	s->ended_ms = time_parse(doc, "ended_at");
	server_add_session(srv, s);
	cJSON_ArrayForEach(o, chans) {
		if (load_channel(srv, s, o, cause) != 0)
			return -1;
	}
	cJSON_ArrayForEach(o, parts) {
		const char *name = json_str(o, "name"), *cid = json_str(o, "channel");
		struct channel *ch = cid ? strmap_get(srv->channels, cid) : NULL;
		if (name == NULL || ch == NULL || ch->session != s ||
		    strcmp(ch->participant, name) != 0 || session_participant(s, name) != NULL)
			return load_fail(cause, id, "participant does not match its channel");
		s->participants = xreallocarray(s->participants, s->nparticipants + 1,
		    sizeof *s->participants);
		p = &s->participants[s->nparticipants++];
		p->name = xstrdup(name);
		p->channel = ch;
	}
	return 0;
}

static int
load_doc(void *arg, const struct store_doc *d, char **cause)
{
	cJSON *doc;
	const char *id;
	int rv;

	if ((doc = json_parse_object(d->json, d->len, cause)) == NULL)
		return -1;
	if ((id = json_str(doc, "id")) == NULL || strcmp(id, d->id) != 0) {
		*cause = xprintf("%s %s: the document's id does not match its name",
		    d->kind == STORE_SESSION ? "session" : "document", d->id);
		cJSON_Delete(doc);
		return -1;
	}
	if (d->kind == STORE_SESSION)
		rv = load_session(arg, doc, d->rev, cause);
	else if (d->kind == STORE_TRANSFER)
		rv = xfer_load(arg, doc, d->rev, cause);
	else if (d->kind == STORE_INVITE)
		rv = invite_load(arg, doc, d->rev, cause);
	else
		rv = 0;
	cJSON_Delete(doc);
	return rv;
}

/* Reading a whole log back into memory (until the core reads it from the store). */
struct log_fill {
	struct server	*srv;
	struct session	*s;		/* NULL: the server's events */
	uint64_t	 got;
	enum store_err	 err;
	char		*cause;
};

static void
load_page(void *arg, enum store_err err, const struct store_record *recs, size_t n,
    const char *cause)
{
	struct log_fill *f = arg;
	size_t i;

	f->err = err;
	if (err != STORE_OK) {
		f->cause = xstrdup(cause);
		return;
	}
	for (i = 0; i < n; i++) {
		char *text = xstrndup(recs[i].json, recs[i].len);
		if (f->s != NULL)
			log_push(&f->s->log, &f->s->logcap, f->s->last_seq++, text);
		else
			log_push(&f->srv->events, &f->srv->eventcap, f->srv->nevents++, text);
	}
	f->got = n;
}

static int
load_log(void *arg, const char *log, uint64_t last, char **cause)
{
	struct server *srv = arg;
	struct log_fill f = { srv, NULL, 0, STORE_OK, NULL };
	uint64_t *have;

	if (strcmp(log, STORE_EVENTS) != 0 && (f.s = session_find(srv, log)) == NULL) {
		*cause = xprintf("log %s has no session", log);
		return -1;
	}
	have = f.s != NULL ? &f.s->last_seq : &srv->nevents;
	while (*have < last) {
		store_read(srv->store, log, *have + 1, 4096, 1 << 20, load_page, &f);
		if (f.err != STORE_OK || f.got == 0) {
			*cause = f.cause ? f.cause : xprintf("log %s: short read", log);
			return -1;
		}
	}
	if (f.s != NULL)
		f.s->durable_seq = f.s->last_seq;
	else
		srv->events_durable = srv->nevents;
	return 0;
}

/* Reports a problem: on stdout for --fsck (JSON Lines with --json), else as a warning. */
static void
load_problem(void *arg, const char *path, const char *what, int fixed)
{
	struct server *srv = arg;
	cJSON *o;
	char *text;

	if (!srv->cfg->fsck) {
		log_warnx("%s: %s", path, what);
		return;
	}
	if (srv->cfg->json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", path);
		cJSON_AddStringToObject(o, "problem", what);
		cJSON_AddBoolToObject(o, "fixed", fixed);
		text = json_print(o);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(o);
	} else
		printf("%s: %s\n", path, what);
}

/* What --fsck lists besides problems (files in quarantine). */
static void
load_note(void *arg, const char *path, const char *what)
{
	struct server *srv = arg;
	cJSON *o;
	char *text;

	if (!srv->cfg->fsck)
		return;
	if (srv->cfg->json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", path);
		cJSON_AddStringToObject(o, "note", what);
		text = json_print(o);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(o);
	} else
		printf("%s: %s\n", path, what);
}

static int
session_cmp(const void *a, const void *b)
{
	const struct session *x = *(struct session *const *)a, *y = *(struct session *const *)b;

	return (x->created_ms > y->created_ms) - (x->created_ms < y->created_ms);
}

/* The invariants that tie documents to logs; each violation is reported. */
static int
model_check(struct server *srv)
{
	char *path, *what;
	size_t i, j;
	int problems = 0;

	for (i = 0; i < srv->nsessions; i++) {
		struct session *s = srv->slist[i];
		path = xprintf("%s/sessions/%s.json", srv->cfg->store_path, s->id);
		for (j = 0; j < s->nchannels; j++) {
			struct channel *ch = s->channels[j];
			struct participant *p = session_participant(s, ch->participant);
			what = NULL;
			if (ch->start_seq > s->last_seq + 1)
				what = xprintf("channel %s starts after the end of the log", ch->id);
			else if (ch->delivered_seq > s->last_seq)
				what = xprintf("channel %s delivered beyond the log", ch->id);
			else if (ch->open && s->ended)
				what = xprintf("channel %s open in an ended session", ch->id);
			else if (ch->open && (p == NULL || p->channel != ch))
				what = xprintf("open channel %s is not its participant's", ch->id);
			else if (!ch->open && p != NULL && p->channel == ch && !s->ended)
				what = xprintf("participant %s speaks through closed channel %s",
				    p->name, ch->id);
			if (what != NULL) {
				load_problem(srv, path, what, 0);
				free(what);
				problems++;
			}
		}
		if (s->last_seq == 0) {
			load_problem(srv, path, "empty log", 0);
			problems++;
		}
		free(path);
	}
	return problems + xfer_check(srv, load_problem);
}

/*
 * Builds the index from the store. Returns the number of problems left (the
 * server refuses to start on any), or -1 with *cause.
 */
int
model_load(struct server *srv, enum store_err *err, char **cause)
{
	struct store_loader ld = { srv, load_doc, load_log, load_problem, load_note };
	int problems;

	if ((problems = store_load(srv->store, &ld, err, cause)) < 0)
		return -1;
	if (srv->nsessions > 1)
		qsort(srv->slist, srv->nsessions, sizeof *srv->slist, session_cmp);
	problems += model_check(srv);
	if (srv->cfg->fsck)
		problems += store_check_files(srv->store, &ld);
	return problems;
}

void
channel_free(struct channel *ch)
{
	free(ch->id);
	free(ch->participant);
	free(ch->device);
	free(ch->token_hash);
	free(ch->closed_reason);
	free(ch->closed_to);
	free(ch);
}

static void
session_free(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nchannels; i++)
		channel_free(s->channels[i]);
	for (i = 0; i < s->nparticipants; i++)
		free(s->participants[i].name);
	for (i = 0; i < s->last_seq; i++)
		free(s->log[i]);
	free(s->log);
	free(s->channels);
	free(s->participants);
	free(s->kind);
	free(s->id);
	free(s);
}

/* Forgets a session whose create could not be stored (it was never acknowledged). */
void
session_discard(struct server *srv, struct session *s)
{
	size_t i;

	for (i = 0; i < s->nchannels; i++) {
		channel_revoke(srv, s->channels[i]);
		strmap_del(srv->channels, s->channels[i]->id);
	}
	strmap_del(srv->sessions, s->id);
	for (i = 0; i < srv->nsessions; i++) {
		if (srv->slist[i] == s) {
			memmove(&srv->slist[i], &srv->slist[i + 1],
			    (srv->nsessions - i - 1) * sizeof *srv->slist);
			srv->nsessions--;
			break;
		}
	}
	session_free(s);
}

void
model_free(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->nsessions; i++)
		session_free(srv->slist[i]);
	free(srv->slist);
	for (i = 0; i < srv->nevents; i++)
		free(srv->events[i]);
	free(srv->events);
	xfer_free_all(srv);
	invite_free_all(srv);
	strmap_free(srv->sessions, NULL);
	strmap_free(srv->tokens, NULL);
	strmap_free(srv->channels, NULL);
}
