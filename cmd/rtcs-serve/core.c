/*
 * The core itself: its indexes and lookups, the lanes that serialize each
 * object's writes, the server's event log, and what listeners hear.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "clock.h"
#include "core_int.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "xmalloc.h"

void
core_listen(struct core *c, const struct core_listener *lsn)
{
	c->lsn = lsn;
}

int64_t
core_now_ms(void)
{
	/* Wall-clock time read once, then run on CLOCK_MONOTONIC (clock.h). */
	return clock_now_ms();
}

void
core_time_json(cJSON *o, const char *key, int64_t ms)
{
	char buf[32];
	time_t t;
	struct tm tm;
	size_t n;

	if (ms < 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	t = (time_t)(ms / 1000);
	gmtime_r(&t, &tm);
	n = strftime(buf, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof buf - n, ".%03uZ", (unsigned)(ms % 1000));
	cJSON_AddStringToObject(o, key, buf);
}

/* ---- lanes ---- */

void
lane_init(struct core_lane *l)
{
	l->busy = 0;
	TAILQ_INIT(&l->q);
}

void
lane_submit(struct core_lane *l, struct core_op *op)
{
	if (l->busy) {
		TAILQ_INSERT_TAIL(&l->q, op, entry);
		return;
	}
	l->busy = 1;
	op->run(op);
}

void
lane_done(struct core_lane *l)
{
	struct core_op *op;

	if ((op = TAILQ_FIRST(&l->q)) == NULL) {
		l->busy = 0;
		return;
	}
	TAILQ_REMOVE(&l->q, op, entry);
	op->run(op);
}

void
status_set(struct core_status *st, enum core_err err, const char *msg)
{
	st->err = err;
	st->te = TE_OK;
	st->msg = msg;
}

enum core_err
core_store_err(struct core *c)
{
	/* A shared store out of reach: this server cannot say; another node may. */
	if (!store_available(c->store))
		return CE_UNAVAILABLE;
	if (!store_broken(c->store))
		return CE_STORE;
	if (c->broken != NULL)
		c->broken(c->broken_arg);
	return CE_UNAVAILABLE;
}

/* ---- lookups ---- */

void
core_index_session(struct core *c, struct core_session *s)
{
	if (c->nsessions == c->scap) {
		c->scap = c->scap ? c->scap * 2 : 64;
		c->slist = xreallocarray(c->slist, c->scap, sizeof *c->slist);
	}
	c->slist[c->nsessions++] = s;
	strmap_put(c->sessions, s->id, s);
}

struct core_session *
core_session_find(struct core *c, const char *id)
{
	return id != NULL ? strmap_get(c->sessions, id) : NULL;
}

struct core_channel *
core_channel_by_token(struct core *c, const char *token)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex(token, strlen(token), hex);
	return strmap_get(c->tokens, hex);
}

struct core_participant *
core_participant(struct core_session *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nparticipants; i++)
		if (strcmp(s->participants[i].name, name) == 0)
			return &s->participants[i];
	return NULL;
}

struct core_channel *
core_device_channel(struct core_session *s, const char *device)
{
	size_t i;

	for (i = 0; i < s->nchannels; i++)
		if (s->channels[i]->open && strcmp(s->channels[i]->device, device) == 0)
			return s->channels[i];
	return NULL;
}

void
core_channel_delivered(struct core_channel *ch, uint64_t seq)
{
	if (seq > ch->delivered_seq)
		ch->delivered_seq = seq;
}

uint64_t
core_durable(struct core *c, struct core_session *s)
{
	return s != NULL ? s->durable : c->events_durable;
}

void
core_read(struct core *c, struct core_session *s, uint64_t from, size_t max_records,
    size_t max_bytes, store_page_cb cb, void *arg)
{
	store_read(c->store, s != NULL ? s->id : STORE_EVENTS, from, max_records, max_bytes,
	    cb, arg);
}

/* ---- what listeners hear ---- */

static void
session_durable(void *arg, const struct store_record *rec)
{
	struct core_session *s = arg;
	struct core *c = s->core;

	if (rec->seq > s->durable)
		s->durable = rec->seq;
	if (rec->seq > s->appended)
		s->appended = rec->seq;
	if (c->lsn != NULL && c->lsn->entry != NULL)
		c->lsn->entry(c->lsn->arg, s, rec);
}

void
core_session_watch(struct core *c, struct core_session *s)
{
	if (s->watch == NULL)
		s->watch = store_watch_log(c->store, s->id, s->durable + 1, session_durable, s);
}

