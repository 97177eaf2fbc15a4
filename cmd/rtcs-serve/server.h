/* rtcs-serve's process-wide state: the loop, the socket, the core, the connections. */
#ifndef RTCS_SERVE_SERVER_H
#define RTCS_SERVE_SERVER_H
#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "core.h"

/* Connections accepted in one turn of the loop at most (server.c). */
#define SERVE_ACCEPT_BATCH	16
/* Descriptors kept for the store's own work and the decode workers (server.c). */
#define SERVE_FD_RESERVE	64

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
	size_t		 fd_conns;	/* connections the descriptor limit leaves room for */
	int		 open_logs;	/* the store's open logs at most (0: its default) */
	struct event	*shutdown_ev, *accept_resume, *broken_ev;
	struct event	*accept_turn;	/* the loop turn's accepts are counted (server.c) */
	int		 accepted;	/* connections accepted this turn */
	int		 accept_paced;	/* the listener waits for the next turn */
	struct event	*sig_term, *sig_int, *sig_hup;
};

int	 server_run(struct server *, char **cause, int *exitcode);
#endif
