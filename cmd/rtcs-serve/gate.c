/*
 * The gate in front of evhttp on every connection (a bufferevent filter):
 * another user's connection, or one beyond what the descriptor limit leaves
 * for connections, is closed as it is accepted, with 0 bytes; a
 * request head must arrive whole within --header-timeout of its first byte
 * and fit 8 KiB, request line included; a head evhttp would answer with an
 * HTML page (an unknown method, two Content-Lengths, a chunked or too large
 * body, a head too long) is handed to evhttp as a request for an internal
 * error route (/v1/_gate/WHY, answered in JSON by http.c), and the rest of
 * the connection is dropped.
 */
#include <sys/socket.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "gate.h"
#include "log.h"
#include "reply.h"
#include "strmap.h"
#include "xmalloc.h"

enum gate_state { G_HEAD, G_BODY, G_DROP };

struct gate {
	struct server	*srv;
	struct bufferevent *bev;	/* the filter evhttp reads from */
	enum gate_state	 state;
	struct evbuffer	*head;		/* the head being gathered */
	uint64_t	 body_left;
	struct event	*accepted, *timer, *late;
	struct bufferevent *under;	/* the socket's */
	struct evbuffer_cb_entry *drained;
	int		 close_after;	/* close once what is written has left */
	int		 held;		/* a reference on the filter, until gate_late */
};

static const char *const known_methods[] = {
	"GET", "POST", "DELETE", "PUT", "HEAD", "PATCH", "OPTIONS", "TRACE", "CONNECT",
};

/* Each connection's gate, by its filter: for gate_close_after. */
static struct strmap *gates;
/* Connections refused for the descriptor limit: told at most once a second, with their count. */
static size_t refused;
static time_t refused_at;

static char *
gate_key(const struct bufferevent *bev, char buf[32])
{
	snprintf(buf, 32, "%p", (const void *)bev);
	return buf;
}

/*
 * Whether evhttp still holds the filter. evhttp lets go of it with
 * bufferevent_free, which clears its callbacks (evhttp's error callback is
 * set for the connection's whole life) and drops a reference; libevent
 * finalizes it, and calls gate_free, only later in the loop, so an event of
 * the gate already active (the head's timer, gate_accepted) may run in
 * between. It must not touch the filter then: bufferevent_trigger_event takes
 * and drops a reference, the count goes 0, 1, 0 again, and libevent unlinks
 * and finalizes the filter a second time: the socket's bufferevent is
 * released twice and gate_free runs twice (found by fuzz_serve).
 */
static int
gate_live(const struct gate *g)
{
	bufferevent_event_cb eventcb = NULL;

	bufferevent_getcb(g->bev, NULL, NULL, &eventcb, NULL);
	return eventcb != NULL;
}

static void
gate_close(struct gate *g, const char *why)
{
	if (!gate_live(g))
		return;
	log_debug("connection closed: %s", why);
	g->state = G_DROP;
	/* Deferred: this may run inside the socket's own write. */
	bufferevent_trigger_event(g->bev, BEV_EVENT_EOF | BEV_EVENT_READING,
	    BEV_TRIG_DEFER_CALLBACKS);
}

static void
gate_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gate_close(arg, "no whole request head in time");
}

static void
gate_arm(struct gate *g)
{
	struct timeval tv = { g->srv->cfg->header_timeout_s, 0 };

	if (!evtimer_pending(g->timer, NULL))
		evtimer_add(g->timer, &tv);
}