void
core_tell(struct core *c, struct core_channel *ch, const cJSON *ev)
{
	char *text;

	if (c->lsn == NULL || c->lsn->targeted == NULL || ch == NULL || !ch->open)
		return;
	text = json_print(ev);
	c->lsn->targeted(c->lsn->arg, ch, text, strlen(text));
	free(text);
}

cJSON *
core_targeted_new(const char *event, const char *transfer)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", "event");
	cJSON_AddStringToObject(o, "event", event);
	if (transfer != NULL)
		cJSON_AddStringToObject(o, "transfer", transfer);
	core_time_json(o, "ts", core_now_ms());
	return o;
}

void
core_announce_closed(struct core *c, struct core_channel *ch)
{
	if (c->lsn != NULL && c->lsn->closed != NULL)
		c->lsn->closed(c->lsn->arg, ch);
}

/* ---- the server's event log ---- */

static void
event_durable(void *arg, const struct store_record *rec)
{
	struct core *c = arg;

	if (rec->seq > c->events_durable)
		c->events_durable = rec->seq;
	if (rec->seq > c->events_appended)
		c->events_appended = rec->seq;
	if (c->lsn != NULL && c->lsn->event != NULL)
		c->lsn->event(c->lsn->arg, rec);
}

void
core_events_watch(struct core *c)
{
	if (c->events_watch == NULL)
		c->events_watch = store_watch_log(c->store, STORE_EVENTS, c->events_durable + 1,
		    event_durable, c);
}

#define CORE_APPEND_TRIES	10	/* a shared store: writes of an entry that lost its seq */

int
core_append_failed(struct core *c, enum store_err err, uint64_t seq, uint64_t *appended,
    int appending, uint64_t durable, int *tries, store_done_cb again, void *arg)
{
	/* Not written: the seq was the last one taken, or the store is broken. */
	if (*appended == seq)
		(*appended)--;
	if (!store_shared(c->store))
		return 0;
	/* Failed out of order, they may leave a seq nobody wrote: the next is after the durable. */
	if (appending == 0)
		*appended = durable;
	/* Another server's entry or change came first: again once it is heard, a few times. */
	if (err != STORE_CONFLICT || c->base == NULL || ++*tries >= CORE_APPEND_TRIES)
		return 0;
	store_barrier(c->store, again, arg);
	return 1;
}

struct event_append {
	struct core	*core;
	uint64_t	 seq;
	cJSON		*e;		/* kept to be written again (a shared store) */
	int		 tries;
};


static void	event_write(struct event_append *);

/* After store_barrier: written again once all is heard; else lost as any failed event. */
static void
event_retry(void *arg, enum store_err err, const char *cause)
{
	struct event_append *ea = arg;

	if (err == STORE_OK) {
		event_write(ea);
		return;
	}
	log_warnx("server event %llu: not written again: %s", (unsigned long long)ea->seq, cause);
	cJSON_Delete(ea->e);
	free(ea);
}

static void
event_appended(void *arg, enum store_err err, uint64_t seq, const char *cause)
{
	struct event_append *ea = arg;
	struct core *c = ea->core;

	(void)seq;
	c->events_appending--;
	if (err != STORE_OK) {
		if (core_append_failed(c, err, ea->seq, &c->events_appended, c->events_appending,
		    c->events_durable, &ea->tries, event_retry, ea))
			return;
		/* The change it tells of stands; only its event is lost. */
		log_warnx("server event %llu: %s", (unsigned long long)ea->seq, cause);
		core_store_err(c);
	}
	cJSON_Delete(ea->e);
	free(ea);
}

/* The next seq, and the entry written with it. */
static void
event_write(struct event_append *ea)
{
	struct core *c = ea->core;
	char *text;

	ea->seq = ++c->events_appended;
	cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(ea->e, "seq"), (double)ea->seq);
	text = json_print(ea->e);
	c->events_appending++;
	store_append(c->store, STORE_EVENTS, ea->seq - 1, text, strlen(text), event_appended, ea);
	free(text);
}

void
core_event(struct core *c, const char *event, struct core_session *s, cJSON *extra)
{
	cJSON *e = cJSON_CreateObject(), *item;
	struct event_append *ea;

	core_events_watch(c);
	ea = xcalloc(1, sizeof *ea);
	ea->core = c;
	ea->e = e;
	cJSON_AddNumberToObject(e, "seq", 0);
	core_time_json(e, "ts", core_now_ms());
	cJSON_AddStringToObject(e, "event", event);
	if (s != NULL)
		cJSON_AddStringToObject(e, "session", s->id);
	while (extra != NULL && (item = extra->child) != NULL) {
		cJSON_DetachItemViaPointer(extra, item);
		cJSON_AddItemToObject(e, item->string, item);
	}
	cJSON_Delete(extra);
	event_write(ea);
}
