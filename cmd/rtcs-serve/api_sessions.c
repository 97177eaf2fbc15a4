/* Endpoints: version, health, sessions, participants, messages and the session log. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "json.h"
#include "log.h"
#include "names.h"
#include "serve.h"
#include "xmalloc.h"

void
api_version(struct req *rq)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", "rtcs");
	cJSON_AddStringToObject(o, "version", RTCS_VERSION);
	cJSON_AddNumberToObject(o, "api", 1);
	cJSON_AddNumberToObject(o, "store_format", STORE_FORMAT);
	http_reply(rq, 200, o);
}

void
api_health(struct req *rq)
{
	struct server *srv = rq->srv;
	cJSON *o = cJSON_CreateObject(), *st;
	struct store_stats ss;
	size_t i, live = 0;

	for (i = 0; i < srv->nsessions; i++)
		live += !srv->slist[i]->ended;
	cJSON_AddStringToObject(o, "status", "ok");
	cJSON_AddNumberToObject(o, "uptime_s", (double)((now_ms() - srv->started_ms) / 1000));
	cJSON_AddNumberToObject(o, "sessions", (double)srv->nsessions);
	cJSON_AddNumberToObject(o, "live_sessions", (double)live);
	cJSON_AddNumberToObject(o, "connections", (double)strmap_count(srv->conns));
	cJSON_AddNumberToObject(o, "streams", (double)srv->nstreams);
	cJSON_AddNumberToObject(o, "transfers_open", (double)srv->nopen);
	cJSON_AddStringToObject(o, "sync", srv->cfg->sync == STORE_SYNC_ALWAYS ? "always" :
	    srv->cfg->sync == STORE_SYNC_BATCH ? "batch" : "none");
	store_stats(srv->store, &ss);
	st = cJSON_AddObjectToObject(o, "store");
	cJSON_AddStringToObject(st, "backend", ss.backend);
	cJSON_AddNumberToObject(st, "appends", (double)ss.appends);
	cJSON_AddNumberToObject(st, "puts", (double)ss.puts);
	cJSON_AddNumberToObject(st, "syncs", (double)ss.syncs);
	cJSON_AddNumberToObject(st, "checkpoints", (double)ss.checkpoints);
	cJSON_AddNumberToObject(st, "checkpoint_us", (double)ss.checkpoint_us);
	cJSON_AddNumberToObject(st, "checkpoint_logs", (double)ss.checkpoint_logs);
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
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(rq->body, "kind"), *o, *o2;
	const char *n, *d, *n2, *d2;
	int count;

	*kind = "chat";
	if (k != NULL && !(cJSON_IsString(k) && name_kind_valid(k->valuestring))) {
		http_error(rq, 400, "bad_field", "kind must be one lower-case word");
		return -1;
	}
	if (k != NULL)
		*kind = k->valuestring;
	*parts = cJSON_GetObjectItemCaseSensitive(rq->body, "participants");
	count = cJSON_IsArray(*parts) ? cJSON_GetArraySize(*parts) : -1;
	if (count < 1 || count > SERVE_MAX_PARTICIPANTS) {
		http_error(rq, 400, "bad_field", "participants must be an array of 1 to %d",
		    SERVE_MAX_PARTICIPANTS);
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
reply_internal(struct req *rq, char *cause)
{
	log_warnx("%s", cause);
	http_error(rq, 500, "internal", "%s", cause);
	free(cause);
}

/*
 * Creates a live session with one channel per participant, durable (its
 * document and its first entry together) and announced. tokens[i] gets participant i's token (the caller frees).
 */
struct session *
session_create(struct server *srv, const char *kind, size_t n, const char *const names[],
    const char *const devices[], char *tokens[], char **cause)
{
	struct session *s = session_new(srv, kind);
	struct channel *ch;
	cJSON *e, *plist, *p;
	size_t i;

	e = entry_new(s, "event");
	cJSON_AddStringToObject(e, "event", "session.created");
	cJSON_AddStringToObject(e, "kind", s->kind);
	plist = cJSON_AddArrayToObject(e, "participants");
	for (i = 0; i < n; i++) {
		ch = channel_open(srv, s, names[i], devices[i], &tokens[i]);
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", ch->participant);
		cJSON_AddStringToObject(p, "device", ch->device);
		cJSON_AddStringToObject(p, "channel", ch->id);
		cJSON_AddItemToArray(plist, p);
	}
	/* Created with its first entry, or not at all. */
	if (session_commit(srv, s, NULL, e, cause) != 0) {
		session_discard(srv, s);
		for (i = 0; i < n; i++) {
			free(tokens[i]);
			tokens[i] = NULL;
		}
		return NULL;
	}
	if (server_event(srv, "session.created", s, NULL, cause) != 0) {
		after_commit_failed("create of session", s->id, *cause);
		*cause = NULL;
	}
	log_info("session %s created (%s, %zu participants)", s->id, s->kind, s->nparticipants);
	return s;
}