/* Accepted: another user's connection goes at once; the head's clock starts. */
static void
gate_accepted(evutil_socket_t fd, short what, void *arg)
{
	struct gate *g = arg;
	struct ucred cred;
	socklen_t len = sizeof cred;
	int sock;

	(void)fd;
	(void)what;
	if (!gate_live(g))
		return;
	sock = bufferevent_getfd(g->bev);
	if (sock < 0 || getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    (cred.uid != getuid() && cred.uid != 0)) {
		log_warnx("refused a connection from another user");
		gate_close(g, "another user");
		return;
	}
	/* The descriptors the limit leaves for connections are spent (server.c). */
	if (strmap_count(gates) + g->srv->ntaken > g->srv->fd_conns) {
		refused++;
		if (time(NULL) != refused_at) {
			log_warnx("refused %zu connection(s): %zu open, all the descriptor limit "
			    "leaves", refused, g->srv->fd_conns);
			refused_at = time(NULL);
			refused = 0;
		}
		gate_close(g, "the descriptor limit");
		return;
	}
	gate_arm(g);
}

/* Hands evhttp a request for the internal error route instead, and drops the rest. */
static void
gate_refuse(struct gate *g, struct evbuffer *dst, const char *why, const char *method,
    const char *path)
{
	char *m = evhttp_uriencode(method ? method : "", -1, 0);
	char *p = evhttp_uriencode(path ? path : "", -1, 0);

	evbuffer_add_printf(dst, "GET /v1/_gate/%s?method=%s&path=%s HTTP/1.1\r\nHost: rtcs\r\n"
	    "\r\n", why, m, p);
	free(m);
	free(p);
	g->state = G_DROP;
	g->close_after = 1;
	evtimer_del(g->timer);
}

static int
method_known(const char *m)
{
	size_t i;

	for (i = 0; i < sizeof known_methods / sizeof known_methods[0]; i++)
		if (strcmp(m, known_methods[i]) == 0)
			return 1;
	return 0;
}

/*
 * Whether the head's n bytes end every line with CRLF and hold no NUL: evhttp
 * also ends lines at a bare LF, so a head the gate read one way must not be
 * read another way behind it (a smuggled header).
 */
