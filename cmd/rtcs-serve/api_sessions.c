/* Endpoints: version, health, sessions, participants and messages. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "decode.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "xmalloc.h"

/*
 * ?nonce=HEX (32 bytes): the server proves it holds its key by signing it
 * ("proof", hex), so that a client does not take a repeated public key for
 * the server. 0, or -1 after a 400.
 */
static int
version_proof(struct req *rq, cJSON *o)
{
	unsigned char nonce[PAYLOAD_NONCE_BYTES], sig[PAYLOAD_SIG_BYTES];
	char hex[2 * PAYLOAD_SIG_BYTES + 1];
	const char *q = http_query(rq, "nonce"), *end;
	size_t len;

	if (q == NULL || !rq->core->have_sign)
		return 0;
	if (strlen(q) != 2 * PAYLOAD_NONCE_BYTES || sodium_hex2bin(nonce, sizeof nonce, q,
	    strlen(q), NULL, &len, &end) != 0 || len != sizeof nonce || *end != '\0') {
		http_error(rq, 400, "bad_field", "nonce: %d hex digits", 2 * PAYLOAD_NONCE_BYTES);
		return -1;
	}
	payload_prove(nonce, rq->core->sign_sk, sig);
	sodium_bin2hex(hex, sizeof hex, sig, sizeof sig);
	cJSON_AddStringToObject(o, "proof", hex);
	return 0;
}

void
api_version(struct req *rq)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", "rtcs");
	cJSON_AddStringToObject(o, "version", RTCS_VERSION);
	cJSON_AddNumberToObject(o, "api", 1);
	cJSON_AddNumberToObject(o, "store_format", STORE_FORMAT);
	/* Who signs this server's codes: what clients keep on first use (servers.known). */
	cJSON_AddStringToObject(o, "server", rq->core->name);
	if (rq->core->have_sign) {
		char hex[PAYLOAD_PK_HEX + 1];

		payload_pk_hex(rq->core->sign_pk, hex);
		cJSON_AddStringToObject(o, "key", hex);
	}
	if (version_proof(rq, o) != 0) {
		cJSON_Delete(o);
		return;
	}
	http_reply(rq, 200, o);
}

void
api_health(struct req *rq)
{
	struct server *srv = rq->srv;
	struct core *c = rq->core;
	cJSON *o = cJSON_CreateObject(), *st;
	struct store_stats ss;
	struct decode_stats ds;
	size_t i, live = 0;

	for (i = 0; i < c->nsessions; i++)
		live += !c->slist[i]->ended;
	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddNumberToObject(o, "uptime_s", (double)((now_ms() - srv->started_ms) / 1000));
	cJSON_AddNumberToObject(o, "sessions", (double)c->nsessions);
	cJSON_AddNumberToObject(o, "live_sessions", (double)live);
	cJSON_AddNumberToObject(o, "connections", (double)conn_count(srv));
	cJSON_AddNumberToObject(o, "streams", (double)srv->nstreams);
	cJSON_AddNumberToObject(o, "transfers_open", (double)c->nopen);
	cJSON_AddNumberToObject(o, "events_seq", (double)c->events_appended);
	cJSON_AddStringToObject(o, "sync", srv->cfg->sync == STORE_SYNC_ALWAYS ? "always" :
	    srv->cfg->sync == STORE_SYNC_BATCH ? "batch" : "none");
	store_stats(srv->store, &ss);
	st = cJSON_AddObjectToObject(o, "store");
	cJSON_AddStringToObject(st, "backend", ss.backend);
	cJSON_AddBoolToObject(st, "available", store_available(srv->store));
	cJSON_AddNumberToObject(st, "appends", (double)ss.appends);
	cJSON_AddNumberToObject(st, "puts", (double)ss.puts);
	cJSON_AddNumberToObject(st, "syncs", (double)ss.syncs);
	cJSON_AddNumberToObject(st, "checkpoints", (double)ss.checkpoints);
	cJSON_AddNumberToObject(st, "checkpoint_us", (double)ss.checkpoint_us);
	cJSON_AddNumberToObject(st, "checkpoint_logs", (double)ss.checkpoint_logs);
	/* The image decoders (decode.c): what runs and what waits. */
	decode_stats(srv->decode, &ds);
	st = cJSON_AddObjectToObject(o, "decode");
	cJSON_AddNumberToObject(st, "workers", ds.workers);
	cJSON_AddNumberToObject(st, "busy", ds.busy);
	cJSON_AddNumberToObject(st, "queue", ds.queue);
	cJSON_AddNumberToObject(st, "queued", ds.queued);
	cJSON_AddNumberToObject(st, "cpu_s", ds.cpu_s);
	http_reply(rq, 200, o);
}