void
api_session_create(struct req *rq)
{
	struct server *srv = rq->srv;
	const cJSON *parts, *o;
	const char *kind, *names[SERVE_MAX_PARTICIPANTS] = { 0 }, *devices[SERVE_MAX_PARTICIPANTS] = { 0 };
	char *tokens[SERVE_MAX_PARTICIPANTS], *cause = NULL;
	cJSON *reply, *tk;
	struct session *s;
	size_t i, n = 0;

	if (create_check(rq, &kind, &parts) != 0)
		return;
	cJSON_ArrayForEach(o, parts) {
		names[n] = json_str(o, "name");
		devices[n++] = json_str(o, "device");
	}
	if ((s = session_create(srv, kind, n, names, devices, tokens, &cause)) == NULL) {
		reply_internal(rq, cause);
		return;
	}
	reply = cJSON_CreateObject();
	cJSON_AddItemToObject(reply, "session", session_json(s, 1, 0));
	tk = cJSON_AddObjectToObject(reply, "tokens");
	for (i = 0; i < n; i++) {
		cJSON_AddStringToObject(tk, devices[i], tokens[i]);
		free(tokens[i]);
	}
	http_reply(rq, 201, reply);
}

void
api_session_list(struct req *rq)
{
	struct server *srv = rq->srv;
	const char *state = http_query(rq, "state");
	cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "sessions");
	int want = 2;	/* 0 live, 1 ended, 2 all */
	size_t i;

	if (state != NULL) {
		if (strcmp(state, "live") == 0)
			want = 0;
		else if (strcmp(state, "ended") == 0)
			want = 1;
		else if (strcmp(state, "all") != 0) {
			cJSON_Delete(o);
			http_error(rq, 400, "bad_field", "state is live, ended or all");
			return;
		}
	}
	for (i = 0; i < srv->nsessions; i++)
		if (want == 2 || want == srv->slist[i]->ended)
			cJSON_AddItemToArray(a, session_json(srv->slist[i], 0, 0));
	http_reply(rq, 200, o);
}

/* The session of the path, or NULL with a 404 sent. */
static struct session *
path_session(struct req *rq)
{
	struct session *s = session_find(rq->srv, rq->param);

	if (s == NULL)
		http_error(rq, 404, "not_found", "no session %s", rq->param);
	return s;
}

static void
reply_session(struct req *rq, int status, struct session *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "session", session_json(s, 1, 0));
	http_reply(rq, status, o);
}

void
api_session_show(struct req *rq)
{
	struct session *s;

	if ((s = path_session(rq)) != NULL)
		reply_session(rq, 200, s);
}

/*
 * The document (saved ended) is the commit point: if it cannot be saved
 * nothing changed (500); after it, memory follows and session.ended is
 * appended, streams end, the server event is emitted (their failures are
 * logged, the end stands).
 */
void
api_session_end(struct req *rq)
{
	struct server *srv = rq->srv;
	struct session *s;
	char *cause = NULL;
	int64_t ms = now_ms();
	cJSON *e;

	if ((s = path_session(rq)) == NULL)
		return;
	if (s->ended) {
		http_error(rq, 409, "session_ended", "session %s has already ended", s->id);
		return;
	}
	e = entry_new(s, "event");
	cJSON_AddStringToObject(e, "event", "session.ended");
	if (session_commit(srv, s, session_ended_doc(s, ms), e, &cause) != 0) {
		reply_internal(rq, cause);
		return;
	}
	s->ended = 1;
	xfer_session_ended(srv, s);	/* before the streams end: they hear of it */
	session_mark_ended(srv, s, ms);
	if (server_event(srv, "session.ended", s, NULL, &cause) != 0)
		after_commit_failed("end of session", s->id, cause);
	log_info("session %s ended", s->id);
	reply_session(rq, 200, s);
}

void
api_participant_add(struct req *rq)
{
	struct server *srv = rq->srv;
	struct session *s;
	struct channel *ch;
	const char *name, *device;
	char *token, *cause = NULL;
	cJSON *e, *o, *x;

	if ((s = path_session(rq)) == NULL ||
	    participant_fields(rq, rq->body, &name, &device) != 0)
		return;
	if (s->ended) {
		http_error(rq, 409, "session_ended", "session %s has ended", s->id);
		return;
	}
	if (session_participant(s, name) != NULL || session_device_channel(s, device) != NULL) {
		http_error(rq, 409, "conflict", "%s or %s is already in session %s",
		    name, device, s->id);
		return;
	}
	if (s->nparticipants >= SERVE_MAX_PARTICIPANTS) {
		http_error(rq, 409, "conflict", "session %s is full", s->id);
		return;
	}
	/* The document is the commit point; the log entry goes with it. */
	ch = channel_open(srv, s, name, device, &token);
	e = entry_new(s, "event");
	cJSON_AddStringToObject(e, "event", "participant.joined");
	cJSON_AddStringToObject(e, "participant", name);
	cJSON_AddStringToObject(e, "device", device);
	if (session_commit(srv, s, NULL, e, &cause) != 0) {
		channel_unopen(srv, ch);
		free(token);
		reply_internal(rq, cause);
		return;
	}
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "participant", name);
	cJSON_AddStringToObject(x, "device", device);
	if (server_event(srv, "participant.joined", s, x, &cause) != 0)
		after_commit_failed("join", s->id, cause);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "session", session_json(s, 1, 0));
	cJSON_AddStringToObject(o, "token", token);
	cJSON_AddStringToObject(o, "channel", ch->id);
	free(token);
	http_reply(rq, 201, o);
}

