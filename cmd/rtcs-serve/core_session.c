/*
 * Sessions, participants, channels and their logs. A change of a session
 * (create, join, end, a hand-over, a collected token) is one document write
 * that carries its log entry: computed from the session as it is, written,
 * then applied and announced. Messages are appends to the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "core_int.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "payload.h"
#include "rand.h"
#include "xmalloc.h"

struct core_session *
session_alloc(struct core *c, const char *id, const char *kind)
{
	struct core_session *s = xcalloc(1, sizeof *s);

	s->core = c;
	s->id = id != NULL ? xstrdup(id) : rand_id('S');
	s->kind = xstrdup(kind);
	s->created_ms = core_now_ms();
	s->ended_ms = -1;
	lane_init(&s->lane);
	return s;
}

void
channel_free(struct core_channel *ch)
{
	free(ch->id);
	free(ch->participant);
	free(ch->device);
	free(ch->token_hash);
	free(ch->closed_reason);
	free(ch->closed_to);
	free(ch->opened_by);
	free(ch->token_box);
	free(ch->claim_hash);
	free(ch);
}

void
session_free(struct core_session *s)
{
	size_t i;

	core_media_free(s);
	for (i = 0; i < s->nchannels; i++)
		channel_free(s->channels[i]);
	for (i = 0; i < s->nparticipants; i++)
		free(s->participants[i].name);
	free(s->channels);
	free(s->participants);
	free(s->kind);
	free(s->id);
	free(s);
}

/* A channel of s (not indexed, not open). */
struct core_channel *
channel_new(struct core_session *s, const char *id, const char *participant,
    const char *device)
{
	struct core_channel *ch = xcalloc(1, sizeof *ch);

	ch->id = xstrdup(id);
	ch->session = s;
	ch->participant = xstrdup(participant);
	ch->device = xstrdup(device);
	ch->opened_ms = core_now_ms();
	ch->closed_ms = -1;
	ch->seen_ms = -1;
	s->channels = xreallocarray(s->channels, s->nchannels + 1, sizeof *s->channels);
	s->channels[s->nchannels++] = ch;
	return ch;
}

void
chan_new_fill(struct chan_new *n, const char *participant, const char *device)
{
	char *id = rand_id('C');

	memset(n, 0, sizeof *n);
	n->participant = participant;
	n->device = device;
	snprintf(n->id, sizeof n->id, "%s", id);
	free(id);
	n->token = rand_base32(16);
	n->token_hash = hash_secret(n->token);
}

void
chan_new_free(struct chan_new *n)
{
	if (n->token != NULL)
		explicit_bzero(n->token, strlen(n->token));
	free(n->token);
	free(n->token_hash);
	free(n->token_box);
}

/* ---- JSON ---- */

static void
add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v == NULL)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, v);
}

/* A channel as the API shows it, or (doc) as the store keeps it. */
static cJSON *
channel_json(const struct core_channel *ch, int doc)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", ch->id);
	cJSON_AddStringToObject(o, "participant", ch->participant);
	cJSON_AddStringToObject(o, "device", ch->device);
	cJSON_AddStringToObject(o, "state", ch->open ? "open" : "closed");
	core_time_json(o, "opened_at", ch->opened_ms);
	core_time_json(o, "closed_at", ch->closed_ms);
	add_str_or_null(o, "closed_reason", ch->closed_reason);
	if (ch->closed_to != NULL)
		cJSON_AddStringToObject(o, "closed_to", ch->closed_to);
	if (ch->opened_by != NULL)
		cJSON_AddStringToObject(o, "opened_by", ch->opened_by);
	cJSON_AddNumberToObject(o, "start_seq", (double)ch->start_seq);
	cJSON_AddNumberToObject(o, "delivered_seq", (double)ch->delivered_seq);
	if (doc && ch->token_hash != NULL)
		cJSON_AddStringToObject(o, "token_hash", ch->token_hash);
	if (doc && ch->token_box != NULL)
		cJSON_AddStringToObject(o, "token_box", ch->token_box);
	if (doc && ch->claim_hash != NULL)
		cJSON_AddStringToObject(o, "claim_hash", ch->claim_hash);
	/* The entry that told of its close: another server's streams end after it. */
	if (doc && !ch->open && ch->close_seq > 0)
		cJSON_AddNumberToObject(o, "close_seq", (double)ch->close_seq);
	return o;
}

static void
set_item(cJSON *o, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddItemToObject(o, key, v);
}

static cJSON *
participant_json(const char *name, const char *device, const char *channel)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, "name", name);
	cJSON_AddStringToObject(p, "device", device);
	cJSON_AddStringToObject(p, "channel", channel);
	return p;
}

/* The head of a session object, the same for the API and the store. */
static cJSON *
session_head(const struct core_session *s, int ended, int64_t ended_ms)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", s->id);
	cJSON_AddStringToObject(o, "kind", s->kind);
	cJSON_AddStringToObject(o, "state", ended ? "ended" : "live");
	core_time_json(o, "created_at", s->created_ms);
	core_time_json(o, "ended_at", ended_ms);
	return o;
}