/* Checks {name, device} of a participant; 0 or an error reply sent. */
static int
participant_fields(struct req *rq, const cJSON *o, const char **name, const char **device)
{
	if (!cJSON_IsObject(o) || (*name = json_str(o, "name")) == NULL ||
	    (*device = json_str(o, "device")) == NULL) {
		http_error(rq, 400, "bad_field", "a participant is {\"name\":..., \"device\":...}");
		return -1;
	}
	if (!name_valid(*name) || !name_valid(*device)) {
		http_error(rq, 400, "bad_field",
		    "names are [a-z0-9][a-z0-9._-]{0,63}: \"%s\", \"%s\"", *name, *device);
		return -1;
	}
	return 0;
}

/* Validates the whole create request before anything is made. */
static int
create_check(struct req *rq, const char **kind, const cJSON **parts)
{
	const cJSON *o, *o2;
	const char *k, *n, *d, *n2, *d2;
	int count;

	if (body_str(rq, "kind", &k) != 0)
		return -1;
	if (k != NULL && !name_kind_valid(k)) {
		http_error(rq, 400, "bad_field", "kind must be one lower-case word");
		return -1;
	}
	*kind = k != NULL ? k : "chat";
	*parts = cJSON_GetObjectItemCaseSensitive(rq->body, "participants");
	count = cJSON_IsArray(*parts) ? cJSON_GetArraySize(*parts) : -1;
	if (count < 1 || count > CORE_MAX_PARTICIPANTS) {
		http_error(rq, 400, "bad_field", "participants must be an array of 1 to %d",
		    CORE_MAX_PARTICIPANTS);
		return -1;
	}
	cJSON_ArrayForEach(o, *parts) {
		if (participant_fields(rq, o, &n, &d) != 0)
			return -1;
		for (o2 = (*parts)->child; o2 != o; o2 = o2->next) {
			n2 = json_str(o2, "name");
			d2 = json_str(o2, "device");
			if (strcmp(n, n2) == 0 || strcmp(d, d2) == 0) {
				http_error(rq, 400, "bad_field",
				    "participant names and devices must be unique");
				return -1;
			}
		}
	}
	return 0;
}

static void
created(void *arg, const struct core_status *st, struct core_session *s, char **tokens)
{
	struct req *rq = arg;
	cJSON *reply, *tk;
	size_t i;

	if (st->err != CE_OK) {
		http_status(rq, st, "cannot create the session");
		return;
	}
	reply = cJSON_CreateObject();
	cJSON_AddItemToObject(reply, "session", core_session_json(s, 1));
	tk = cJSON_AddObjectToObject(reply, "tokens");
	for (i = 0; i < s->nparticipants; i++)
		cJSON_AddStringToObject(tk, s->participants[i].channel->device, tokens[i]);
	http_reply(rq, 201, reply);
}

void
api_session_create(struct req *rq)
{
	const cJSON *parts, *o;
	const char *kind, *names[CORE_MAX_PARTICIPANTS], *devices[CORE_MAX_PARTICIPANTS];
	size_t n = 0;

	if (create_check(rq, &kind, &parts) != 0)
		return;
	cJSON_ArrayForEach(o, parts) {
		names[n] = json_str(o, "name");
		devices[n++] = json_str(o, "device");
	}
	core_session_create(rq->core, kind, n, names, devices, created, rq);
}

void
api_session_list(struct req *rq)
{
	struct core *c = rq->core;
	const char *state = http_query(rq, "state");
	cJSON *o, *a;
	int want = 2;	/* 0 live, 1 ended, 2 all */
	size_t i;

	if (state != NULL) {
		if (strcmp(state, "live") == 0)
			want = 0;
		else if (strcmp(state, "ended") == 0)
			want = 1;
		else if (strcmp(state, "all") != 0) {
			http_error(rq, 400, "bad_field", "state is live, ended or all");
			return;
		}
	}
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "sessions");
	for (i = 0; i < c->nsessions; i++)
		if (want == 2 || want == c->slist[i]->ended)
			cJSON_AddItemToArray(a, core_session_json(c->slist[i], 0));
	http_reply(rq, 200, o);
}

/* The session of the path, or NULL with a 404 sent. */
static struct core_session *
path_session(struct req *rq)
{
	struct core_session *s = core_session_find(rq->core, rq->param);

	if (s == NULL)
		http_error(rq, 404, "not_found", "no session %s", rq->param);
	return s;
}

static void
reply_session(struct req *rq, int status, struct core_session *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "session", core_session_json(s, 1));
	http_reply(rq, status, o);
}

void
api_session_show(struct req *rq)
{
	struct core_session *s;

	if ((s = path_session(rq)) != NULL)
		reply_session(rq, 200, s);
}

struct ended {
	struct req	*rq;
	struct core_session *s;
};

