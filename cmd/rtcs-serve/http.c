/*
 * Requests in: the route table with each route's whole permission rule,
 * peer credentials, authentication, bodies, connections; then the handler.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "api.h"
#include "gate.h"
#include "hash.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "stream.h"
#include "xmalloc.h"

/* Who may call: any of these bits. */
#define W_OPERATOR	0x01	/* no Authorization: the socket's own user */
#define W_SESSION	0x02	/* a channel token of the session in the path */
#define W_CHANNEL	0x04	/* a channel token of any session */
#define W_CLAIM		0x08	/* the claim secret of the transfer in the path */
#define W_OWNER		0x10	/* the owner secret of the invite in the path */
#define W_ANON		0x20	/* no Authorization, as an unknown device */
#define W_ANY		0x3f

/* What the caller must be to the object in the path. */
enum rule {
	R_NONE,
	R_XFER_INVOLVED,	/* a channel of its session, its origin, a confirmer, its new channel */
	R_XFER_ORIGIN,		/* a channel: only its origin */
	R_XFER_DISPLAYER,	/* a push's origin channel, a pull's claim; else as unknown */
	R_HEAR_FIRST,		/* several nodes: every write etcd acknowledged is heard first */
};

struct route {
	enum evhttp_cmd_type method;
	const char	*pattern;	/* "*" matches one path segment: the {id} */
	int		 who;
	enum rule	 rule;
	void		(*fn)(struct req *);
};

static void api_gate(struct req *);
static int route_match(const char *, const char *, struct req *);

/* Every endpoint and who may call it; handlers check none of this again. */
static const struct route routes[] = {
	{ EVHTTP_REQ_GET,    "/v1/version",		W_ANY, R_NONE, api_version },
	{ EVHTTP_REQ_GET,    "/v1/health",		W_ANY, R_NONE, api_health },
	{ EVHTTP_REQ_POST,   "/v1/sessions",		W_OPERATOR, R_NONE, api_session_create },
	{ EVHTTP_REQ_GET,    "/v1/sessions",		W_OPERATOR, R_NONE, api_session_list },
	{ EVHTTP_REQ_GET,    "/v1/sessions/*",		W_OPERATOR | W_SESSION, R_NONE, api_session_show },
	{ EVHTTP_REQ_DELETE, "/v1/sessions/*",		W_OPERATOR, R_NONE, api_session_end },
	{ EVHTTP_REQ_POST,   "/v1/sessions/*/participants", W_OPERATOR, R_NONE, api_participant_add },
	{ EVHTTP_REQ_GET,    "/v1/sessions/*/devices",	W_OPERATOR | W_SESSION, R_NONE, api_devices },
	{ EVHTTP_REQ_DELETE, "/v1/sessions/*/devices/*", W_OPERATOR, R_NONE, api_device_unlink },
	{ EVHTTP_REQ_POST,   "/v1/sessions/*/messages",	W_SESSION, R_NONE, api_message_send },
	{ EVHTTP_REQ_GET,    "/v1/sessions/*/stream",	W_SESSION, R_NONE, api_stream },
	{ EVHTTP_REQ_POST,   "/v1/sessions/*/media",	W_SESSION, R_NONE, api_media_send },
	{ EVHTTP_REQ_GET,    "/v1/sessions/*/media",	W_OPERATOR | W_SESSION, R_NONE, api_media_show },
	{ EVHTTP_REQ_GET,    "/v1/sessions/*/log",	W_OPERATOR, R_NONE, api_session_log },
	{ EVHTTP_REQ_GET,    "/v1/events",		W_OPERATOR, R_NONE, api_events },
	{ EVHTTP_REQ_POST,   "/v1/transfers",		W_CHANNEL | W_ANON, R_NONE, api_transfer_create },
	{ EVHTTP_REQ_GET,    "/v1/transfers",		W_OPERATOR, R_NONE, api_transfer_list },
	{ EVHTTP_REQ_GET,    "/v1/transfers/*",		W_OPERATOR | W_CHANNEL | W_CLAIM,
	    R_XFER_INVOLVED, api_transfer_show },
	{ EVHTTP_REQ_DELETE, "/v1/transfers/*",		W_OPERATOR | W_CHANNEL, R_XFER_ORIGIN,
	    api_transfer_cancel },
	{ EVHTTP_REQ_POST,   "/v1/transfers/*/image",	W_CHANNEL | W_CLAIM | W_ANON, R_NONE,
	    api_transfer_image },
	{ EVHTTP_REQ_POST,   "/v1/transfers/*/confirm",	W_CHANNEL, R_NONE, api_transfer_confirm },
	{ EVHTTP_REQ_POST,   "/v1/transfers/*/reject",	W_CHANNEL | W_CLAIM, R_NONE, api_transfer_reject },
	{ EVHTTP_REQ_GET,    "/v1/transfers/*/token",	W_CLAIM, R_NONE, api_transfer_token },
	{ EVHTTP_REQ_GET,    "/v1/transfers/*/code",	W_OPERATOR | W_CHANNEL | W_CLAIM | W_ANON,
	    R_XFER_DISPLAYER, api_transfer_code },
	{ EVHTTP_REQ_POST,   "/v1/invites",		W_OPERATOR, R_NONE, api_invite_create },
	{ EVHTTP_REQ_GET,    "/v1/invites",		W_OPERATOR, R_NONE, api_invite_list },
	{ EVHTTP_REQ_DELETE, "/v1/invites/*",		W_OPERATOR, R_NONE, api_invite_revoke },
	{ EVHTTP_REQ_POST,   "/v1/invites/*/scan",	W_ANON, R_HEAR_FIRST, api_invite_scan },
	{ EVHTTP_REQ_GET,    "/v1/invites/*/sessions",	W_OWNER, R_NONE, api_invite_sessions },
	/* What the gate (gate.c) refused, as JSON. */
	{ EVHTTP_REQ_GET,    "/v1/_gate/*",		W_ANY, R_NONE, api_gate },
};

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "OTHER";
	}
}

