/*
 * Requests: the route table (who may call what), peer credentials, bodies,
 * authentication, JSON replies and errors, and replies held for the group commit.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "hash.h"
#include "json.h"
#include "log.h"
#include "serve.h"
#include "xmalloc.h"

enum auth {
	AUTH_ANY,		/* anyone on the socket; a token, if sent, must be valid */
	AUTH_OPERATOR,		/* no token */
	AUTH_DEVICE,		/* a channel token of the session in the path */
	AUTH_OPERATOR_OR_DEVICE,
	AUTH_XFER,		/* transfers and invites: a channel token of any session,
				   a claim or invite owner secret, or none; the handler
				   decides who is involved */
};

struct route {
	enum evhttp_cmd_type method;
	const char *pattern;	/* "*" matches one path segment: the {id} */
	enum auth auth;
	void	(*fn)(struct req *);
};

/* Every endpoint and who may call it; handlers check nothing of this again. */
static const struct route routes[] = {
	{ EVHTTP_REQ_GET,    "/v1/version",			AUTH_ANY,		api_version },
	{ EVHTTP_REQ_GET,    "/v1/health",			AUTH_ANY,		api_health },
	{ EVHTTP_REQ_POST,   "/v1/sessions",			AUTH_OPERATOR,		api_session_create },
	{ EVHTTP_REQ_GET,    "/v1/sessions",			AUTH_OPERATOR,		api_session_list },
	{ EVHTTP_REQ_GET,    "/v1/sessions/*",			AUTH_OPERATOR_OR_DEVICE, api_session_show },
	{ EVHTTP_REQ_DELETE, "/v1/sessions/*",			AUTH_OPERATOR,		api_session_end },
	{ EVHTTP_REQ_POST,   "/v1/sessions/*/participants",	AUTH_OPERATOR,		api_participant_add },
	{ EVHTTP_REQ_POST,   "/v1/sessions/*/messages",		AUTH_DEVICE,		api_message_send },
	{ EVHTTP_REQ_GET,    "/v1/sessions/*/stream",		AUTH_DEVICE,		api_stream },
	{ EVHTTP_REQ_GET,    "/v1/sessions/*/log",		AUTH_OPERATOR,		api_session_log },
	{ EVHTTP_REQ_GET,    "/v1/events",			AUTH_OPERATOR,		api_events },
	{ EVHTTP_REQ_POST,   "/v1/transfers",			AUTH_XFER,		api_transfer_create },
	{ EVHTTP_REQ_GET,    "/v1/transfers",			AUTH_OPERATOR,		api_transfer_list },
	{ EVHTTP_REQ_GET,    "/v1/transfers/*",			AUTH_XFER,		api_transfer_show },
	{ EVHTTP_REQ_DELETE, "/v1/transfers/*",			AUTH_XFER,		api_transfer_cancel },
	{ EVHTTP_REQ_POST,   "/v1/transfers/*/image",		AUTH_XFER,		api_transfer_image },
	{ EVHTTP_REQ_POST,   "/v1/transfers/*/confirm",		AUTH_XFER,		api_transfer_confirm },
	{ EVHTTP_REQ_POST,   "/v1/transfers/*/reject",		AUTH_XFER,		api_transfer_reject },
	{ EVHTTP_REQ_GET,    "/v1/transfers/*/token",		AUTH_XFER,		api_transfer_token },
	{ EVHTTP_REQ_POST,   "/v1/invites",			AUTH_OPERATOR,		api_invite_create },
	{ EVHTTP_REQ_POST,   "/v1/invites/*/scan",		AUTH_XFER,		api_invite_scan },
	{ EVHTTP_REQ_GET,    "/v1/invites/*/sessions",		AUTH_XFER,		api_invite_sessions },
};

static const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Internal Server Error" : "Error";
	}
}

/* Sends now; a request whose client has gone is freed by evhttp_send_reply. */
static void
http_send(struct evhttp_request *r, int status, struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r);

	if (evhttp_find_header(h, "Content-Type") == NULL)
		evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_send_reply(r, status, http_reason(status), body);
	evbuffer_free(body);
}

/*
 * Every reply goes through here: while writes wait for the group commit, the
 * reply waits with them (an acknowledgement is never ahead of durability).
 */
void
http_reply_raw(struct server *srv, struct evhttp_request *r, int status, struct evbuffer *body)
{
	struct pending *p;

	if (!store_pending(srv->store)) {
		http_send(r, status, body);
		return;
	}
	p = xcalloc(1, sizeof *p);
	p->req = r;
	p->status = status;
	p->body = body;
	TAILQ_INSERT_TAIL(&srv->pending, p, entry);
	server_commit_soon(srv);
}

void
http_flush_pending(struct server *srv)
{
	struct pending *p;

	while ((p = TAILQ_FIRST(&srv->pending)) != NULL) {
		TAILQ_REMOVE(&srv->pending, p, entry);
		http_send(p->req, p->status, p->body);
		free(p);
	}
}

