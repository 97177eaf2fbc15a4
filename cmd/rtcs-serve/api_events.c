/* GET /v1/events: the server-wide event log, whole or followed live. */
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "serve.h"

/* Writes the durable events the stream has not had yet. */
static void
events_flush(struct stream *st)
{
	struct server *srv = st->srv;
	struct evbuffer *b = evbuffer_new();

	for (; st->next_seq <= srv->events_durable; st->next_seq++)
		stream_line(st, b, srv->events[st->next_seq - 1],
		    strlen(srv->events[st->next_seq - 1]));
	stream_send(st, b);
	evbuffer_free(b);
}

void
events_wake(struct server *srv)
{
	struct stream *st, *next;

	TAILQ_FOREACH_SAFE(st, &srv->followers, entry, next)
		events_flush(st);
}

void
api_events(struct req *rq)
{
	struct server *srv = rq->srv;
	const char *follow = http_query(rq, "follow");
	struct evbuffer *b;
	uint64_t since, seq;

	if (http_query_seq(rq, "since", 0, &since) != 0)
		return;
	if (follow != NULL && strcmp(follow, "0") != 0 && strcmp(follow, "1") != 0) {
		http_error(rq, 400, "bad_field", "follow is 0 or 1");
		return;
	}
	if (follow != NULL && strcmp(follow, "1") == 0) {
		events_flush(stream_start(rq, NULL, NULL, since + 1));
		return;
	}
	b = evbuffer_new();
	for (seq = since + 1; seq <= srv->events_durable; seq++) {
		evbuffer_add(b, srv->events[seq - 1], strlen(srv->events[seq - 1]));
		evbuffer_add(b, "\n", 1);
	}
	evhttp_add_header(evhttp_request_get_output_headers(rq->r), "Content-Type",
	    "application/x-ndjson");
	http_reply_raw(srv, rq->r, 200, b);
}
