/*
 * Live streams: each device's GET .../stream (JSON Lines or SSE), what each
 * channel has been delivered, targeted events, and channel closing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "failpoint.h"
#include "json.h"
#include "log.h"
#include "rand.h"
#include "serve.h"
#include "xmalloc.h"

#define STREAM_KEEPALIVE_S	15

static struct streamq *
stream_list(struct stream *st)
{
	if (st->logof != NULL)
		return &st->logof->followers;
	return st->channel != NULL ? &st->channel->streams : &st->srv->followers;
}

static void
stream_keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct stream *st = arg;
	struct evbuffer *b = evbuffer_new();

	(void)fd;
	(void)what;
	/* A blank line (JSON Lines) or a comment (SSE): readers skip both. */
	evbuffer_add(b, st->sse ? ":\n\n" : "\n", st->sse ? 3 : 1);
	stream_send(st, b);
	evbuffer_free(b);
}

/*
 * Starts the chunked reply. Streams are long-lived: the connection's read
 * timeout is lifted (the write timeout stays: a reader that stops reading
 * is dropped), and a keep-alive line goes out every 15 s.
 */
struct stream *
stream_start(struct req *rq, struct channel *ch, struct session *logof, uint64_t next_seq)
{
	struct server *srv = rq->srv;
	struct stream *st = xcalloc(1, sizeof *st);
	struct evkeyvalq *h = evhttp_request_get_output_headers(rq->r);
	const char *accept = evhttp_find_header(evhttp_request_get_input_headers(rq->r),
	    "Accept");
	struct timeval ka = { STREAM_KEEPALIVE_S, 0 }, wt = { srv->cfg->idle_timeout_s, 0 };
	char key[32];

	st->srv = srv;
	st->req = rq->r;
	st->evcon = evhttp_request_get_connection(rq->r);
	st->channel = ch;
	st->logof = logof;
	st->next_seq = next_seq;
	st->sse = accept != NULL && strstr(accept, "text/event-stream") != NULL;
	if (srv->cfg->idle_timeout_s / 2 < STREAM_KEEPALIVE_S)
		ka.tv_sec = srv->cfg->idle_timeout_s > 1 ? srv->cfg->idle_timeout_s / 2 : 1;
	evhttp_add_header(h, "Content-Type", st->sse ? "text/event-stream" :
	    "application/x-ndjson");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply_start(rq->r, 200, "OK");
	bufferevent_set_timeouts(evhttp_connection_get_bufferevent(st->evcon), NULL, &wt);
	snprintf(key, sizeof key, "%p", (void *)st->evcon);
	if ((st->conn = strmap_get(srv->conns, key)) != NULL)
		st->conn->stream = st;
	st->keepalive = event_new(srv->base, -1, EV_PERSIST, stream_keepalive, st);
	event_add(st->keepalive, &ka);
	TAILQ_INSERT_TAIL(stream_list(st), st, entry);
	srv->nstreams++;
	return st;
}

static void
stream_detach(struct stream *st)
{
	TAILQ_REMOVE(stream_list(st), st, entry);
	event_free(st->keepalive);
	if (st->conn != NULL)
		st->conn->stream = NULL;
	st->srv->nstreams--;
}

/* The client went away: evhttp has detached the request, so it is ours to free. */
void
stream_drop(struct stream *st)
{
	log_debug("stream of %s dropped", st->channel ? st->channel->device : "events");
	stream_detach(st);
	if (evhttp_request_get_connection(st->req) == NULL)
		evhttp_request_free(st->req);
	free(st);
}

/* Ends the reply (after the final line in b, if any); the connection stays usable. */
void
stream_end(struct stream *st, struct evbuffer *b)
{
	struct evhttp_connection *evcon = st->evcon;
	struct timeval idle = { st->srv->cfg->idle_timeout_s, 0 };

	stream_detach(st);
	if (b != NULL && evbuffer_get_length(b) > 0)
		evhttp_send_reply_chunk(st->req, b);
	evhttp_connection_set_timeout_tv(evcon, &idle);
	evhttp_send_reply_end(st->req);
	free(st);
}

void
stream_line(struct stream *st, struct evbuffer *b, const char *json, size_t len)
{
	if (st->sse)
		evbuffer_add(b, "data: ", 6);
	evbuffer_add(b, json, len);
	evbuffer_add(b, st->sse ? "\n\n" : "\n", st->sse ? 2 : 1);
}

/*
 * Sends what is queued in b; a reader that lets too much pile up unread is
 * cut off (its connection closed; stream_drop runs from the close callback).
 * Returns -1 when the stream is gone.
 */