/* The methods path takes, for an Allow header ("" if none). */
static void
route_allow(const char *path, char *buf, size_t len)
{
	struct req scratch;
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		memset(&scratch, 0, sizeof scratch);
		if (routes[i].fn == api_gate || !route_match(routes[i].pattern, path, &scratch) ||
		    strstr(buf, method_name(routes[i].method)) != NULL)
			continue;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? ", " : "",
		    method_name(routes[i].method));
	}
}

static void
reply_405(struct req *rq, const char *method, const char *path)
{
	char allow[64];

	route_allow(path, allow, sizeof allow);
	if (allow[0] == '\0') {
		http_error(rq, 404, "not_found", "no such resource: %s", path);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(rq->r), "Allow", allow);
	http_error(rq, 405, "method_not_allowed", "%s is not allowed on %s (Allow: %s)", method,
	    path, allow);
}

/* The gate's refusals: the connection closes after the answer. */
static void
api_gate(struct req *rq)
{
	const char *why = rq->param, *method = http_query(rq, "method");
	const char *path = http_query(rq, "path");

	gate_close_after(evhttp_request_get_connection(rq->r));
	if (strcmp(why, "method") == 0)
		reply_405(rq, method ? method : "?", path ? path : "/");
	else if (strcmp(why, "length") == 0)
		http_error(rq, 400, "bad_request", "duplicate or malformed Content-Length");
	else if (strcmp(why, "chunked") == 0)
		http_error(rq, 400, "bad_request", "chunked request bodies are not taken: send "
		    "Content-Length");
	else if (strcmp(why, "too_large") == 0)
		http_error(rq, 413, "too_large", "body over %d bytes", SERVE_MAX_BODY);
	else if (strcmp(why, "head") == 0)
		http_error(rq, 431, "too_large", "request head over %d bytes, request line included",
		    SERVE_MAX_HEADERS);
	else
		http_error(rq, 400, "bad_request", "malformed request line");
}

