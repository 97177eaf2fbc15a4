/* The gate in front of evhttp on every connection (gate.c). */
#ifndef RTCS_SERVE_GATE_H
#define RTCS_SERVE_GATE_H
struct bufferevent;
struct event_base;
struct evhttp_connection;

/* evhttp_set_bevcb's callback: the filter every connection reads through (arg: the server). */
struct bufferevent *gate_bev(struct event_base *, void *arg);
/* Moves what evhttp just wrote through the filter to the socket (see gate.c). */
void	 gate_flush(struct evhttp_connection *);
/* Closes the connection once its reply has left (instead of "Connection: close"). */
void	 gate_close_after(struct evhttp_connection *);
/* A stream took the socket (chunked.c): the gate neither reads nor closes any more. */
void	 gate_let_go(struct evhttp_connection *);
#endif
