/*
 * Streams: a device's stream, the operator's log (read or followed) and the
 * server's events, as chunked JSON Lines (or SSE). A listener of the core:
 * an entry that just became durable goes out at once to every stream that
 * is caught up; a stream that is behind (it starts in the past, or its
 * reader is slow) reads the store a page at a time, and only while its
 * connection's output is short of STREAM_HIGH, so memory never grows with a
 * log's length or a reader's slowness (redis's output buffer limits).
 * A device's stream may also carry the session's media (media=1): frames
 * go out as they come; a stream behind reads on from the session's ring
 * (core_media.c), and what the ring no longer holds is lost to it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "chunked.h"
#include "failpoint.h"
#include "gate.h"
#include "json.h"
#include "log.h"
#include "reply.h"
#include "stream.h"
#include "xmalloc.h"

#define STREAM_KEEPALIVE_S	15
#define STREAM_HIGH		(256 * 1024)	/* stop writing live above this, read pages later */
#define STREAM_LOW		(64 * 1024)	/* read the next page below this */
#define STREAM_PAGE		(64 * 1024)
#define STREAM_BACKLOG		(8u << 20)	/* targeted events past this: the reader is cut */

struct stream {
	TAILQ_ENTRY(stream) entry;
	struct server	*srv;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct conn	*conn;
	struct core_session *s;		/* NULL: the server's events */
	struct core_channel *ch;	/* a device's stream */
	int		 follow;	/* stays open for what comes */
	uint64_t	 next;		/* the next seq to write */
	uint64_t	 last;		/* not following: the last seq it writes */
	int		 sse;
	int		 behind;	/* reading the store, not writing live */
	int		 reading;	/* a page is being read */
	int		 dead;
	int		 media;		/* it carries media frames */
	int		 mbehind;	/* frames are waiting in the ring for it */
	uint64_t	 mnext;		/* the next ring frame it wants */
	struct chunked	*ck;		/* a device's: its socket, taken from evhttp */
	struct evbuffer	*out;		/* what waits to be written */
	struct evbuffer_cb_entry *drain;
	struct event	*keepalive, *refill;
};
TAILQ_HEAD(streamq, stream);

static void stream_check(struct stream *);

static struct streamq *
stream_list(struct server *srv, struct core_session *s)
{
	void **slot = s != NULL ? &s->lsn : &srv->core.events_lsn;
	struct streamq *q = *slot;

	if (q == NULL) {
		q = xmalloc(sizeof *q);
		TAILQ_INIT(q);
		*slot = q;
	}
	return q;
}

static void
stream_line(struct stream *st, struct evbuffer *b, const char *json, size_t len)
{
	if (st->sse)
		evbuffer_add(b, "data: ", 6);
	evbuffer_add(b, json, len);
	evbuffer_add(b, st->sse ? "\n\n" : "\n", st->sse ? 2 : 1);
}

/*
 * Sends what is in b. When nothing was queued, the chunk is written at once
 * instead of on the next loop turn's EV_WRITE (the relay's hot path): a
 * chunk carries no completion callback, so the bufferevent finding its
 * buffer drained changes nothing; what does not fit is left to it.
 */
/* The socket's own bufferevent: under the gate's filter (gate.c). */
static struct bufferevent *
stream_sock_bev(struct stream *st)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(st->evcon);
	struct bufferevent *under = bufferevent_get_underlying(bev);

	return under != NULL ? under : bev;
}

static void
stream_send(struct stream *st, struct evbuffer *b)
{
	struct bufferevent *bev;
	int idle = evbuffer_get_length(st->out) == 0;

	if (evbuffer_get_length(b) == 0)
		return;
	if (st->ck != NULL) {
		chunked_send(st->ck, b);
		return;
	}
	evhttp_send_reply_chunk(st->req, b);
	gate_flush(st->evcon);
	if (idle) {
		bev = stream_sock_bev(st);
		evbuffer_unfreeze(st->out, 1);
		(void)evbuffer_write(st->out, bufferevent_getfd(bev));
		evbuffer_freeze(st->out, 1);
	}
}