void
http_reply(struct req *rq, int status, cJSON *body)
{
	struct evbuffer *b = evbuffer_new();
	char *text = json_print(body);

	evbuffer_add(b, text, strlen(text));
	evbuffer_add(b, "\n", 1);
	free(text);
	cJSON_Delete(body);
	http_reply_raw(rq->srv, rq->r, status, b);
}

static void
http_verror(struct server *srv, struct evhttp_request *r, int status, const char *code,
    const char *fmt, va_list ap)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
	struct evbuffer *b = evbuffer_new();
	char *msg, *text;

	xvasprintf(&msg, fmt, ap);
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	text = json_print(o);
	evbuffer_add(b, text, strlen(text));
	evbuffer_add(b, "\n", 1);
	log_debug("%d %s: %s", status, code, msg);
	free(text);
	free(msg);
	cJSON_Delete(o);
	http_reply_raw(srv, r, status, b);
}

void
http_error(struct req *rq, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_verror(rq->srv, rq->r, status, code, fmt, ap);
	va_end(ap);
}

static void
http_error_r(struct server *srv, struct evhttp_request *r, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
http_error_r(struct server *srv, struct evhttp_request *r, int status, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_verror(srv, r, status, code, fmt, ap);
	va_end(ap);
}

const char *
http_query(struct req *rq, const char *key)
{
	return evhttp_find_header(&rq->query, key);
}

/* A sequence number from the query string; 0 if absent (then *out = dflt). */
int
http_query_seq(struct req *rq, const char *key, uint64_t dflt, uint64_t *out)
{
	const char *v = http_query(rq, key);
	char *end;
	unsigned long long n;

	*out = dflt;
	if (v == NULL)
		return 0;
	if (*v < '0' || *v > '9' || strlen(v) > 19) {
		http_error(rq, 400, "bad_field", "%s must be a non-negative integer", key);
		return -1;
	}
	n = strtoull(v, &end, 10);
	if (*end != '\0') {
		http_error(rq, 400, "bad_field", "%s must be a non-negative integer", key);
		return -1;
	}
	*out = n;
	return 0;
}

/* Matches path against pattern, copying the "*" segment into rq->parambuf. */
static int
route_match(const char *pattern, const char *path, struct req *rq)
{
	const char *p = pattern, *s = path;
	size_t n;

	while (*p != '\0') {
		if (*p == '*') {
			n = strcspn(s, "/");
			if (n == 0 || n >= sizeof rq->parambuf)
				return 0;
			memcpy(rq->parambuf, s, n);
			rq->parambuf[n] = '\0';
			rq->param = rq->parambuf;
			s += n;
			p++;
			continue;
		}
		if (*p++ != *s++)
			return 0;
	}
	return *s == '\0';
}

/* The route for the request: NULL with *path_known set when only the method is wrong. */
static const struct route *
route_find(struct req *rq, const char *path, int *path_known)
{
	size_t i;

	*path_known = 0;
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (!route_match(routes[i].pattern, path, rq))
			continue;
		*path_known = 1;
		if (routes[i].method == evhttp_request_get_command(rq->r))
			return &routes[i];
	}
	rq->param = NULL;
	return NULL;
}

/* Applies the route's rule; 0 if the call may go on (rq->ch set for devices). */
static int
http_auth(struct req *rq, const struct route *rt)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(rq->r),
	    "Authorization");
	char hex[HASH_HEX_LEN + 1];
	const char *tok;

	if (h == NULL) {
		if (rt->auth == AUTH_DEVICE) {
			http_error(rq, 401, "unauthorized", "this call needs a device token");
			return -1;
		}
		return 0;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		http_error(rq, 401, "unauthorized", "Authorization must be \"Bearer TOKEN\"");
		return -1;
	}
	for (tok = h + 7; *tok == ' '; tok++)
		;
	hash_hex(tok, strlen(tok), hex);
	rq->ch = strmap_get(rq->srv->tokens, hex);
	if (rq->ch == NULL && rt->auth == AUTH_XFER) {
		/* A claim or an invite owner's secret: the second kind of bearer. */
		rq->claim = strmap_get(rq->srv->claims, hex);
		rq->owner = rq->claim == NULL ? strmap_get(rq->srv->owners, hex) : NULL;
		if (rq->claim != NULL || rq->owner != NULL) {
			rq->bearer = tok;
			return 0;
		}
	}
	if (rq->ch == NULL) {
		http_error(rq, 401, "unauthorized", "unknown or revoked token");
		return -1;
	}
	if (rt->auth == AUTH_OPERATOR) {
		http_error(rq, 403, "forbidden", "this call is for the operator only");
		return -1;
	}
	if ((rt->auth == AUTH_DEVICE || rt->auth == AUTH_OPERATOR_OR_DEVICE) &&
	    rq->param != NULL && strcmp(rq->param, rq->ch->session->id) != 0) {
		http_error(rq, 403, "forbidden", "the token is not one of session %s", rq->param);
		return -1;
	}
	return 0;
}