cJSON *
core_session_json(const struct core_session *s, int with_channels)
{
	cJSON *o = session_head(s, s->ended, s->ended_ms), *a;
	size_t i;

	cJSON_AddNumberToObject(o, "last_seq", (double)s->durable);
	a = cJSON_AddArrayToObject(o, "participants");
	for (i = 0; i < s->nparticipants; i++)
		cJSON_AddItemToArray(a, participant_json(s->participants[i].name,
		    s->participants[i].channel->device, s->participants[i].channel->id));
	if (with_channels) {
		a = cJSON_AddArrayToObject(o, "channels");
		for (i = 0; i < s->nchannels; i++)
			cJSON_AddItemToArray(a, channel_json(s->channels[i], 0));
	}
	return o;
}

/* Whether the change closes ch. */
static int
change_closes(const struct session_change *chg, const struct core_channel *ch)
{
	return ch->open && (ch == chg->close || chg->end);
}

/* The open channel a change gives participant name, if it gives one. */
static const struct chan_new *
change_opens_for(const struct session_change *chg, const char *name)
{
	size_t i;

	for (i = 0; i < chg->nopen; i++)
		if (strcmp(chg->open[i].participant, name) == 0)
			return &chg->open[i];
	return NULL;
}

/* The store's document of s as it will be once chg is applied; s is not touched. */
static cJSON *
session_doc(const struct core_session *s, const struct session_change *chg)
{
	int ended = s->ended || chg->end;
	cJSON *o = session_head(s, ended, chg->end ? chg->at : s->ended_ms), *ps, *cs, *c;
	const struct chan_new *n;
	size_t i;

	ps = cJSON_AddArrayToObject(o, "participants");
	for (i = 0; i < s->nparticipants; i++) {
		const struct core_channel *ch = s->participants[i].channel;
		if ((n = change_opens_for(chg, s->participants[i].name)) != NULL)
			cJSON_AddItemToArray(ps, participant_json(n->participant, n->device, n->id));
		else
			cJSON_AddItemToArray(ps, participant_json(s->participants[i].name,
			    ch->device, ch->id));
	}
	for (i = 0; i < chg->nopen; i++)
		if (core_participant((struct core_session *)s, chg->open[i].participant) == NULL)
			cJSON_AddItemToArray(ps, participant_json(chg->open[i].participant,
			    chg->open[i].device, chg->open[i].id));
	cs = cJSON_AddArrayToObject(o, "channels");
	for (i = 0; i < s->nchannels; i++) {
		const struct core_channel *ch = s->channels[i];
		c = channel_json(ch, 1);
		if (change_closes(chg, ch)) {
			set_item(c, "state", cJSON_CreateString("closed"));
			cJSON_DeleteItemFromObjectCaseSensitive(c, "closed_at");
			core_time_json(c, "closed_at", chg->at);
			set_item(c, "closed_reason", cJSON_CreateString(chg->end ? "session_ended" :
			    chg->close_reason));
			if (!chg->end && chg->close_to != NULL)
				set_item(c, "closed_to", cJSON_CreateString(chg->close_to));
			if (chg->seq > 0)
				set_item(c, "close_seq", cJSON_CreateNumber((double)chg->seq));
			cJSON_DeleteItemFromObjectCaseSensitive(c, "token_hash");
			cJSON_DeleteItemFromObjectCaseSensitive(c, "token_box");
		}
		if (ch == chg->clear_box)
			cJSON_DeleteItemFromObjectCaseSensitive(c, "token_box");
		cJSON_AddItemToArray(cs, c);
	}
	for (i = 0; i < chg->nopen; i++) {
		n = &chg->open[i];
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "id", n->id);
		cJSON_AddStringToObject(c, "participant", n->participant);
		cJSON_AddStringToObject(c, "device", n->device);
		cJSON_AddStringToObject(c, "state", "open");
		core_time_json(c, "opened_at", chg->at);
		cJSON_AddNullToObject(c, "closed_at");
		cJSON_AddNullToObject(c, "closed_reason");
		if (n->opened_by != NULL)
			cJSON_AddStringToObject(c, "opened_by", n->opened_by);
		cJSON_AddNumberToObject(c, "start_seq", (double)n->start_seq);
		cJSON_AddNumberToObject(c, "delivered_seq", 0);
		cJSON_AddStringToObject(c, "token_hash", n->token_hash);
		if (n->token_box != NULL)
			cJSON_AddStringToObject(c, "token_box", n->token_box);
		if (n->claim_hash != NULL)
			cJSON_AddStringToObject(c, "claim_hash", n->claim_hash);
		cJSON_AddItemToArray(cs, c);
	}
	return o;
}

/* name speaks through ch from now on: its participant, made if it is new. */
static void
participant_speaks(struct core_session *s, const char *name, struct core_channel *ch)
{
	struct core_participant *p;

	if ((p = core_participant(s, name)) == NULL) {
		s->participants = xreallocarray(s->participants, s->nparticipants + 1,
		    sizeof *s->participants);
		p = &s->participants[s->nparticipants++];
		p->name = xstrdup(name);
	}
	p->channel = ch;
}