static void
stream_detach(struct stream *st)
{
	TAILQ_REMOVE(stream_list(st->srv, st->s), st, entry);
	evbuffer_remove_cb_entry(st->out, st->drain);
	if (st->keepalive != NULL)
		event_free(st->keepalive);
	event_free(st->refill);
	if (st->conn != NULL)
		st->conn->stream = NULL;
	st->srv->nstreams--;
	st->dead = 1;
}

/* A detached stream goes now, or, with a page of the log being read for it, when it comes. */
static void
stream_free(struct stream *st)
{
	if (!st->reading)
		free(st);
}

/* Ends the reply after the last line in b (may be NULL); the connection stays usable. */
static void
stream_end(struct stream *st, struct evbuffer *b)
{
	struct timeval idle = { st->srv->cfg->idle_timeout_s, 0 };
	struct evhttp_connection *evcon = st->evcon;

	if (st->ck != NULL) {
		if (b != NULL)
			chunked_send(st->ck, b);
		stream_detach(st);
		chunked_end(st->ck);
		stream_free(st);
		return;
	}
	stream_detach(st);
	if (b != NULL && evbuffer_get_length(b) > 0)
		evhttp_send_reply_chunk(st->req, b);
	evhttp_connection_set_timeout_tv(evcon, &idle);
	/*
	 * The chunks left writing on: the filter would move the last chunk as
	 * evhttp adds it, before evhttp asks to hear that it left, and the
	 * connection would never read its next request. Written with writing
	 * off, it leaves in gate_flush, which tells evhttp.
	 */
	bufferevent_disable(evhttp_connection_get_bufferevent(evcon), EV_WRITE);
	evhttp_send_reply_end(st->req);
	gate_flush(evcon);
	stream_free(st);
}

/* Its reader went: for a stream on evhttp, req is to be freed unless evhttp still holds it. */
static void
stream_gone(struct stream *st, const char *why, struct evhttp_request *req)
{
	log_debug("stream of %s dropped: %s", st->ch ? st->ch->device : "the operator", why);
	stream_detach(st);
	if (req != NULL && evhttp_request_get_connection(req) == NULL)
		evhttp_request_free(req);
	stream_free(st);
}

void
stream_drop(struct stream *st)
{
	stream_gone(st, "its connection closed", st->req);
}

/* A taken socket's reader went (chunked.c); the socket is freed after. */
static void
stream_lost(void *arg, const char *why)
{
	stream_gone(arg, why, NULL);
}

static void
closed_line(struct stream *st, struct evbuffer *b, const char *reason, const char *to)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "type", "event");
	cJSON_AddStringToObject(o, "event", "channel.closed");
	cJSON_AddStringToObject(o, "reason", reason);
	if (to != NULL)
		cJSON_AddStringToObject(o, "to", to);
	core_time_json(o, "ts", now_ms());
	text = json_print(o);
	stream_line(st, b, text, strlen(text));
	free(text);
	cJSON_Delete(o);
}

/* The last seq this stream may have now. */
static uint64_t
stream_bound(const struct stream *st)
{
	uint64_t d = core_durable(&st->srv->core, st->s);

	if (st->ch != NULL && !st->ch->open && st->ch->close_seq < d)
		d = st->ch->close_seq;
	if (!st->follow && st->last < d)
		d = st->last;
	return d;
}

/* Whether the stream has had all it will ever have. */
static int
stream_done(const struct stream *st)
{
	if (st->ch != NULL)
		return !st->ch->open && st->next > st->ch->close_seq;
	if (!st->follow)
		return st->next > st->last;
	return st->s != NULL && st->s->ended && st->next > st->s->durable &&
	    st->s->durable == st->s->appended;
}

static void
stream_check(struct stream *st)
{
	struct evbuffer *b;

	if (!stream_done(st))
		return;
	b = evbuffer_new();
	if (st->ch != NULL)
		closed_line(st, b, st->ch->closed_reason, st->ch->closed_to);
	stream_end(st, b);
	evbuffer_free(b);
}

