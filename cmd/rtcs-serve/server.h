/* rtcs-serve's process-wide state: the loop, the socket, the core, the connections. */
#ifndef RTCS_SERVE_SERVER_H
#define RTCS_SERVE_SERVER_H
#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "core.h"

struct decode_pool;

struct server {
	struct config	*cfg;
	struct event_base *base;
	struct evhttp	*http;
	struct evhttp_bound_socket *bound;
	struct store	*store;
	struct core	 core;
	int		 lockfd;
	int64_t		 started_ms;
	int		 stopping;
	int		 exitcode;	/* set when it stops on its own (the store broke) */
	struct strmap	*conns;		/* "%p" of evcon -> conn */
	struct strmap	*fails;		/* rate limit: peer uid -> failures */
	struct decode_pool *decode;	/* uploaded images (decode.c) */
	size_t		 nstreams;
	size_t		 ntaken;	/* sockets streams took from evhttp (chunked.c) */
	struct event	*shutdown_ev, *accept_resume, *broken_ev;
	struct event	*sig_term, *sig_int, *sig_hup;
};

int	 server_run(struct server *, char **cause, int *exitcode);
#endif