static void
channel_close_mem(struct core *c, struct core_channel *ch, const char *reason, const char *to,
    int64_t at, uint64_t close_seq)
{
	ch->open = 0;
	ch->closed_ms = at;
	free(ch->closed_reason);
	ch->closed_reason = xstrdup(reason);
	free(ch->closed_to);
	ch->closed_to = to != NULL ? xstrdup(to) : NULL;
	ch->close_seq = close_seq;
	if (ch->token_hash != NULL && strmap_get(c->tokens, ch->token_hash) == ch)
		strmap_del(c->tokens, ch->token_hash);
	free(ch->token_hash);
	ch->token_hash = NULL;
	free(ch->token_box);
	ch->token_box = NULL;
}

/* Memory follows the document once it is durable: what session_doc rendered. */
static void
session_apply(struct core_session *s, struct session_change *chg, uint64_t entry_seq)
{
	struct core *c = s->core;
	struct core_channel *ch, **closed;
	size_t i, nclosed = 0;

	closed = xcalloc(s->nchannels + 1, sizeof *closed);
	for (i = 0; i < s->nchannels; i++) {
		ch = s->channels[i];
		if (change_closes(chg, ch)) {
			channel_close_mem(c, ch, chg->end ? "session_ended" : chg->close_reason,
			    chg->end ? NULL : chg->close_to, chg->at, entry_seq);
			closed[nclosed++] = ch;
		}
		if (ch == chg->clear_box) {
			free(ch->token_box);
			ch->token_box = NULL;
		}
	}
	for (i = 0; i < chg->nopen; i++) {
		struct chan_new *n = &chg->open[i];
		ch = channel_new(s, n->id, n->participant, n->device);
		ch->open = 1;
		ch->opened_ms = chg->at;
		ch->start_seq = n->start_seq;
		ch->token_hash = xstrdup(n->token_hash);
		ch->opened_by = n->opened_by ? xstrdup(n->opened_by) : NULL;
		ch->token_box = n->token_box ? xstrdup(n->token_box) : NULL;
		ch->claim_hash = n->claim_hash ? xstrdup(n->claim_hash) : NULL;
		strmap_put(c->channels, ch->id, ch);
		strmap_put(c->tokens, ch->token_hash, ch);
		participant_speaks(s, n->participant, ch);
		core_media_opened(ch);
		/* A switch: the new device's media goes on where the old one's stopped. */
		if (chg->close != NULL && !chg->end &&
		    strcmp(chg->close->participant, ch->participant) == 0)
			core_media_moved(chg->close, ch);
	}
	if (chg->end) {
		s->ended = 1;
		s->ended_ms = chg->at;
		core_media_ended(s);
	}
	if (entry_seq > s->appended)
		s->appended = entry_seq;
	for (i = 0; i < nclosed; i++)
		core_announce_closed(c, closed[i]);
	free(closed);
}

/* ---- a change's turn ---- */

static cJSON *
entry_new(struct core_session *s, uint64_t seq, const char *type)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddNumberToObject(e, "seq", (double)seq);
	core_time_json(e, "ts", core_now_ms());
	cJSON_AddStringToObject(e, "type", type);
	(void)s;
	return e;
}

void
session_change_init(struct session_change *chg, struct core *c, struct core_session *s)
{
	memset(chg, 0, sizeof *chg);
	chg->core = c;
	chg->s = s;
	chg->entry_type = "event";
}

void
session_change_free(struct session_change *chg)
{
	size_t i;

	for (i = 0; i < chg->nopen; i++)
		chan_new_free(&chg->open[i]);
	free(chg->open);
	chg->open = NULL;
	chg->nopen = 0;
}

static void
change_finish(struct session_change *chg, struct core_status *st)
{
	struct core_session *s = chg->s;
	int create = chg->create;

	chg->done(chg, st);
	/* A new session that was not created has no lane to go on with. */
	if (!create || st->err == CE_OK)
		lane_done(&s->lane);
}

static void
change_written(void *arg, enum store_err err, uint64_t rev, const char *cause)
{
	struct session_change *chg = arg;
	struct core_session *s = chg->s;
	struct core *c = chg->core;
	struct core_status st;

	if (err != STORE_OK) {
		if (chg->create) {
			store_unwatch(s->watch);
			s->watch = NULL;
		}
		status_set(&st, err == STORE_CONFLICT ? CE_CONFLICT : core_store_err(c), cause);
		change_finish(chg, &st);
		return;
	}
	if (chg->create)
		core_index_session(c, s);
	/* Another server's later change, seen first, holds this one already (a shared store). */
	if (rev > s->rev) {
		s->rev = rev;
		session_apply(s, chg, chg->seq);
	}
	status_set(&st, CE_OK, NULL);
	change_finish(chg, &st);
}