static void
stream_wrote(struct stream *st, uint64_t seq)
{
	st->next = seq + 1;
	if (st->ch != NULL)
		core_channel_delivered(st->ch, seq);
}

/* Frames from the ring while the output is short of STREAM_HIGH; not the device's own. */
static void
stream_media_fill(struct stream *st)
{
	const struct core_frame *f = NULL;
	struct evbuffer *b = evbuffer_new();

	st->mbehind = 0;
	while (st->ch->open && (f = core_media_next(st->s, st->mnext)) != NULL) {
		if (evbuffer_get_length(st->out) + evbuffer_get_length(b) >= STREAM_HIGH) {
			st->mbehind = 1;
			break;
		}
		st->mnext = f->id + 1;
		if (strcmp(f->participant, st->ch->participant) == 0)
			continue;
		stream_line(st, b, f->line, f->len);
		core_media_delivered(st->ch, f->id);
	}
	stream_send(st, b);
	evbuffer_free(b);
}

static void
stream_page(void *arg, enum store_err err, const struct store_record *recs, size_t n,
    const char *cause)
{
	struct stream *st = arg;
	struct evbuffer *b;
	uint64_t bound;
	size_t i;

	st->reading = 0;
	if (st->dead) {		/* its reader went while the page was read */
		free(st);
		return;
	}
	if (err != STORE_OK) {
		log_warnx("stream: cannot read the log: %s", cause);
		b = evbuffer_new();
		stream_end(st, b);
		evbuffer_free(b);
		return;
	}
	bound = stream_bound(st);
	b = evbuffer_new();
	for (i = 0; i < n && recs[i].seq <= bound; i++) {
		if (recs[i].seq != st->next)
			continue;
		stream_line(st, b, recs[i].json, recs[i].len);
		stream_wrote(st, recs[i].seq);
	}
	stream_send(st, b);
	evbuffer_free(b);
	if (n > 0)
		event_active(st->refill, EV_TIMEOUT, 0);
}

/* Behind: the next page, while the output is short; caught up: live again. */
static void
stream_refill(evutil_socket_t fd, short what, void *arg)
{
	struct stream *st = arg;

	(void)fd;
	(void)what;
	if (st->mbehind)
		stream_media_fill(st);
	if (st->reading || evbuffer_get_length(st->out) >= STREAM_LOW)
		return;
	if (st->next > stream_bound(st)) {
		st->behind = 0;
		stream_check(st);
		return;
	}
	st->reading = 1;
	core_read(&st->srv->core, st->s, st->next, 512, STREAM_PAGE, stream_page, st);
}

/* The output drained: a stream behind reads on. */
static void
stream_drained(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct stream *st = arg;

	if (info->n_deleted > 0 && ((st->behind && !st->reading) || st->mbehind) &&
	    evbuffer_get_length(buf) < STREAM_LOW)
		event_active(st->refill, EV_TIMEOUT, 0);
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
 * Starts the chunked reply from seq next on. Streams are long-lived: the
 * connection's read timeout is lifted (the write timeout stays: a reader
 * that stops reading is dropped); a followed one has a keep-alive line.
 */