/* Bodies are JSON objects; curl's default form type is taken as JSON too. */
static int
http_body(struct req *rq)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(rq->r);
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(rq->r),
	    "Content-Type");
	size_t len = evbuffer_get_length(in), n;
	char *cause = NULL;

	if (len > SERVE_MAX_BODY) {
		http_error(rq, 413, "too_large", "body over %d bytes", SERVE_MAX_BODY);
		return -1;
	}
	if (ct != NULL) {
		n = strcspn(ct, "; ");
		if (!(n == 16 && strncasecmp(ct, "application/json", n) == 0) &&
		    !(n == 33 && strncasecmp(ct, "application/x-www-form-urlencoded", n) == 0)) {
			http_error(rq, 415, "unsupported_media_type",
			    "bodies are JSON (Content-Type: application/json)");
			return -1;
		}
	}
	rq->body = json_parse_object((const char *)evbuffer_pullup(in, -1), len, &cause);
	if (rq->body == NULL) {
		http_error(rq, 400, "bad_json", "%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Only the server's own user (or root) may talk to it, checked per request. */
static int
http_peer_ok(struct evhttp_request *r, unsigned int *uid)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r);
	static uid_t self = (uid_t)-1;
	struct ucred cred;
	socklen_t len = sizeof cred;
	int fd;

	if (evcon == NULL)
		return 0;
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return 0;
	*uid = cred.uid;
	if (self == (uid_t)-1)
		self = getuid();	/* once: this runs for every request */
	return cred.uid == self || cred.uid == 0;
}

/* The first request of a connection registers it (counted, capped, watched for close). */
static int
http_conn(struct server *srv, struct evhttp_request *r)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r);
	struct conn *c;
	char key[32];

	snprintf(key, sizeof key, "%p", (void *)evcon);
	if (strmap_get(srv->conns, key) != NULL)
		return 0;
	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->evcon = evcon;
	memcpy(c->key, key, sizeof key);
	strmap_put(srv->conns, key, c);
	evhttp_connection_set_closecb(evcon, conn_closed, c);
	if ((int)strmap_count(srv->conns) > srv->cfg->max_connections) {
		evhttp_add_header(evhttp_request_get_output_headers(r), "Connection", "close");
		http_error_r(srv, r, 503, "unavailable", "too many connections");
		return -1;
	}
	return 0;
}

void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;

	(void)evcon;
	if (c->stream != NULL)
		stream_drop(c->stream);
	strmap_del(c->srv->conns, c->key);
	free(c);
}

static const char *
http_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

/* The server-side time of a call, at debug level (for measuring transfers). */
static void
http_timing(struct req *rq, const char *pattern)
{
	struct timespec t1;
	int64_t ns;

	if (log_get_level() < LOG_LEVEL_DEBUG)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (int64_t)t1.tv_sec * 1000000000 + t1.tv_nsec - rq->t0;
	log_debug("%s %s: %lld us", http_method_name(evhttp_request_get_command(rq->r)),
	    pattern, (long long)(ns / 1000));
}

void
http_dispatch(struct evhttp_request *r, void *arg)
{
	struct server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL, *q;
	const struct route *rt;
	struct req rq;
	struct timespec t0;
	unsigned int uid = 0;
	int known;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!http_peer_ok(r, &uid)) {
		log_warnx("refused a request from another user");
		evhttp_add_header(evhttp_request_get_output_headers(r), "Connection", "close");
		http_error_r(srv, r, 403, "forbidden", "not the server's user");
		return;
	}
	if (http_conn(srv, r) != 0)
		return;
	if (srv->stopping) {
		evhttp_add_header(evhttp_request_get_output_headers(r), "Connection", "close");
		http_error_r(srv, r, 503, "unavailable", "the server is stopping");
		return;
	}
	memset(&rq, 0, sizeof rq);
	rq.srv = srv;
	rq.r = r;
	rq.uid = uid;
	rq.t0 = (int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec;
	TAILQ_INIT(&rq.query);
	if (path == NULL || *path == '\0') {
		http_error(&rq, 400, "bad_request", "no path");
		return;
	}
	log_debug("%s %s", http_method_name(evhttp_request_get_command(r)),
	    evhttp_request_get_uri(r));
	if ((rt = route_find(&rq, path, &known)) == NULL) {
		if (known)
			http_error(&rq, 405, "method_not_allowed", "method not allowed on %s", path);
		else
			http_error(&rq, 404, "not_found", "no such resource: %s", path);
		return;
	}
	q = evhttp_uri_get_query(uri);
	if (q != NULL && evhttp_parse_query_str(q, &rq.query) != 0) {
		http_error(&rq, 400, "bad_request", "malformed query string");
		return;
	}
	if (http_auth(&rq, rt) == 0 &&
	    (rt->method != EVHTTP_REQ_POST || http_body(&rq) == 0))
		rt->fn(&rq);
	http_timing(&rq, rt->pattern);
	cJSON_Delete(rq.body);
	evhttp_clear_headers(&rq.query);
}