static void
change_run(struct core_op *op)
{
	struct session_change *chg = (struct session_change *)op;
	struct core_session *s = chg->s;
	struct core *c = chg->core;
	struct core_status st;
	struct store_then then;
	cJSON *entry = NULL, *doc;
	char *text = NULL, *json;
	size_t i;

	status_set(&st, CE_OK, NULL);
	chg->at = core_now_ms();
	chg->seq = chg->entry_type != NULL ? s->appended + 1 : 0;
	if (s->ended && !chg->create)
		status_set(&st, CE_SESSION_ENDED, "the session has ended");
	if (chg->entry_type != NULL)
		entry = entry_new(s, chg->seq, chg->entry_type);
	if (st.err == CE_OK && chg->prepare != NULL && chg->prepare(chg, entry, &st) != 0 &&
	    st.err == CE_OK)
		st.err = CE_CONFLICT;
	if (st.err != CE_OK) {
		cJSON_Delete(entry);
		change_finish(chg, &st);
		return;
	}
	/* A new channel's stream starts after the end of the log, the entry included. */
	for (i = 0; i < chg->nopen; i++)
		if (chg->open[i].start_seq == 0)
			chg->open[i].start_seq = s->appended + 1;
	doc = session_doc(s, chg);
	json = json_print(doc);
	cJSON_Delete(doc);
	if (entry != NULL) {
		text = json_print(entry);
		cJSON_Delete(entry);
		then.log = s->id;
		then.seq = chg->seq;
		then.json = text;
		then.len = strlen(text);
	}
	if (chg->create)
		core_session_watch(c, s);
	store_put(c->store, STORE_SESSION, s->id, chg->create ? STORE_REV_CREATE : s->rev, json,
	    strlen(json), text != NULL ? &then : NULL, change_written, chg);
	free(json);
	free(text);
}

static void
change_flushed(void *arg, enum store_err err, const char *cause)
{
	struct session_change *chg = arg;
	struct core_status st;

	if (err != STORE_OK) {
		status_set(&st, core_store_err(chg->core), cause);
		change_finish(chg, &st);
		return;
	}
	change_run(&chg->op);
}

/* Its turn: what the document vouches for (appends in flight) is made durable first. */
static void
change_turn(struct core_op *op)
{
	struct session_change *chg = (struct session_change *)op;

	if (chg->s->appending > 0)
		store_flush(chg->core->store, change_flushed, chg);
	else
		change_run(op);
}

void
session_change_submit(struct session_change *chg)
{
	chg->op.run = change_turn;
	lane_submit(&chg->s->lane, &chg->op);
}

/* ---- create ---- */

struct create_call {
	struct session_change chg;
	const char	*kind;
	core_created_cb	 cb;
	void		*arg;
};

static int
create_prepare(struct session_change *chg, cJSON *entry, struct core_status *st)
{
	struct create_call *cc = (struct create_call *)chg;
	cJSON *plist;
	size_t i;

	(void)st;
	cJSON_AddStringToObject(entry, "event", "session.created");
	cJSON_AddStringToObject(entry, "kind", cc->kind);
	plist = cJSON_AddArrayToObject(entry, "participants");
	for (i = 0; i < chg->nopen; i++)
		cJSON_AddItemToArray(plist, participant_json(chg->open[i].participant,
		    chg->open[i].device, chg->open[i].id));
	return 0;
}

static void
create_done(struct session_change *chg, const struct core_status *st)
{
	struct create_call *cc = (struct create_call *)chg;
	struct core_session *s = chg->s;
	char *tokens[CORE_MAX_PARTICIPANTS];
	size_t i;

	for (i = 0; i < chg->nopen; i++)
		tokens[i] = chg->open[i].token;
	if (st->err == CE_OK) {
		core_event(chg->core, "session.created", s, NULL);
		log_info("session %s created (%s, %zu participants)", s->id, s->kind,
		    s->nparticipants);
		cc->cb(cc->arg, st, s, tokens);
	} else {
		cc->cb(cc->arg, st, NULL, tokens);
		session_free(s);
	}
	session_change_free(chg);
	free(cc);
}

void
core_session_create(struct core *c, const char *kind, size_t n, const char *const names[],
    const char *const devices[], core_created_cb cb, void *arg)
{
	struct create_call *cc = xcalloc(1, sizeof *cc);
	struct core_session *s = session_alloc(c, NULL, kind);
	size_t i;

	session_change_init(&cc->chg, c, s);
	cc->chg.create = 1;
	cc->chg.prepare = create_prepare;
	cc->chg.done = create_done;
	cc->kind = s->kind;
	cc->cb = cb;
	cc->arg = arg;
	cc->chg.open = xcalloc(n, sizeof *cc->chg.open);
	cc->chg.nopen = n;
	for (i = 0; i < n; i++)
		chan_new_fill(&cc->chg.open[i], names[i], devices[i]);
	session_change_submit(&cc->chg);
}

/* ---- end ---- */

struct end_call {
	struct session_change chg;
	core_done_cb	 cb;
	void		*arg;
};

static int
end_prepare(struct session_change *chg, cJSON *entry, struct core_status *st)
{
	(void)chg;
	(void)st;
	cJSON_AddStringToObject(entry, "event", "session.ended");
	return 0;
}

static void
end_done(struct session_change *chg, const struct core_status *st)
{
	struct end_call *ec = (struct end_call *)chg;
	struct core *c = chg->core;

	if (st->err == CE_OK) {
		if (c->session_ended != NULL)
			c->session_ended(c, chg->s);
		core_event(c, "session.ended", chg->s, NULL);
		log_info("session %s ended", chg->s->id);
	}
	ec->cb(ec->arg, st);
	free(ec);
}