static struct stream *
stream_start(struct req *rq, struct core_session *s, struct core_channel *ch, uint64_t next,
    int follow, uint64_t last)
{
	struct server *srv = rq->srv;
	struct stream *st = xcalloc(1, sizeof *st);
	struct evkeyvalq *h = evhttp_request_get_output_headers(rq->r);
	const char *accept = evhttp_find_header(evhttp_request_get_input_headers(rq->r),
	    "Accept");
	struct timeval ka = { STREAM_KEEPALIVE_S, 0 }, wt = { srv->cfg->idle_timeout_s, 0 };
	struct bufferevent *bev;
	const char *type;
	char key[32];

	st->srv = srv;
	st->req = rq->r;
	st->evcon = evhttp_request_get_connection(rq->r);
	st->s = s;
	st->ch = ch;
	st->next = next;
	st->follow = follow;
	st->last = last;
	st->behind = 1;
	st->sse = accept != NULL && strstr(accept, "text/event-stream") != NULL;
	type = st->sse ? "text/event-stream" : "application/x-ndjson";
	/* A device's stream lasts: it takes its socket from evhttp (chunked.c). */
	if (ch != NULL && (st->ck = chunked_take(srv, rq->r, type, stream_lost, st)) != NULL) {
		st->req = NULL;
		st->evcon = NULL;
		st->out = chunked_out(st->ck);
	} else {
		evhttp_add_header(h, "Content-Type", type);
		evhttp_add_header(h, "Cache-Control", "no-store");
		evhttp_send_reply_start(rq->r, 200, "OK");
		gate_flush(st->evcon);
		/*
		 * The stream writes to the socket's bufferevent, below the
		 * gate's filter: the filter would time out for want of writes,
		 * so the write timeout moves to the socket's.
		 */
		bev = evhttp_connection_get_bufferevent(st->evcon);
		bufferevent_set_timeouts(bev, NULL, NULL);
		bufferevent_set_timeouts(stream_sock_bev(st), NULL, &wt);
		st->out = bufferevent_get_output(stream_sock_bev(st));
		if ((st->conn = strmap_get(srv->conns, conn_key(st->evcon, key))) != NULL)
			st->conn->stream = st;
	}
	st->drain = evbuffer_add_cb(st->out, stream_drained, st);
	if (follow) {
		if (srv->cfg->idle_timeout_s / 2 < STREAM_KEEPALIVE_S)
			ka.tv_sec = srv->cfg->idle_timeout_s > 1 ? srv->cfg->idle_timeout_s / 2 : 1;
		st->keepalive = event_new(srv->base, -1, EV_PERSIST, stream_keepalive, st);
		event_add(st->keepalive, &ka);
	}
	st->refill = event_new(srv->base, -1, 0, stream_refill, st);
	TAILQ_INSERT_TAIL(stream_list(srv, s), st, entry);
	srv->nstreams++;
	req_release(rq);
	event_active(st->refill, EV_TIMEOUT, 0);
	return st;
}

/* ---- the listener ---- */

/* A durable record: to every stream caught up with it, at once. */
static void
stream_record(struct server *srv, struct core_session *s, const struct store_record *rec)
{
	struct streamq *q = s != NULL ? s->lsn : srv->core.events_lsn;
	struct stream *st, *next;
	struct evbuffer *b;

	if (q == NULL)
		return;
	for (st = TAILQ_FIRST(q); st != NULL; st = next) {
		next = TAILQ_NEXT(st, entry);
		if (rec->seq < st->next || rec->seq > stream_bound(st))
			continue;
		if (st->behind || rec->seq != st->next ||
		    evbuffer_get_length(st->out) >= STREAM_HIGH) {
			st->behind = 1;	/* the store has it: read it when its turn comes */
			if (!st->reading && evbuffer_get_length(st->out) < STREAM_LOW)
				event_active(st->refill, EV_TIMEOUT, 0);
			continue;
		}
		b = evbuffer_new();
		stream_line(st, b, rec->json, rec->len);
		stream_wrote(st, rec->seq);
		stream_send(st, b);
		evbuffer_free(b);
		stream_check(st);
	}
}

static void
lsn_entry(void *arg, struct core_session *s, const struct store_record *rec)
{
	stream_record(arg, s, rec);
}

static void
lsn_event(void *arg, const struct store_record *rec)
{
	stream_record(arg, NULL, rec);
}