/* Standard base64 with padding, as cJSON carries it. */
static int
base64_valid(const char *s)
{
	size_t n = strlen(s), i, pad = 0;

	if (n % 4 != 0)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad > 0 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return 0;
	}
	return 1;
}

/* Fills the message entry from the request; 0 or an error reply sent. */
static int
message_fields(struct req *rq, cJSON *e)
{
	const char *type = json_str(rq->body, "type"), *body, *media, *data;
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(rq->body, "from");
	const cJSON *dev = cJSON_GetObjectItemCaseSensitive(rq->body, "device");

	/* The token says who speaks; a body claiming someone else is refused. */
	if ((from != NULL && !(cJSON_IsString(from) &&
	    strcmp(from->valuestring, rq->ch->participant) == 0)) ||
	    (dev != NULL && !(cJSON_IsString(dev) &&
	    strcmp(dev->valuestring, rq->ch->device) == 0))) {
		http_error(rq, 403, "forbidden", "this token speaks for %s (%s) only",
		    rq->ch->participant, rq->ch->device);
		return -1;
	}
	if (type == NULL)
		type = cJSON_GetObjectItemCaseSensitive(rq->body, "type") ? "" : "text";
	if (strcmp(type, "text") == 0) {
		if ((body = json_str(rq->body, "body")) == NULL) {
			http_error(rq, 400, "bad_field", "a text message needs a string body");
			return -1;
		}
		if (strlen(body) > SERVE_MAX_TEXT) {
			http_error(rq, 413, "too_large", "text over %d bytes", SERVE_MAX_TEXT);
			return -1;
		}
		cJSON_AddStringToObject(e, "kind", "text");
		cJSON_AddStringToObject(e, "body", body);
		return 0;
	}
	if (strcmp(type, "media") == 0) {
		media = json_str(rq->body, "media");
		data = json_str(rq->body, "data");
		if (media == NULL || !name_kind_valid(media) || data == NULL || !base64_valid(data)) {
			http_error(rq, 400, "bad_field",
			    "a media message needs media (a word) and data (base64)");
			return -1;
		}
		if (strlen(data) > SERVE_MAX_MEDIA) {
			http_error(rq, 413, "too_large", "media data over %d bytes", SERVE_MAX_MEDIA);
			return -1;
		}
		cJSON_AddStringToObject(e, "kind", "media");
		cJSON_AddStringToObject(e, "media", media);
		cJSON_AddStringToObject(e, "data", data);
		return 0;
	}
	http_error(rq, 400, "bad_field", "type must be \"text\" or \"media\"");
	return -1;
}

void
api_message_send(struct req *rq)
{
	struct server *srv = rq->srv;
	struct session *s = rq->ch->session;
	char *cause = NULL;
	uint64_t seq;
	cJSON *e, *o;

	if (s->ended) {
		http_error(rq, 409, "session_ended", "session %s has ended", s->id);
		return;
	}
	e = entry_new(s, "message");
	cJSON_AddStringToObject(e, "from", rq->ch->participant);
	cJSON_AddStringToObject(e, "device", rq->ch->device);
	if (message_fields(rq, e) != 0) {
		cJSON_Delete(e);
		return;
	}
	if (session_append(srv, s, e, &seq, &cause) != 0) {
		reply_internal(rq, cause);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "seq", (double)seq);
	http_reply(rq, 201, o);
}

void
api_session_log(struct req *rq)
{
	const char *follow = http_query(rq, "follow");
	struct evbuffer *b;
	struct session *s;
	uint64_t since, limit, seq;

	if ((s = path_session(rq)) == NULL || http_query_seq(rq, "since", 0, &since) != 0 ||
	    http_query_seq(rq, "limit", UINT64_MAX, &limit) != 0)
		return;
	if (follow != NULL && strcmp(follow, "0") != 0 && strcmp(follow, "1") != 0) {
		http_error(rq, 400, "bad_field", "follow is 0 or 1");
		return;
	}
	if (follow != NULL && strcmp(follow, "1") == 0) {
		/* Live until the session ends: the log so far, then each new entry. */
		stream_flush_log(stream_start(rq, NULL, s, since + 1));
		return;
	}
	b = evbuffer_new();
	for (seq = since + 1; seq <= s->durable_seq && limit > 0; seq++, limit--) {
		evbuffer_add(b, s->log[seq - 1], strlen(s->log[seq - 1]));
		evbuffer_add(b, "\n", 1);
	}
	evhttp_add_header(evhttp_request_get_output_headers(rq->r), "Content-Type",
	    "application/x-ndjson");
	http_reply_raw(rq->srv, rq->r, 200, b);
}