void
core_session_end(struct core *c, struct core_session *s, core_done_cb cb, void *arg)
{
	struct end_call *ec = xcalloc(1, sizeof *ec);

	session_change_init(&ec->chg, c, s);
	ec->chg.end = 1;
	ec->chg.prepare = end_prepare;
	ec->chg.done = end_done;
	ec->cb = cb;
	ec->arg = arg;
	session_change_submit(&ec->chg);
}

/* ---- join ---- */

struct join_call {
	struct session_change chg;
	int		 relink;	/* the participant was there: a new device */
	core_joined_cb	 cb;
	void		*arg;
};

/*
 * A new participant, or one whose channel closed (unlinked) taking a new
 * device; a device holds at most one open channel in a session.
 */
static int
join_prepare(struct session_change *chg, cJSON *entry, struct core_status *st)
{
	struct chan_new *n = &chg->open[0];
	struct core_participant *p = core_participant(chg->s, n->participant);

	if (core_device_channel(chg->s, n->device) != NULL) {
		status_set(st, CE_CONFLICT, "that device has an open channel in the session already");
		return -1;
	}
	if (p != NULL && p->channel->open) {
		status_set(st, CE_CONFLICT, "that participant has an open channel already: "
		    "unlink its device first");
		return -1;
	}
	if (p == NULL && chg->s->nparticipants >= CORE_MAX_PARTICIPANTS) {
		status_set(st, CE_CONFLICT, "the session is full");
		return -1;
	}
	((struct join_call *)chg)->relink = p != NULL;
	cJSON_AddStringToObject(entry, "event", p != NULL ? "participant.linked" :
	    "participant.joined");
	cJSON_AddStringToObject(entry, "participant", n->participant);
	cJSON_AddStringToObject(entry, "device", n->device);
	if (p != NULL)
		cJSON_AddStringToObject(entry, "from", p->channel->device);
	return 0;
}

static void
join_done(struct session_change *chg, const struct core_status *st)
{
	struct join_call *jc = (struct join_call *)chg;
	struct core_channel *ch = NULL;
	cJSON *x;

	if (st->err == CE_OK) {
		ch = strmap_get(chg->core->channels, chg->open[0].id);
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "participant", ch->participant);
		cJSON_AddStringToObject(x, "device", ch->device);
		core_event(chg->core, jc->relink ? "participant.linked" : "participant.joined",
		    chg->s, x);
	}
	jc->cb(jc->arg, st, ch, chg->open[0].token);
	session_change_free(chg);
	free(jc);
}

void
core_participant_add(struct core *c, struct core_session *s, const char *name,
    const char *device, core_joined_cb cb, void *arg)
{
	struct join_call *jc = xcalloc(1, sizeof *jc);

	session_change_init(&jc->chg, c, s);
	jc->chg.open = xcalloc(1, sizeof *jc->chg.open);
	jc->chg.nopen = 1;
	chan_new_fill(&jc->chg.open[0], name, device);
	jc->chg.prepare = join_prepare;
	jc->chg.done = join_done;
	jc->cb = cb;
	jc->arg = arg;
	session_change_submit(&jc->chg);
}

/* ---- unlink: a device's open channel closes, its token revoked ---- */

struct unlink_call {
	struct session_change chg;
	char		*device;
	core_done_cb	 cb;
	void		*arg;
};

static int
unlink_prepare(struct session_change *chg, cJSON *entry, struct core_status *st)
{
	struct unlink_call *uc = (struct unlink_call *)chg;

	if ((chg->close = core_device_channel(chg->s, uc->device)) == NULL) {
		status_set(st, CE_NOT_FOUND, "no open channel of that device in the session");
		return -1;
	}
	cJSON_AddStringToObject(entry, "event", "device.unlinked");
	cJSON_AddStringToObject(entry, "participant", chg->close->participant);
	cJSON_AddStringToObject(entry, "device", chg->close->device);
	cJSON_AddStringToObject(entry, "channel", chg->close->id);
	return 0;
}

static void
unlink_done(struct session_change *chg, const struct core_status *st)
{
	struct unlink_call *uc = (struct unlink_call *)chg;
	cJSON *x;

	if (st->err == CE_OK) {
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "participant", chg->close->participant);
		cJSON_AddStringToObject(x, "device", chg->close->device);
		cJSON_AddStringToObject(x, "channel", chg->close->id);
		core_event(chg->core, "device.unlinked", chg->s, x);
		log_info("session %s: device %s (%s) unlinked", chg->s->id, chg->close->device,
		    chg->close->participant);
	}
	uc->cb(uc->arg, st);
	free(uc->device);
	free(uc);
}

void
core_device_unlink(struct core *c, struct core_session *s, const char *device,
    core_done_cb cb, void *arg)
{
	struct unlink_call *uc = xcalloc(1, sizeof *uc);

	session_change_init(&uc->chg, c, s);
	uc->device = xstrdup(device);
	uc->chg.close_reason = "unlinked";
	uc->chg.prepare = unlink_prepare;
	uc->chg.done = unlink_done;
	uc->cb = cb;
	uc->arg = arg;
	session_change_submit(&uc->chg);
}