/* A channel closed: its streams end once they have had everything up to close_seq. */
static void
lsn_closed(void *arg, struct core_channel *ch)
{
	struct server *srv = arg;
	struct streamq *q = ch->session->lsn;
	struct stream *st, *next;

	for (st = q ? TAILQ_FIRST(q) : NULL; st != NULL; st = next) {
		next = TAILQ_NEXT(st, entry);
		if (st->ch == ch) {
			if (st->next <= ch->close_seq)
				event_active(st->refill, EV_TIMEOUT, 0);
			else
				stream_check(st);
		} else if (st->ch == NULL && st->s != NULL)
			stream_check(st);	/* a followed log ends with its session */
	}
	(void)srv;
}

/* A targeted event (not in the log, no seq) on every stream of one channel. */
static void
lsn_targeted(void *arg, struct core_channel *ch, const char *json, size_t len)
{
	struct streamq *q = ch->session->lsn;
	struct stream *st, *next;
	struct chunked *ck;
	struct evbuffer *b;

	(void)arg;
	for (st = q ? TAILQ_FIRST(q) : NULL; st != NULL; st = next) {
		next = TAILQ_NEXT(st, entry);
		if (st->ch != ch)
			continue;
		if (evbuffer_get_length(st->out) > STREAM_BACKLOG ||
		    failpoint_errno("stream-backlog") != 0) {
			log_warnx("stream of %s: reader too slow, dropped", ch->device);
			if (st->ck != NULL) {
				ck = st->ck;	/* its buffer is st->out: freed after */
				stream_gone(st, "too slow", NULL);
				chunked_abort(ck);
			} else
				evhttp_connection_free(st->evcon);
			continue;
		}
		b = evbuffer_new();
		stream_line(st, b, json, len);
		stream_send(st, b);
		evbuffer_free(b);
	}
}

/* A frame just came: out at once to every media stream caught up with the ring. */
static void
lsn_media(void *arg, struct core_session *s, const struct core_frame *f)
{
	struct streamq *q = s->lsn;
	struct stream *st;
	struct evbuffer *b;

	(void)arg;
	if (q == NULL)
		return;
	TAILQ_FOREACH(st, q, entry) {
		if (!st->media || !st->ch->open || f->id < st->mnext)
			continue;
		if (st->mbehind || f->id != st->mnext ||
		    evbuffer_get_length(st->out) >= STREAM_HIGH) {
			if (!st->mbehind && evbuffer_get_length(st->out) < STREAM_LOW)
				event_active(st->refill, EV_TIMEOUT, 0);
			st->mbehind = 1;
			continue;
		}
		st->mnext = f->id + 1;
		if (strcmp(f->participant, st->ch->participant) == 0)
			continue;
		b = evbuffer_new();
		stream_line(st, b, f->line, f->len);
		core_media_delivered(st->ch, f->id);
		stream_send(st, b);
		evbuffer_free(b);
	}
}

static void	lsn_unavailable(void *);
static void	lsn_forget(void *, struct core_session *);

static struct core_listener listener = {
	NULL, lsn_entry, lsn_event, lsn_closed, lsn_targeted, lsn_media, lsn_unavailable,
	lsn_forget
};

void
stream_init(struct server *srv)
{
	listener.arg = srv;
	core_listen(&srv->core, &listener);
}

/* ---- endpoints ---- */

void
api_stream(struct req *rq)
{
	struct core_channel *ch = rq->ch;
	struct core *c = rq->core;
	const char *media = http_query(rq, "media");
	struct stream *st;
	uint64_t since;
	int want_media;

	if (media != NULL && strcmp(media, "0") != 0 && strcmp(media, "1") != 0) {
		http_error(rq, 400, "bad_field", "media is 0 or 1");
		return;
	}
	if (http_query_seq(rq, "since", ch->start_seq - 1, &since) != 0)
		return;
	want_media = media != NULL && strcmp(media, "1") == 0;
	if (since < ch->start_seq - 1)
		since = ch->start_seq - 1;	/* a device never sees before it joined */
	log_debug("stream of %s in %s from %llu", ch->device, ch->session->id,
	    (unsigned long long)since + 1);
	/* rq and its query go with stream_start. */
	st = stream_start(rq, ch->session, ch, since + 1, 1, 0);
	if (want_media && ch->open) {
		/* After a switch: the frames the old device was not given, from the ring. */
		st->media = 1;
		st->mnext = core_media_start(ch);
		st->mbehind = 1;
	}
	if (ch->open)
		core_channel_attached(c, ch);
}