int
stream_send(struct stream *st, struct evbuffer *b)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(st->evcon);

	if (evbuffer_get_length(bufferevent_get_output(bev)) > SERVE_STREAM_BACKLOG) {
		log_warnx("stream of %s: reader too slow, dropped",
		    st->channel ? st->channel->device : "events");
		evhttp_connection_free(st->evcon);
		return -1;
	}
	if (evbuffer_get_length(b) > 0) {
		struct evbuffer *out = bufferevent_get_output(bev);
		int idle = evbuffer_get_length(out) == 0;

		evhttp_send_reply_chunk(st->req, b);
		/*
		 * Relay hot path: when nothing was queued, write the chunk now
		 * instead of on the next loop turn's EV_WRITE. A chunk carries no
		 * completion callback, so the bufferevent finding its buffer
		 * already drained changes nothing; what does not fit, or an
		 * error, is left to the bufferevent as before. (A socket
		 * bufferevent keeps its output's start frozen between its own
		 * writes.)
		 */
		if (idle) {
			evbuffer_unfreeze(out, 1);
			(void)evbuffer_write(out, bufferevent_getfd(bev));
			evbuffer_freeze(out, 1);
			/* All written: no EPOLLOUT turn for an empty buffer. */
			if (evbuffer_get_length(out) == 0)
				bufferevent_disable(bev, EV_WRITE);
		}
	}
	return 0;
}

static void
stream_closed_line(struct stream *st, struct evbuffer *b, const char *reason, const char *to)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "type", "event");
	cJSON_AddStringToObject(o, "event", "channel.closed");
	cJSON_AddStringToObject(o, "reason", reason);
	if (to != NULL)
		cJSON_AddStringToObject(o, "to", to);
	json_add_time(o, "ts", now_ms());
	text = json_print(o);
	stream_line(st, b, text, strlen(text));
	free(text);
	cJSON_Delete(o);
}

/*
 * Writes the durable entries the stream has not had. A closed channel's
 * streams get everything up to close_seq, then channel.closed, then the end.
 */
static void
stream_flush(struct stream *st)
{
	struct channel *ch = st->channel;
	struct session *s = ch->session;
	struct evbuffer *b = evbuffer_new();
	uint64_t upto = s->durable_seq;

	if (!ch->open && ch->close_seq < upto)
		upto = ch->close_seq;
	for (; st->next_seq <= upto; st->next_seq++)
		stream_line(st, b, s->log[st->next_seq - 1], strlen(s->log[st->next_seq - 1]));
	if (st->next_seq - 1 > ch->delivered_seq && st->next_seq - 1 <= s->last_seq)
		ch->delivered_seq = st->next_seq - 1;
	if (!ch->open && st->next_seq > ch->close_seq) {
		stream_closed_line(st, b, ch->closed_reason, ch->closed_to);
		stream_end(st, b);
	} else
		stream_send(st, b);
	evbuffer_free(b);
}

/* An operator following a session's log: the durable entries, the end once it ended. */
void
stream_flush_log(struct stream *st)
{
	struct session *s = st->logof;
	struct evbuffer *b = evbuffer_new();

	for (; st->next_seq <= s->durable_seq; st->next_seq++)
		stream_line(st, b, s->log[st->next_seq - 1], strlen(s->log[st->next_seq - 1]));
	if (s->ended && st->next_seq > s->last_seq)
		stream_end(st, b);
	else
		stream_send(st, b);
	evbuffer_free(b);
}

/* New durable entries in s: every stream of every open or closing channel gets them. */
void
stream_wake_session(struct session *s)
{
	struct stream *st, *next;
	size_t i;

	for (i = 0; i < s->nchannels; i++) {
		TAILQ_FOREACH_SAFE(st, &s->channels[i]->streams, entry, next)
			stream_flush(st);
	}
	TAILQ_FOREACH_SAFE(st, &s->followers, entry, next)
		stream_flush_log(st);
}

/* A targeted event (not in the log, no seq) on every stream of one channel. */
void
stream_send_targeted(struct channel *ch, cJSON *event)
{
	struct stream *st, *next;
	struct evbuffer *b;
	char *text = json_print(event);

	TAILQ_FOREACH_SAFE(st, &ch->streams, entry, next) {
		b = evbuffer_new();
		stream_line(st, b, text, strlen(text));
		stream_send(st, b);
		evbuffer_free(b);
	}
	free(text);
}

/*
 * Closes a channel: its token is revoked now; its streams get the log up to
 * the current end (including the entry that explains the close, appended
 * before this call), then channel.closed {reason, to}. The caller saves the
 * session document.
 */
void
channel_close(struct server *srv, struct channel *ch, const char *reason, const char *to)
{
	struct stream *st, *next;

	channel_mark_closed(srv, ch, reason, to, ch->session->last_seq);
	TAILQ_FOREACH_SAFE(st, &ch->streams, entry, next)
		stream_flush(st);
}