cJSON *
core_devices_json(const struct core_session *s)
{
	cJSON *o = cJSON_CreateObject(), *ps, *p, *a, *ch;
	size_t i, j;

	cJSON_AddStringToObject(o, "session", s->id);
	ps = cJSON_AddArrayToObject(o, "participants");
	for (i = 0; i < s->nparticipants; i++) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", s->participants[i].name);
		if (s->participants[i].channel->open)
			cJSON_AddStringToObject(p, "device", s->participants[i].channel->device);
		else
			cJSON_AddNullToObject(p, "device");
		a = cJSON_AddArrayToObject(p, "channels");
		for (j = 0; j < s->nchannels; j++)
			if (strcmp(s->channels[j]->participant, s->participants[i].name) == 0) {
				ch = channel_json(s->channels[j], 0);
				/* Memory only: not in the document, so not in show. */
				core_time_json(ch, "last_seen_at", s->channels[j]->seen_ms);
				cJSON_AddItemToArray(a, ch);
			}
		cJSON_AddItemToArray(ps, p);
	}
	return o;
}

/* ---- the first use of a token a transfer or an invite left to collect ---- */

static void
used_done(struct session_change *chg, const struct core_status *st)
{
	if (st->err != CE_OK)
		log_warnx("session %s: the collected token of channel %s stays collectable: %s",
		    chg->s->id, chg->clear_box->id, st->msg ? st->msg : "refused");
	chg->clear_box->clearing = 0;
	free(chg);
}

static int
used_prepare(struct session_change *chg, cJSON *entry, struct core_status *st)
{
	(void)entry;
	if (!chg->clear_box->open || chg->clear_box->token_box == NULL) {
		status_set(st, CE_GONE, "nothing to collect any more");
		return -1;
	}
	return 0;
}

static void
used_turn(evutil_socket_t fd, short what, void *arg)
{
	struct session_change *chg = arg;

	(void)fd;
	(void)what;
	session_change_submit(chg);
}

/* After the request that used it has its answer: not on its way. */
void
core_channel_used(struct core *c, struct core_channel *ch)
{
	static const struct timeval now = { 0, 0 };
	struct session_change *chg;

	ch->seen_ms = core_now_ms();
	if (ch->token_box == NULL || ch->clearing || !ch->open)
		return;
	chg = xcalloc(1, sizeof *chg);
	session_change_init(chg, c, ch->session);
	ch->clearing = 1;
	chg->clear_box = ch;
	chg->entry_type = NULL;	/* nothing to tell the others */
	chg->prepare = used_prepare;
	chg->done = used_done;
	if (c->base == NULL || event_base_once(c->base, -1, EV_TIMEOUT, used_turn, chg, &now) != 0)
		session_change_submit(chg);
}

/* ---- messages ---- */

struct msg_call {
	struct core_session *s;
	struct core_channel *ch;
	cJSON		*entry;
	uint64_t	 seq;
	int		 tries;
	core_seq_cb	 cb;
	void		*arg;
};

static void	msg_write(struct msg_call *);

static void
msg_finish(struct msg_call *mc, const struct core_status *st, uint64_t seq)
{
	mc->cb(mc->arg, st, seq);
	cJSON_Delete(mc->entry);
	free(mc);
}

/* After store_barrier: what another server changed meanwhile is known (else a 409, to retry). */
static void
msg_retry(void *arg, enum store_err err, const char *cause)
{
	struct msg_call *mc = arg;
	struct core_status st;

	if (err != STORE_OK) {
		status_set(&st, CE_CONFLICT, "another server's write came first, and this one "
		    "has not heard it yet: try again");
		log_debug("a message not written again: %s", cause);
		msg_finish(mc, &st, 0);
		return;
	}
	if (mc->s->ended || !mc->ch->open) {
		status_set(&st, mc->s->ended ? CE_SESSION_ENDED : CE_REVOKED, mc->s->ended ?
		    "the session has ended" : "unknown or revoked token: the device's channel "
		    "was closed meanwhile, by another server");
		msg_finish(mc, &st, 0);
		return;
	}
	msg_write(mc);
}

static void
msg_appended(void *arg, enum store_err err, uint64_t seq, const char *cause)
{
	struct msg_call *mc = arg;
	struct core_session *s = mc->s;
	struct core_status st;

	s->appending--;
	if (err != STORE_OK) {
		/* Again: msg_retry checks it against what memory follows by then. */
		if (core_append_failed(s->core, err, mc->seq, &s->appended, s->appending, s->durable,
		    &mc->tries, msg_retry, mc))
			return;
		status_set(&st, err == STORE_CONFLICT ? CE_CONFLICT : core_store_err(s->core), cause);
	} else
		status_set(&st, CE_OK, NULL);
	msg_finish(mc, &st, err == STORE_OK ? seq : 0);
}