static int
head_clean(const char *text, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (text[i] == '\0' || (text[i] == '\r' && (i + 1 == n || text[i + 1] != '\n')) ||
		    (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')))
			return 0;
	return 1;
}

/* A whole head (text, NUL-terminated): passed on as it is, or refused. */
static void
gate_head(struct gate *g, struct evbuffer *dst, char *text)
{
	char *line = text, *end = strstr(text, "\r\n"), *sp, *sp2, *h, *next;
	char method[16], *path = NULL;
	struct evbuffer *out;
	uint64_t cl = 0;
	int ncl = 0, chunked = 0, bad = 0, http10, keep = 0, close = 0;

	/* A NUL byte ends the text early: no line end found is a bad request. */
	if (end == NULL) {
		gate_refuse(g, dst, "request", NULL, NULL);
		return;
	}
	*end = '\0';
	if ((sp = strchr(line, ' ')) == NULL || (size_t)(sp - line) >= sizeof method ||
	    (sp2 = strchr(sp + 1, ' ')) == NULL) {
		gate_refuse(g, dst, "request", NULL, NULL);
		return;
	}
	memcpy(method, line, (size_t)(sp - line));
	method[sp - line] = '\0';
	path = xstrndup(sp + 1, strcspn(sp + 1, " ?"));
	http10 = strcmp(sp2 + 1, "HTTP/1.0") == 0;
	/* evhttp sees HTTP/1.1 without Connection: the gate closes when asked (gate_drained). */
	out = evbuffer_new();
	evbuffer_add(out, line, (size_t)(sp2 + 1 - line));
	evbuffer_add_printf(out, "HTTP/1.1\r\n");
	for (h = end + 2; *h != '\0' && strncmp(h, "\r\n", 2) != 0; h = next + 2) {
		if ((next = strstr(h, "\r\n")) == NULL)
			break;
		if (strncasecmp(h, "Connection:", 11) == 0) {
			close |= strcasestr(h, "close") != NULL && strcasestr(h, "close") < next;
			keep |= strcasestr(h, "keep-alive") != NULL && strcasestr(h, "keep-alive") < next;
			continue;
		}
		evbuffer_add(out, h, (size_t)(next + 2 - h));
		if (strncasecmp(h, "Content-Length:", 15) == 0) {
			char *v = h + 15, *e;
			unsigned long long n;
			while (*v == ' ' || *v == '\t')
				v++;
			n = strtoull(v, &e, 10);
			while (*e == ' ' || *e == '\t')
				e++;
			if (!isdigit((unsigned char)*v) || e != next || (ncl > 0 && n != cl))
				bad = 1;
			cl = n;
			ncl++;
		} else if (strncasecmp(h, "Transfer-Encoding:", 18) == 0)
			chunked = 1;
	}
	if (!method_known(method))
		gate_refuse(g, dst, "method", method, path);
	else if (bad)
		gate_refuse(g, dst, "length", method, path);
	else if (chunked)
		gate_refuse(g, dst, "chunked", method, path);
	else if (cl > SERVE_MAX_BODY)
		gate_refuse(g, dst, "too_large", method, path);
	else {
		evbuffer_add(out, "\r\n", 2);
		evbuffer_add_buffer(dst, out);
		g->body_left = cl;
		g->state = cl > 0 ? G_BODY : G_HEAD;
		g->close_after |= close || (http10 && !keep);
		evtimer_del(g->timer);
	}
	evbuffer_free(out);
	free(path);
}

static enum bufferevent_filter_result
gate_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
    enum bufferevent_flush_mode mode, void *arg)
{
	struct gate *g = arg;
	struct evbuffer_ptr p;
	size_t n, hl;
	char *text;

	(void)limit;
	(void)mode;
	while (evbuffer_get_length(src) > 0) {
		switch (g->state) {
		case G_DROP:
			evbuffer_drain(src, evbuffer_get_length(src));
			return BEV_OK;
		case G_BODY:
			n = evbuffer_get_length(src);
			if (n > g->body_left)
				n = (size_t)g->body_left;
			evbuffer_remove_buffer(src, dst, n);
			if ((g->body_left -= n) == 0)
				g->state = G_HEAD;
			break;
		case G_HEAD:
			if (evbuffer_get_length(g->head) == 0)
				gate_arm(g);
			evbuffer_add_buffer(g->head, src);
			p = evbuffer_search(g->head, "\r\n\r\n", 4, NULL);
			if (p.pos < 0) {
				if (evbuffer_get_length(g->head) > SERVE_MAX_HEADERS)
					gate_refuse(g, dst, "head", NULL, NULL);
				return BEV_OK;
			}
			hl = (size_t)p.pos + 4;
			if (hl > SERVE_MAX_HEADERS) {
				gate_refuse(g, dst, "head", NULL, NULL);
				break;
			}
			text = xmalloc(hl + 1);
			evbuffer_remove(g->head, text, hl);
			text[hl] = '\0';
			/* What follows the head is the body, or the next request. */
			evbuffer_prepend_buffer(src, g->head);
			if (!head_clean(text, hl))
				gate_refuse(g, dst, "request", NULL, NULL);
			else
				gate_head(g, dst, text);
			free(text);
			break;
		}
	}
	return BEV_OK;
}

static void
gate_free(void *arg)
{
	struct gate *g = arg;
	char key[32];

	strmap_del(gates, gate_key(g->bev, key));
	evbuffer_remove_cb_entry(bufferevent_get_output(g->under), g->drained);
	event_free(g->accepted);
	event_free(g->timer);
	event_free(g->late);
	evbuffer_free(g->head);
	free(g);
}

/*
 * evhttp writes a reply, then enables writing: a filter does not move what
 * was written while writing was off, so every writer calls this after.
 */
void
gate_flush(struct evhttp_connection *evcon)
{
	struct bufferevent *bev;

	if (evcon == NULL || (bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    bufferevent_get_underlying(bev) == NULL)
		return;
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		bufferevent_flush(bev, EV_WRITE, BEV_NORMAL);
	bufferevent_enable(bufferevent_get_underlying(bev), EV_WRITE);
}

/*
 * What evhttp writes on its own (its error pages, "100 Continue"): flushed a
 * turn later, then the reference gate_out_added took is dropped.
 */
static void
gate_late(evutil_socket_t fd, short what, void *arg)
{
	struct gate *g = arg;

	(void)fd;
	(void)what;
	if (gate_live(g) && evbuffer_get_length(bufferevent_get_output(g->bev)) > 0)
		bufferevent_flush(g->bev, EV_WRITE, BEV_NORMAL);
	if (g->held) {
		g->held = 0;
		bufferevent_decref(g->bev);	/* may free it, outside any of its callbacks */
	}
}

/*
 * While output waits in the filter, the gate holds a reference on it. The
 * socket's bufferevent, once it has written, moves that output on through
 * the filter's write callback, and libevent 2.1.12 runs that callback
 * without a reference of its own: when the output is evhttp's error page
 * (Connection: close), evhttp frees the connection in it, the filter's count
 * reaches 0 and libevent finalizes it, and then re-arms the filter's write
 * timeout on the way out. That timer stays in the loop's heap after the
 * filter's memory is freed, and the loop later crashes on it (found by
 * fuzz_serve). Holding a reference, the filter is finalized only from
 * gate_late or later, and libevent deletes the timer with it.
 */
static void
gate_out_added(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct gate *g = arg;

	(void)buf;
	if (info->n_added == 0)
		return;
	if (!g->held) {
		bufferevent_incref(g->bev);
		g->held = 1;
	}
	event_active(g->late, EV_TIMEOUT, 0);
}

/*
 * A connection to close after its reply: evhttp would free it (and its
 * descriptor) as soon as the reply is in the filter, before it is written;
 * so evhttp keeps it open and the gate closes it once the socket took all.
 */
static void
gate_drained(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct gate *g = arg;

	if (g->close_after && info->n_deleted > 0 && evbuffer_get_length(buf) == 0)
		gate_close(g, "closed after its reply");
}

static struct gate *
gate_of(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	char key[32];

	if (bev == NULL || gates == NULL)
		return NULL;
	return strmap_get(gates, gate_key(bev, key));
}

void
gate_close_after(struct evhttp_connection *evcon)
{
	struct gate *g = gate_of(evcon);

	if (g != NULL)
		g->close_after = 1;
}

void
gate_let_go(struct evhttp_connection *evcon)
{
	struct gate *g = gate_of(evcon);

	if (g == NULL)
		return;
	g->close_after = 0;
	g->state = G_DROP;
	evtimer_del(g->timer);
}

struct bufferevent *
gate_bev(struct event_base *base, void *arg)
{
	struct gate *g = xcalloc(1, sizeof *g);
	struct bufferevent *under;
	char key[32];

	g->srv = arg;
	g->head = evbuffer_new();
	/*
	 * evhttp leaves the descriptor to a bufferevent that closes on free (the
	 * filter), which frees the socket's, which closes it.
	 */
	under = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	g->under = under;
	g->bev = bufferevent_filter_new(under, gate_in, NULL, BEV_OPT_CLOSE_ON_FREE, gate_free, g);
	g->drained = evbuffer_add_cb(bufferevent_get_output(under), gate_drained, g);
	if (gates == NULL)
		gates = strmap_new();
	strmap_put(gates, gate_key(g->bev, key), g);
	g->timer = evtimer_new(base, gate_timeout, g);
	g->late = event_new(base, -1, 0, gate_late, g);
	evbuffer_add_cb(bufferevent_get_output(g->bev), gate_out_added, g);
	/* evhttp gives the filter its descriptor right after this returns. */
	g->accepted = event_new(base, -1, 0, gate_accepted, g);
	event_active(g->accepted, EV_TIMEOUT, 0);
	return g->bev;
}