/* The state of a closed channel, token revoked; its streams end after close_seq. */
void
channel_mark_closed(struct server *srv, struct channel *ch, const char *reason, const char *to,
    uint64_t close_seq)
{
	ch->open = 0;
	ch->closed_ms = now_ms();
	free(ch->closed_reason);
	ch->closed_reason = xstrdup(reason);
	free(ch->closed_to);
	ch->closed_to = to != NULL ? xstrdup(to) : NULL;
	ch->close_seq = close_seq;
	channel_revoke(srv, ch);
}

/* Server stopping: every stream ends with channel.closed {reason:"shutdown"}. */
void
stream_shutdown_all(struct server *srv)
{
	struct stream *st;
	struct evbuffer *b;
	size_t i, j;

	for (i = 0; i < srv->nsessions; i++) {
		struct session *s = srv->slist[i];
		for (j = 0; j < s->nchannels; j++) {
			while ((st = TAILQ_FIRST(&s->channels[j]->streams)) != NULL) {
				b = evbuffer_new();
				stream_closed_line(st, b, "shutdown", NULL);
				stream_end(st, b);
				evbuffer_free(b);
			}
		}
	}
	while ((st = TAILQ_FIRST(&srv->followers)) != NULL)
		stream_end(st, NULL);
	for (i = 0; i < srv->nsessions; i++)
		while ((st = TAILQ_FIRST(&srv->slist[i]->followers)) != NULL)
			stream_end(st, NULL);
}

void
api_stream(struct req *rq)
{
	struct channel *ch = rq->ch;
	struct stream *st;
	uint64_t since;

	if (http_query_seq(rq, "since", ch->start_seq - 1, &since) != 0)
		return;
	if (since < ch->start_seq - 1)
		since = ch->start_seq - 1;	/* a device never sees before it joined */
	st = stream_start(rq, ch, NULL, since + 1);
	log_debug("stream of %s in %s from %llu", ch->device, ch->session->id,
	    (unsigned long long)since + 1);
	stream_flush(st);
	if (ch->open)
		xfer_stream_started(rq->srv, ch);
}

/*
 * Make before break, for the transfer engine's commit: opens a channel for
 * device speaking for old's participant, closes old ("transferred", to
 * device) with participant.moved in its log. The session document is the
 * commit point, saved together with the entry; if it cannot be saved
 * nothing has changed. The new channel's streams start right after the last entry old
 * was delivered (everything appended before is made durable and sent to old's
 * streams first), so the participant loses nothing; participant.moved reaches
 * both devices, and old's streams end with channel.closed after it.
 * Returns the new channel and its token, or NULL with *cause.
 */
struct channel *
channel_handover(struct server *srv, struct channel *old, const char *device,
    const char *transfer, char **token, char **cause)
{
	struct channel *ch;
	char *id = rand_id('C');

	*token = rand_base32(16);
	ch = channel_handover_as(srv, old, device, transfer, id, *token, cause);
	free(id);
	if (ch == NULL) {
		free(*token);
		*token = NULL;
	}
	return ch;
}

/* channel_handover with the new channel's id and token chosen by the caller. */
struct channel *
channel_handover_as(struct server *srv, struct channel *old, const char *device,
    const char *transfer, const char *id, const char *token, char **cause)
{
	struct session *s = old->session;
	struct participant *p = session_participant(s, old->participant);
	char *old_hash = old->token_hash != NULL ? xstrdup(old->token_hash) : NULL;
	struct channel *ch;
	uint64_t from;
	cJSON *e;

	server_commit_now(srv);
	from = (old->delivered_seq > old->start_seq - 1 ? old->delivered_seq :
	    old->start_seq - 1) + 1;
	ch = channel_open_as(srv, s, old->participant, device, id, token);
	ch->start_seq = from;
	/* its streams end after participant.moved, which the document carries */
	channel_mark_closed(srv, old, "transferred", device, s->last_seq + 1);
	e = entry_new(s, "event");
	cJSON_AddStringToObject(e, "event", "participant.moved");
	cJSON_AddStringToObject(e, "participant", old->participant);
	cJSON_AddStringToObject(e, "from", old->device);
	cJSON_AddStringToObject(e, "to", device);
	if (transfer != NULL)
		cJSON_AddStringToObject(e, "transfer", transfer);
	if (session_commit(srv, s, NULL, e, cause) != 0) {
		/* Undo in memory: the document on disk still has old open. */
		old->open = 1;
		old->closed_ms = -1;
		free(old->closed_reason);
		free(old->closed_to);
		old->closed_reason = old->closed_to = NULL;
		old->token_hash = old_hash;
		if (old_hash != NULL)
			strmap_put(srv->tokens, old_hash, old);
		p->channel = old;
		channel_revoke(srv, ch);
		strmap_del(srv->channels, ch->id);
		s->nchannels--;
		channel_free(ch);
		return NULL;
	}
	free(old_hash);
	failpoint("handover-saved");
	return ch;
}