/* Takes the next seq and writes the entry, only if the session is still at the revision read. */
static void
msg_write(struct msg_call *mc)
{
	struct core_session *s = mc->s;
	struct store_guard guard;
	char *text;

	mc->seq = ++s->appended;
	/* In place: "seq" stays the entry's first field. */
	cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(mc->entry, "seq"), (double)mc->seq);
	text = json_print(mc->entry);
	s->appending++;
	/* Another server may have closed the channel since (a shared store): written only if not. */
	guard = (struct store_guard){ STORE_SESSION, s->id, s->rev };
	store_append_if(s->core->store, s->id, mc->seq - 1, &guard, text, strlen(text),
	    msg_appended, mc);
	free(text);
}

void
core_message(struct core *c, struct core_channel *ch, cJSON *fields, core_seq_cb cb, void *arg)
{
	struct core_session *s = ch->session;
	struct msg_call *mc;
	struct core_status st;
	cJSON *item;

	(void)c;
	if (s->ended || !ch->open) {
		cJSON_Delete(fields);
		status_set(&st, CE_SESSION_ENDED, "the session has ended");
		cb(arg, &st, 0);
		return;
	}
	mc = xcalloc(1, sizeof *mc);
	mc->s = s;
	mc->ch = ch;
	mc->cb = cb;
	mc->arg = arg;
	mc->entry = entry_new(s, s->appended + 1, "message");
	cJSON_AddStringToObject(mc->entry, "from", ch->participant);
	cJSON_AddStringToObject(mc->entry, "device", ch->device);
	while ((item = fields->child) != NULL) {
		cJSON_DetachItemViaPointer(fields, item);
		cJSON_AddItemToObject(mc->entry, item->string, item);
	}
	cJSON_Delete(fields);
	msg_write(mc);
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

static int64_t
time_field(const cJSON *o, const char *key)
{
	const char *v = json_str(o, key);

	return v != NULL ? clock_parse_ms(v) : -1;
}

static char *
opt_str(const cJSON *o, const char *key)
{
	const char *v = json_str(o, key);

	return v != NULL ? xstrdup(v) : NULL;
}

static int
load_channel(struct core *c, struct core_session *s, const cJSON *o, char **cause)
{
	const char *id = json_str(o, "id"), *p = json_str(o, "participant");
	const char *d = json_str(o, "device"), *state = json_str(o, "state");
	const char *th = json_str(o, "token_hash");
	const cJSON *ss = cJSON_GetObjectItemCaseSensitive(o, "start_seq");
	const cJSON *ds = cJSON_GetObjectItemCaseSensitive(o, "delivered_seq");
	struct core_channel *ch;

	if (id == NULL || !payload_id_valid(id, 'C') || p == NULL || !name_valid(p) ||
	    d == NULL || !name_valid(d) || state == NULL || !seq_valid(ss, 1) ||
	    !seq_valid(ds, 0))
		return load_fail(cause, s->id, "malformed channel");
	if (strmap_get(c->channels, id) != NULL)
		return load_fail(cause, s->id, "duplicate channel id");
	ch = channel_new(s, id, p, d);
	ch->open = strcmp(state, "open") == 0;
	ch->opened_ms = time_field(o, "opened_at");
	ch->closed_ms = time_field(o, "closed_at");
	ch->start_seq = (uint64_t)ss->valuedouble;
	ch->delivered_seq = (uint64_t)ds->valuedouble;
	ch->closed_reason = opt_str(o, "closed_reason");
	ch->closed_to = opt_str(o, "closed_to");
	ch->opened_by = opt_str(o, "opened_by");
	ch->claim_hash = opt_str(o, "claim_hash");
	if (seq_valid(cJSON_GetObjectItemCaseSensitive(o, "close_seq"), 1))
		ch->close_seq = (uint64_t)cJSON_GetObjectItemCaseSensitive(o, "close_seq")->valuedouble;
	strmap_put(c->channels, ch->id, ch);
	if (ch->open) {
		if (th == NULL || strlen(th) != HASH_HEX_LEN)
			return load_fail(cause, s->id, "open channel without a token hash");
		ch->token_hash = xstrdup(th);
		ch->token_box = opt_str(o, "token_box");
		strmap_put(c->tokens, th, ch);
	}
	return 0;
}

int
session_from_doc(struct core *c, const cJSON *doc, uint64_t rev, char **cause)
{
	const char *id = json_str(doc, "id"), *kind = json_str(doc, "kind");
	const char *state = json_str(doc, "state");
	const cJSON *chans = cJSON_GetObjectItemCaseSensitive(doc, "channels");
	const cJSON *parts = cJSON_GetObjectItemCaseSensitive(doc, "participants"), *o;
	struct core_session *s;

	if (kind == NULL || state == NULL || !cJSON_IsArray(chans) || !cJSON_IsArray(parts))
		return load_fail(cause, id, "malformed session document");
	s = session_alloc(c, id, kind);
	s->rev = rev;
	s->ended = strcmp(state, "ended") == 0;
	s->created_ms = time_field(doc, "created_at");
	s->ended_ms = time_field(doc, "ended_at");
	core_index_session(c, s);
	cJSON_ArrayForEach(o, chans) {
		if (load_channel(c, s, o, cause) != 0)
			return -1;
	}
	cJSON_ArrayForEach(o, parts) {
		const char *name = json_str(o, "name"), *cid = json_str(o, "channel");
		struct core_channel *ch = cid ? strmap_get(c->channels, cid) : NULL;
		if (name == NULL || ch == NULL || ch->session != s ||
		    strcmp(ch->participant, name) != 0 || core_participant(s, name) != NULL)
			return load_fail(cause, id, "participant does not match its channel");
		participant_speaks(s, name, ch);
	}
	return 0;
}

/* A channel closed by another server's change: memory as the document says. */
static void
follow_close(struct core *c, struct core_channel *ch, const cJSON *o)
{
	struct core_session *s = ch->session;

	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(o, "close_seq");

	/*
	 * The entry that tells of the close, written with the document (its seq
	 * in it); a document without one: the next after the last durable entry.
	 */
	channel_close_mem(c, ch, json_str(o, "closed_reason") != NULL ?
	    json_str(o, "closed_reason") : "closed", json_str(o, "closed_to"),
	    time_field(o, "closed_at"), seq_valid(cs, 1) ? (uint64_t)cs->valuedouble :
	    s->durable + 1);
}

/*
 * Another server's change of s (a shared store): channels it opened are
 * added, those it closed closed, participants point where it says; then the
 * closed channels' streams are told. Known revisions are ignored.
 */
static int
session_follow(struct core *c, struct core_session *s, const cJSON *doc, uint64_t rev,
    char **cause)
{
	const cJSON *chans = cJSON_GetObjectItemCaseSensitive(doc, "channels");
	const cJSON *parts = cJSON_GetObjectItemCaseSensitive(doc, "participants"), *o;
	const char *state = json_str(doc, "state");
	struct core_channel *ch, **closed;
	size_t nclosed = 0, i;

	if (rev <= s->rev)
		return 0;
	if (state == NULL || !cJSON_IsArray(chans) || !cJSON_IsArray(parts))
		return load_fail(cause, s->id, "malformed session document");
	closed = xcalloc((size_t)cJSON_GetArraySize(chans) + 1, sizeof *closed);
	cJSON_ArrayForEach(o, chans) {
		const char *id = json_str(o, "id"), *cs = json_str(o, "state");

		if (id == NULL || cs == NULL)
			continue;
		if ((ch = strmap_get(c->channels, id)) == NULL) {
			if (load_channel(c, s, o, cause) != 0) {
				free(closed);
				return -1;
			}
			if ((ch = strmap_get(c->channels, id)) != NULL && ch->open)
				core_media_opened(ch);
			continue;
		}
		if (ch->session != s)
			continue;
		if (ch->open && strcmp(cs, "open") != 0) {
			follow_close(c, ch, o);
			closed[nclosed++] = ch;
		} else if (ch->open && ch->token_box != NULL && json_str(o, "token_box") == NULL) {
			free(ch->token_box);
			ch->token_box = NULL;
		}
	}
	cJSON_ArrayForEach(o, parts) {
		const char *name = json_str(o, "name"), *cid = json_str(o, "channel");

		if (name == NULL || cid == NULL || (ch = strmap_get(c->channels, cid)) == NULL ||
		    ch->session != s)
			continue;
		participant_speaks(s, name, ch);
	}
	if (strcmp(state, "ended") == 0 && !s->ended) {
		s->ended = 1;
		s->ended_ms = time_field(doc, "ended_at");
		core_media_ended(s);
	}
	s->rev = rev;
	for (i = 0; i < nclosed; i++)
		core_announce_closed(c, closed[i]);
	free(closed);
	return 0;
}

int
session_follow_doc(struct core *c, const cJSON *doc, uint64_t rev, char **cause)
{
	const char *id = json_str(doc, "id");
	struct core_session *s;

	if (id == NULL)
		return load_fail(cause, "?", "a session document without an id");
	if ((s = core_session_find(c, id)) != NULL)
		return session_follow(c, s, doc, rev, cause);
	if (session_from_doc(c, doc, rev, cause) != 0)
		return -1;
	if ((s = core_session_find(c, id)) != NULL)
		core_session_watch(c, s);
	return 0;
}

/*
 * A session removed from the store (retention, here or by another server):
 * gone from memory too, its channels and its log watch with it. -1 if a
 * change of it is in flight.
 */
int
session_forget(struct core *c, struct core_session *s)
{
	struct core_channel *ch;
	size_t i;

	if (s->lane.busy || !TAILQ_EMPTY(&s->lane.q))
		return -1;
	for (i = 0; i < c->nsessions; i++)
		if (c->slist[i] == s) {
			memmove(&c->slist[i], &c->slist[i + 1],
			    (c->nsessions - i - 1) * sizeof *c->slist);
			c->nsessions--;
			break;
		}
	strmap_del(c->sessions, s->id);
	for (i = 0; i < s->nchannels; i++) {
		ch = s->channels[i];
		if (strmap_get(c->channels, ch->id) == ch)
			strmap_del(c->channels, ch->id);
		if (ch->token_hash != NULL && strmap_get(c->tokens, ch->token_hash) == ch)
			strmap_del(c->tokens, ch->token_hash);
	}
	store_unwatch(s->watch);
	s->watch = NULL;
	if (c->lsn != NULL && c->lsn->forget != NULL)
		c->lsn->forget(c->lsn->arg, s);
	session_free(s);
	return 0;
}
