/* A chunked reply on a socket taken from evhttp (chunked.c): a device's stream. */
#ifndef RTCS_SERVE_CHUNKED_H
#define RTCS_SERVE_CHUNKED_H
#include <stddef.h>

struct evbuffer;
struct evhttp_request;
struct server;
struct chunked;

/*
 * Takes r's socket from evhttp and starts a 200 reply of this Content-Type
 * on it; NULL if it cannot (no descriptor left): the caller answers through
 * evhttp instead. lost(arg, why) is called once if the reader goes (closed,
 * an error, or nothing taken for --idle-timeout) before chunked_end; the
 * reply is freed after it.
 */
struct chunked *chunked_take(struct server *, struct evhttp_request *r, const char *type,
	    void (*lost)(void *, const char *), void *arg);
/* What waits to be written: its length is the reader's backlog. */
struct evbuffer *chunked_out(struct chunked *);
/* b (drained) as one chunk, written at once if nothing waits. */
void	 chunked_send(struct chunked *, struct evbuffer *b);
/* The last chunk: the socket closes once all has left; no callback after. */
void	 chunked_end(struct chunked *);
/* Closes now, unsent output dropped; no callback after. */
void	 chunked_abort(struct chunked *);
/* What every taken socket has still to write (the stop's drain waits for it). */
size_t	 chunked_unsent(void);
/* The server's end: every reply still open is lost ("the server stopped"). */
void	 chunked_close_all(void);
#endif
