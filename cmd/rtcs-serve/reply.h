/*
 * A request being handled and its one reply (the evhttp glue every handler
 * shares): JSON replies and errors, the query, and a core status mapped to
 * an HTTP status and an error code.
 */
#ifndef RTCS_SERVE_REPLY_H
#define RTCS_SERVE_REPLY_H
#include <sys/queue.h>

#include <stdint.h>

#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "server.h"

#define SERVE_MAX_HEADERS	(8 * 1024)
#define SERVE_MAX_BODY		(1024 * 1024)

struct stream;

/* One client connection, known from its first request on. */
struct conn {
	struct server	*srv;
	struct evhttp_connection *evcon;
	char		 key[32];
	struct stream	*stream;
};

/* A connection's key in srv->conns. */
char	*conn_key(const struct evhttp_connection *, char buf[32]);
/* The connections the server holds: evhttp's and the sockets streams took from it. */
size_t	 conn_count(const struct server *);
/* A connection evhttp lets go of (a stream took its socket): no longer counted or watched. */
void	 conn_release(struct server *, struct evhttp_connection *);

/* A request being handled: it lives until its reply (or until a stream takes it). */
struct route;

struct req {
	struct server	*srv;
	struct core	*core;
	struct evhttp_request *r;
	const char	*pattern;	/* its route, for the timing line */
	const char	*param;		/* the {id} of the path, if any */
	char		 parambuf[64];
	const char	*param2;	/* a second "*" of the path (a device name), if any */
	char		 param2buf[64];
	struct evkeyvalq query;
	struct core_channel *ch;	/* the calling device's channel; NULL otherwise */
	struct core_xfer *claim;	/* the transfer whose claim secret was presented */
	struct core_invite *owner;	/* the invite whose owner secret was presented */
	const char	*bearer;	/* the secret presented (claim, owner) */
	unsigned int	 uid;		/* the peer's (SO_PEERCRED) */
	int64_t		 t0;		/* when handling began (ns, monotonic) */
	cJSON		*body;
	const struct route *route;	/* its route (http.c) */
	int		 heard_all;	/* asked again after store_barrier (http.c: hear_all) */
};

/* Each ends the request: the reply is sent, rq freed. */
void	 http_reply(struct req *, int status, cJSON *body);	/* takes body */
void	 http_error(struct req *, int status, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* The core's answer as an error reply (st->err is not CE_OK). */
void	 http_status(struct req *, const struct core_status *, const char *what);
/* A stream took the evhttp request: rq goes, the request stays. */
void	 req_release(struct req *);
void	 req_free(struct req *);

/* Body fields, type-checked: 0 with *out (NULL / *present 0 if absent), or -1 after a 400 naming it. */
int	 body_str(struct req *, const char *key, const char **out);
int	 body_int(struct req *, const char *key, long long min, long long max, int *present,
	    long long *out);

const char *http_query(struct req *, const char *key);
int	 http_query_seq(struct req *, const char *key, uint64_t dflt, uint64_t *out);
int64_t	 now_ms(void);
#endif