/* follow=0|1 and since (a number, or "now" for the events); -1 after an error reply. */
static int
read_args(struct req *rq, int *follow, uint64_t *since, uint64_t now)
{
	const char *f = http_query(rq, "follow"), *sv = http_query(rq, "since");

	if (f != NULL && strcmp(f, "0") != 0 && strcmp(f, "1") != 0) {
		http_error(rq, 400, "bad_field", "follow is 0 or 1");
		return -1;
	}
	*follow = f != NULL && strcmp(f, "1") == 0;
	if (sv != NULL && strcmp(sv, "now") == 0) {
		*since = now;
		return 0;
	}
	return http_query_seq(rq, "since", 0, since);
}

void
api_session_log(struct req *rq)
{
	struct core_session *s = core_session_find(rq->core, rq->param);
	uint64_t since, limit, last;
	int follow;

	if (s == NULL) {
		http_error(rq, 404, "not_found", "no session %s", rq->param);
		return;
	}
	if (read_args(rq, &follow, &since, s->durable) != 0 ||
	    http_query_seq(rq, "limit", UINT64_MAX, &limit) != 0)
		return;
	last = s->durable;
	if (limit < last - since && since < last)
		last = since + limit;
	stream_start(rq, s, NULL, since + 1, follow, last);
}

void
api_events(struct req *rq)
{
	uint64_t since;
	int follow;

	/*
	 * "Now" and a read's end are the last event told, durable or not yet
	 * (events wait for the group commit): a read waits for what was told
	 * before it, a watcher from now sees none of it.
	 */
	if (read_args(rq, &follow, &since, rq->core->events_appended) != 0)
		return;
	stream_start(rq, NULL, NULL, since + 1, follow, rq->core->events_appended);
}

/*
 * Every stream ends. Server stopping: a device's stream with channel.closed
 * {reason:"shutdown"}. A shared store out of reach: every stream with
 * stream.end {reason:"unavailable"} (the channel is still open: the client
 * reconnects, to another node), since what this server has may be stale.
 */
static void
end_list(struct streamq *q, int unavailable)
{
	struct stream *st;
	struct evbuffer *b;
	cJSON *o;
	char *text;

	while (q != NULL && (st = TAILQ_FIRST(q)) != NULL) {
		b = evbuffer_new();
		if (unavailable) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "type", "stream.end");
			cJSON_AddStringToObject(o, "reason", "unavailable");
			core_time_json(o, "ts", now_ms());
			text = json_print(o);
			stream_line(st, b, text, strlen(text));
			free(text);
			cJSON_Delete(o);
		} else if (st->ch != NULL)
			closed_line(st, b, "shutdown", NULL);
		stream_end(st, b);
		evbuffer_free(b);
	}
}

static void
end_all(struct server *srv, int unavailable)
{
	size_t i;

	for (i = 0; i < srv->core.nsessions; i++)
		end_list(srv->core.slist[i]->lsn, unavailable);
	end_list(srv->core.events_lsn, unavailable);
}

void
stream_shutdown_all(struct server *srv)
{
	end_all(srv, 0);
}

static void
lsn_unavailable(void *arg)
{
	end_all(arg, 1);
}

/* A session leaves memory (retention): a stream still on it ends, its list goes. */
static void
lsn_forget(void *arg, struct core_session *s)
{
	(void)arg;
	end_list(s->lsn, 0);
	free(s->lsn);
	s->lsn = NULL;
}

void
stream_free_lists(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->core.nsessions; i++) {
		free(srv->core.slist[i]->lsn);
		srv->core.slist[i]->lsn = NULL;
	}
	free(srv->core.events_lsn);
	srv->core.events_lsn = NULL;
}