static void
ended(void *arg, const struct core_status *st)
{
	struct ended *e = arg;

	if (st->err == CE_SESSION_ENDED)
		http_error(e->rq, 409, "session_ended", "session %s has already ended", e->s->id);
	else if (st->err != CE_OK)
		http_status(e->rq, st, "cannot end the session");
	else
		reply_session(e->rq, 200, e->s);
	free(e);
}

void
api_session_end(struct req *rq)
{
	struct core_session *s;
	struct ended *e;

	if ((s = path_session(rq)) == NULL)
		return;
	e = xmalloc(sizeof *e);
	e->rq = rq;
	e->s = s;
	core_session_end(rq->core, s, ended, e);
}

static void
joined(void *arg, const struct core_status *st, struct core_channel *ch, const char *token)
{
	struct req *rq = arg;
	cJSON *o;

	if (st->err != CE_OK) {
		http_status(rq, st, "cannot join");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "session", core_session_json(ch->session, 1));
	cJSON_AddStringToObject(o, "token", token);
	cJSON_AddStringToObject(o, "channel", ch->id);
	http_reply(rq, 201, o);
}

void
api_participant_add(struct req *rq)
{
	struct core_session *s;
	const char *name, *device;

	if ((s = path_session(rq)) == NULL ||
	    participant_fields(rq, rq->body, &name, &device) != 0)
		return;
	core_participant_add(rq->core, s, name, device, joined, rq);
}

/* Every channel of each participant: device, state, opened, closed and why, last seen. */
void
api_devices(struct req *rq)
{
	struct core_session *s;

	if ((s = path_session(rq)) != NULL)
		http_reply(rq, 200, core_devices_json(s));
}

static void
unlinked(void *arg, const struct core_status *st)
{
	struct ended *e = arg;

	if (st->err == CE_NOT_FOUND)
		http_error(e->rq, 404, "not_found", "device %s has no open channel in session %s",
		    e->rq->param2, e->s->id);
	else if (st->err != CE_OK)
		http_status(e->rq, st, "cannot unlink the device");
	else
		http_reply(e->rq, 200, core_devices_json(e->s));
	free(e);
}

/* The device's open channel closes ("unlinked"), its token revoked. */
void
api_device_unlink(struct req *rq)
{
	struct core_session *s;
	struct ended *e;

	if ((s = path_session(rq)) == NULL)
		return;
	if (rq->param2 == NULL || !name_valid(rq->param2)) {
		http_error(rq, 400, "bad_field", "not a device name");
		return;
	}
	e = xmalloc(sizeof *e);
	e->rq = rq;
	e->s = s;
	core_device_unlink(rq->core, s, rq->param2, unlinked, e);
}

/* The message's fields from the request; NULL after an error reply. */
static cJSON *
message_fields(struct req *rq)
{
	const char *type, *body, *from, *dev;
	cJSON *f;

	if (body_str(rq, "type", &type) != 0 || body_str(rq, "from", &from) != 0 ||
	    body_str(rq, "device", &dev) != 0 || body_str(rq, "body", &body) != 0)
		return NULL;
	/* The token says who speaks; a body claiming someone else is refused. */
	if ((from != NULL && strcmp(from, rq->ch->participant) != 0) ||
	    (dev != NULL && strcmp(dev, rq->ch->device) != 0)) {
		http_error(rq, 403, "forbidden", "this token speaks for %s (%s) only",
		    rq->ch->participant, rq->ch->device);
		return NULL;
	}
	if (type == NULL)
		type = "text";
	if (strcmp(type, "text") == 0) {
		if (body == NULL) {
			http_error(rq, 400, "bad_field", "a text message needs a string body");
			return NULL;
		}
		if (strlen(body) > CORE_MAX_TEXT) {
			http_error(rq, 413, "too_large", "text over %d bytes", CORE_MAX_TEXT);
			return NULL;
		}
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "kind", "text");
		cJSON_AddStringToObject(f, "body", body);
		return f;
	}
	http_error(rq, 400, "bad_field", "type must be \"text\" or \"media\"");
	return NULL;
}

static void
sent(void *arg, const struct core_status *st, uint64_t seq)
{
	struct req *rq = arg;
	cJSON *o;

	if (st->err != CE_OK) {
		http_status(rq, st, "cannot send");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "seq", (double)seq);
	http_reply(rq, 201, o);
}

void
api_message_send(struct req *rq)
{
	cJSON *f;

	if (rq->ch->session->ended) {
		http_error(rq, 409, "session_ended", "session %s has ended", rq->ch->session->id);
		return;
	}
	/* Media frames take the media path (api_media.c), not the log. */
	if (json_str(rq->body, "type") != NULL && strcmp(json_str(rq->body, "type"), "media") == 0) {
		api_media_send(rq);
		return;
	}
	if ((f = message_fields(rq)) != NULL)
		core_message(rq->core, rq->ch, f, sent, rq);
}