/* Matches path against pattern, copying the "*" segments into rq->parambuf, param2buf. */
static int
route_match(const char *pattern, const char *path, struct req *rq)
{
	const char *p = pattern, *s = path;
	char *buf;
	size_t n;
	int nth = 0;

	while (*p != '\0') {
		if (*p == '*') {
			n = strcspn(s, "/");
			buf = nth++ == 0 ? rq->parambuf : rq->param2buf;
			if (n == 0 || n >= sizeof rq->parambuf || nth > 2)
				return 0;
			memcpy(buf, s, n);
			buf[n] = '\0';
			if (nth == 1)
				rq->param = rq->parambuf;
			else
				rq->param2 = rq->param2buf;
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
	rq->param2 = NULL;
	return NULL;
}

static int
deny(struct req *rq, int status, const char *what, const char *id)
{
	http_error(rq, status, status == 401 ? "unauthorized" : "forbidden", "%s%s", what,
	    id != NULL ? id : "");
	return -1;
}

/*
 * Who may see a transfer's code in clear: its displayer only. Anyone else,
 * operator included, is told what an unknown id gets, and it is a failed guess.
 */
static int
route_displayer(struct req *rq)
{
	struct core_xfer *x = core_xfer_find(rq->core, rq->param);

	if (http_rate_limited(rq, x))
		return -1;
	if (x != NULL && x->t.dir == TD_PUSH && rq->ch != NULL &&
	    strcmp(rq->ch->id, x->t.origin_channel) == 0)
		return 0;
	if (x != NULL && x->t.dir == TD_PULL && rq->claim == x)
		return 0;
	ratelimit_fail(rq);
	http_error(rq, 404, "not_found", "no transfer %s", rq->param);
	return -1;
}

/* The route's object rule, for a caller with a channel token. */
static int
route_rule(struct req *rq, const struct route *rt)
{
	struct core_xfer *x;

	if (rt->rule == R_XFER_DISPLAYER)
		return route_displayer(rq);
	if (rt->rule == R_NONE || rt->rule == R_HEAR_FIRST || rq->ch == NULL)
		return 0;
	if ((x = core_xfer_find(rq->core, rq->param)) == NULL) {
		http_error(rq, 404, "not_found", "no transfer %s", rq->param);
		return -1;
	}
	/* A device that plays no part in it is told what an unknown id gets (design.md 8.1). */
	if (strcmp(x->t.session, rq->ch->session->id) != 0 && !transfer_involves(&x->t, rq->ch->id)) {
		http_error(rq, 404, "not_found", "no transfer %s", rq->param);
		return -1;
	}
	if (rt->rule == R_XFER_ORIGIN && strcmp(rq->ch->id, x->t.origin_channel) != 0)
		return deny(rq, 403, "only the operator or the origin may do this to ", x->t.id);
	return 0;
}

static void	auth_again(void *, enum store_err, const char *);
static int	hear_all(struct req *);

/*
 * Applies the route's whole rule: 0 if the call may go on (rq->ch, claim,
 * owner set), -1 once answered, 1 if it is asked again later (auth_again).
 */
static int
http_auth(struct req *rq, const struct route *rt)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(rq->r),
	    "Authorization");
	const char *tok;

	if (h == NULL) {
		if (!(rt->who & (W_OPERATOR | W_ANON)))
			return deny(rq, 401, "this call needs a token", NULL);
		return rt->rule == R_XFER_DISPLAYER ? route_displayer(rq) : 0;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return deny(rq, 401, "Authorization must be \"Bearer TOKEN\"", NULL);
	for (tok = h + 7; *tok == ' '; tok++)
		;
	if ((rq->ch = core_channel_by_token(rq->core, tok)) != NULL) {
		if (!(rt->who & (W_SESSION | W_CHANNEL)))
			return deny(rq, 403, "this call does not take a device's token", NULL);
		if (!(rt->who & W_CHANNEL) && rq->param != NULL &&
		    strcmp(rq->param, rq->ch->session->id) != 0)
			return deny(rq, 403, "the token is not one of session ", rq->param);
		/* A token a transfer or an invite left to collect is collected now. */
		core_channel_used(rq->core, rq->ch);
		return route_rule(rq, rt);
	}
	if ((rt->who & W_CLAIM) && (rq->claim = core_xfer_by_claim(rq->core, tok)) != NULL) {
		if (rq->param != NULL && strcmp(rq->param, rq->claim->t.id) != 0) {
			http_error(rq, 404, "not_found", "no transfer %s", rq->param);
			return -1;
		}
		rq->bearer = tok;
		return rt->rule == R_XFER_DISPLAYER ? route_displayer(rq) : 0;
	}
	if ((rt->who & W_OWNER) && (rq->owner = core_invite_by_owner(rq->core, tok)) != NULL) {
		if (rq->param != NULL && strcmp(rq->param, rq->owner->id) != 0)
			return deny(rq, 403, "this secret is not one of invite ", rq->param);
		rq->bearer = tok;
		return 0;
	}
	if (core_xfer_by_claim(rq->core, tok) != NULL || core_invite_by_owner(rq->core, tok) != NULL)
		return deny(rq, 403, "this secret does not open this call", NULL);
	/* Another server may have just issued it: asked again once this one has heard all. */
	if (hear_all(rq))
		return 1;
	return deny(rq, 401, "unknown or revoked token", NULL);
}

/*
 * What this server does not know, another may have just made (a token, a
 * session, a transfer, an invite): the request is asked again once this one
 * has heard every write etcd had acknowledged (store_barrier), at most once.
 * 1 if so; 0 on a store of one server, or when it was asked again already.
 */
static int
hear_all(struct req *rq)
{
	if (rq->heard_all || !store_shared(rq->srv->store))
		return 0;
	rq->heard_all = 1;
	store_barrier(rq->srv->store, auth_again, rq);
	return 1;
}

/*
 * Before the call: the session, transfer or invite the path names is unknown
 * here, or the route decides on what another node may have just changed
 * without its write checking it (R_HEAR_FIRST: an invite's scan, which a
 * revocation must stop). 1 if asked again later.
 */
static int
path_unheard(struct req *rq, const struct route *rt)
{
	const char *p = rt->pattern;
	int known;

	if (rq->heard_all || rq->param == NULL || !store_shared(rq->srv->store))
		return 0;
	/* A call that needs a token and has none is refused (401) with nothing to hear. */
	if (!(rt->who & (W_OPERATOR | W_ANON)) &&
	    evhttp_find_header(evhttp_request_get_input_headers(rq->r), "Authorization") == NULL)
		return 0;
	if (rt->rule == R_HEAR_FIRST)
		known = 0;
	else if (strncmp(p, "/v1/sessions/", 13) == 0)
		known = core_session_find(rq->core, rq->param) != NULL;
	else if (strncmp(p, "/v1/transfers/", 14) == 0)
		known = core_xfer_find(rq->core, rq->param) != NULL;
	else if (strncmp(p, "/v1/invites/", 12) == 0)
		known = core_invite_find(rq->core, rq->param) != NULL;
	else
		return 0;
	return !known && hear_all(rq);
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

static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;

	(void)evcon;
	if (c->stream != NULL)
		stream_drop(c->stream);
	strmap_del(c->srv->conns, c->key);
	free(c);
}

/*
 * The first request of a connection registers it (counted, capped, watched
 * for close). The cap counts the sockets streams took from evhttp too.
 */
static int
http_conn(struct req *rq)
{
	struct server *srv = rq->srv;
	struct evhttp_connection *evcon = evhttp_request_get_connection(rq->r);
	struct conn *c;
	char key[32];

	if (strmap_get(srv->conns, conn_key(evcon, key)) != NULL)
		return 0;
	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->evcon = evcon;
	memcpy(c->key, key, sizeof key);
	strmap_put(srv->conns, key, c);
	evhttp_connection_set_closecb(evcon, conn_closed, c);
	if (conn_count(srv) > (size_t)srv->cfg->max_connections) {
		gate_close_after(evhttp_request_get_connection(rq->r));
		http_error(rq, 503, "unavailable", "too many connections");
		return -1;
	}
	return 0;
}

/* A call that comes, or would go on, while the server stops: 503, and its connection closes. */
static int
refused_stopping(struct req *rq)
{
	if (!rq->srv->stopping)
		return 0;
	gate_close_after(evhttp_request_get_connection(rq->r));
	http_error(rq, 503, "unavailable", "the server is stopping");
	return 1;
}

/* The rest of a call once its route (rq->route) is found: who calls, the body, the handler. */
static void
dispatch_authed(struct req *rq)
{
	const struct route *rt = rq->route;

	if (path_unheard(rq, rt) || http_auth(rq, rt) != 0)
		return;
	if (rt->method == EVHTTP_REQ_POST && http_body(rq) != 0)
		return;
	rt->fn(rq);
}

static void
auth_again(void *arg, enum store_err err, const char *cause)
{
	struct req *rq = arg;

	if (refused_stopping(rq))
		return;
	if (err != STORE_OK && rq->route->rule == R_HEAR_FIRST) {
		/* What it decides on must be all that was acknowledged: not on less. */
		http_error(rq, 503, "unavailable", "this server cannot hear the other servers' "
		    "writes now (%s): try again, or another one", cause);
		return;
	}
	if (err != STORE_OK)
		log_debug("an unknown token or id, looked up again without the store's barrier: %s",
		    cause);
	dispatch_authed(rq);
}

void
http_dispatch(struct evhttp_request *r, void *arg)
{
	struct server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL, *q;
	const struct route *rt;
	struct req *rq = xcalloc(1, sizeof *rq);
	struct timespec t0;
	int known;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rq->srv = srv;
	rq->core = &srv->core;
	rq->r = r;
	rq->t0 = (int64_t)t0.tv_sec * 1000000000 + t0.tv_nsec;
	TAILQ_INIT(&rq->query);
	if (!http_peer_ok(r, &rq->uid)) {
		log_warnx("refused a request from another user");
		gate_close_after(evhttp_request_get_connection(r));
		http_error(rq, 403, "forbidden", "not the server's user");
		return;
	}
	if (http_conn(rq) != 0)
		return;
	if (refused_stopping(rq))
		return;
	if (path == NULL || *path == '\0') {
		http_error(rq, 400, "bad_request", "no path");
		return;
	}
	log_debug("%s %s", evhttp_request_get_command(r) == EVHTTP_REQ_GET ? "GET" : "REQ",
	    evhttp_request_get_uri(r));
	if ((rt = route_find(rq, path, &known)) == NULL) {
		if (known)
			reply_405(rq, evhttp_request_get_command(r) == EVHTTP_REQ_GET ? "GET" :
			    evhttp_request_get_command(r) == EVHTTP_REQ_POST ? "POST" :
			    evhttp_request_get_command(r) == EVHTTP_REQ_DELETE ? "DELETE" : "this method",
			    path);
		else
			http_error(rq, 404, "not_found", "no such resource: %s", path);
		return;
	}
	rq->pattern = rt->pattern;
	q = evhttp_uri_get_query(uri);
	if (q != NULL && evhttp_parse_query_str(q, &rq->query) != 0) {
		http_error(rq, 400, "bad_request", "malformed query string");
		return;
	}
	/* A shared store out of reach: nothing but what describes this server is answered. */
	if (rt->fn != api_health && rt->fn != api_version && !store_available(rq->srv->store)) {
		http_error(rq, 503, "unavailable", "the store (%s) cannot be reached from this "
		    "server: try another one", store_where(rq->srv->store));
		return;
	}
	/* Near the store's quota: what only grows it is refused before the store must be. */
	if ((rt->fn == api_session_create || rt->fn == api_transfer_create ||
	    rt->fn == api_invite_create) && store_full_soon(rq->srv->store)) {
		http_error(rq, 503, "store_full", "the store (%s) is near its quota: nothing new is "
		    "begun until it is compacted", store_where(rq->srv->store));
		return;
	}
	rq->route = rt;
	dispatch_authed(rq);
}
