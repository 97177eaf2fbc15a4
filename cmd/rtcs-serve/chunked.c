/*
 * A chunked reply on a socket taken from evhttp: a device's stream, which
 * lasts as long as its device is attached. Through evhttp a stream holds
 * its connection, the gate's filter and the socket's bufferevent, their
 * four buffers and five events: about 5.5 KiB (bench/README.md); here it
 * holds one event and one buffer (and a second event once its reader has
 * been slow). A chunk is written at once when nothing waits; what the socket
 * does not take waits for EV_WRITE, and a reader that takes nothing for
 * --idle-timeout is dropped, as evhttp's write timeout did. The reply says
 * "Connection: close": the connection ends with the stream (a stream is the
 * last request of its connection).
 *
 * evhttp has no call to give a connection's socket away, and freeing its
 * connection shuts the socket down. So the socket is taken in two steps:
 * now, its descriptor is duplicated, evhttp's bufferevent lets go of it
 * (bufferevent_setfd -1) and the stream writes on the duplicate; a loop
 * turn later, once the loop has applied that change to its epoll set (the
 * changelist, server.c: the old descriptor must leave the set while it is
 * still the socket), the old descriptor is made /dev/null and evhttp's
 * connection is freed, shutting down and closing nothing of the stream's.
 */
#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "chunked.h"
#include "gate.h"
#include "log.h"
#include "reply.h"
#include "server.h"
#include "xmalloc.h"

struct chunked {
	TAILQ_ENTRY(chunked) entry;
	struct server	*srv;
	int		 fd;
	struct evbuffer	*out;
	struct event	*io;		/* the reader's side */
	struct event	*wr;		/* room, while output waits (made when first needed) */
	int		 writing;	/* wr is added */
	int		 ending;	/* the last chunk is out: close once all has left */
	void		(*lost)(void *, const char *);
	void		*arg;
	/* Until the turn after the take: evhttp's connection and its descriptor. */
	struct evhttp_connection *evcon;
	int		 oldfd;
	struct event	*let_go;
};
TAILQ_HEAD(chunkedq, chunked);

static struct chunkedq all = TAILQ_HEAD_INITIALIZER(all);
static int devnull = -1;

static void	ck_write(evutil_socket_t, short, void *);

/* evhttp's connection freed, its descriptor /dev/null by then (see above). */
static void
ck_release(struct chunked *ck)
{
	if (ck->evcon == NULL)
		return;
	if (dup2(devnull, ck->oldfd) < 0)
		log_warn("dup2 /dev/null");
	evhttp_connection_free(ck->evcon);
	close(ck->oldfd);
	ck->evcon = NULL;
	event_free(ck->let_go);
	ck->let_go = NULL;
}

static void
ck_let_go(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ck_release(arg);
}

static void
ck_free(struct chunked *ck)
{
	ck_release(ck);
	TAILQ_REMOVE(&all, ck, entry);
	event_free(ck->io);
	if (ck->wr != NULL)
		event_free(ck->wr);
	close(ck->fd);
	evbuffer_free(ck->out);
	ck->srv->ntaken--;
	free(ck);
}

/*
 * While output waits, room is waited for with the --idle-timeout: an event of
 * its own, since the reader's event fires on what the reader sends, and
 * libevent starts a persistent event's timeout again each time it fires.
 */
static void
ck_arm(struct chunked *ck)
{
	struct timeval tv = { ck->srv->cfg->idle_timeout_s, 0 };
	int want = evbuffer_get_length(ck->out) > 0;

	if (want == ck->writing)
		return;
	if (want) {
		if (ck->wr == NULL)
			ck->wr = event_new(ck->srv->base, ck->fd, EV_WRITE | EV_PERSIST, ck_write, ck);
		event_add(ck->wr, &tv);
	} else
		event_del(ck->wr);
	ck->writing = want;
}

static void
ck_lost(struct chunked *ck, const char *why)
{
	if (!ck->ending && ck->lost != NULL)
		ck->lost(ck->arg, why);
	ck_free(ck);
}

/* The reader sent something: it closed, or what it sends is dropped. */
static void
ck_read(evutil_socket_t fd, short what, void *arg)
{
	struct chunked *ck = arg;
	char buf[512];
	ssize_t n;

	(void)what;
	n = read(fd, buf, sizeof buf);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		ck_lost(ck, n == 0 ? "closed by its reader" : strerror(errno));
}

/* Writes what the socket takes: lost on an error, freed once the last chunk has left. */
static void
ck_flush(struct chunked *ck)
{
	if (evbuffer_write(ck->out, ck->fd) < 0 && errno != EAGAIN && errno != EINTR) {
		ck_lost(ck, strerror(errno));
		return;
	}
	if (ck->ending && evbuffer_get_length(ck->out) == 0) {
		ck_free(ck);
		return;
	}
	ck_arm(ck);
}

/* Room for what waits, or the reader took nothing for --idle-timeout. */
static void
ck_write(evutil_socket_t fd, short what, void *arg)
{
	struct chunked *ck = arg;

	(void)fd;
	if (what & EV_TIMEOUT)
		ck_lost(ck, "its reader took nothing for --idle-timeout");
	else
		ck_flush(ck);
}

static void
ck_head(struct evbuffer *b, const char *type)
{
	char date[64];
	struct tm tm;
	time_t t = time(NULL);

	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	evbuffer_add_printf(b, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nCache-Control: no-store\r\n"
	    "Transfer-Encoding: chunked\r\nConnection: close\r\nDate: %s\r\n\r\n", type, date);
}

struct chunked *
chunked_take(struct server *srv, struct evhttp_request *r, const char *type,
    void (*lost)(void *, const char *), void *arg)
{
	static const struct timeval next_turn = { 0, 0 };
	struct evhttp_connection *evcon = evhttp_request_get_connection(r);
	struct bufferevent *bev, *sock;
	struct chunked *ck;
	int fd, nfd;

	if (evcon == NULL || (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return NULL;
	sock = bufferevent_get_underlying(bev) != NULL ? bufferevent_get_underlying(bev) : bev;
	if (devnull < 0 && (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return NULL;
	if ((fd = bufferevent_getfd(sock)) < 0 || (nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return NULL;
	ck = xcalloc(1, sizeof *ck);
	ck->srv = srv;
	ck->fd = nfd;
	ck->lost = lost;
	ck->arg = arg;
	ck->out = evbuffer_new();
	/*
	 * A reply before this one that has not all left goes first. libevent keeps
	 * the front of a socket bufferevent's output frozen but in its own writes:
	 * thawed to be taken whole (the bufferevent is freed next turn).
	 */
	gate_let_go(evcon);
	gate_flush(evcon);
	evbuffer_unfreeze(bufferevent_get_output(sock), 1);
	if (evbuffer_add_buffer(ck->out, bufferevent_get_output(sock)) != 0) {
		/* Nothing moved: the stream stays evhttp's. */
		evbuffer_freeze(bufferevent_get_output(sock), 1);
		evbuffer_free(ck->out);
		free(ck);
		close(nfd);
		return NULL;
	}
	ck_head(ck->out, type);
	bufferevent_setfd(sock, -1);
	conn_release(srv, evcon);
	ck->evcon = evcon;
	ck->oldfd = fd;
	ck->let_go = evtimer_new(srv->base, ck_let_go, ck);
	evtimer_add(ck->let_go, &next_turn);
	ck->io = event_new(srv->base, nfd, EV_READ | EV_PERSIST, ck_read, ck);
	event_add(ck->io, NULL);
	TAILQ_INSERT_TAIL(&all, ck, entry);
	srv->ntaken++;
	if (evbuffer_write(ck->out, nfd) < 0 && errno != EAGAIN && errno != EINTR)
		log_debug("stream: %s", strerror(errno));	/* EV_WRITE finds it again */
	ck_arm(ck);
	return ck;
}

struct evbuffer *
chunked_out(struct chunked *ck)
{
	return ck->out;
}

void
chunked_send(struct chunked *ck, struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	int idle = evbuffer_get_length(ck->out) == 0;

	if (n == 0 || ck->ending)
		return;
	evbuffer_add_printf(ck->out, "%zx\r\n", n);
	evbuffer_add_buffer(ck->out, b);
	evbuffer_add(ck->out, "\r\n", 2);
	/* At once (the relay's hot path); an error is met again on EV_WRITE. */
	if (idle)
		(void)evbuffer_write(ck->out, ck->fd);
	ck_arm(ck);
}

void
chunked_end(struct chunked *ck)
{
	evbuffer_add(ck->out, "0\r\n\r\n", 5);
	ck->ending = 1;
	ck_flush(ck);	/* ending: an error frees it without a callback */
}

void
chunked_abort(struct chunked *ck)
{
	ck_free(ck);
}

size_t
chunked_unsent(void)
{
	struct chunked *ck;
	size_t n = 0;

	TAILQ_FOREACH(ck, &all, entry)
		n += evbuffer_get_length(ck->out);
	return n;
}

void
chunked_close_all(void)
{
	while (!TAILQ_EMPTY(&all))
		ck_lost(TAILQ_FIRST(&all), "the server stopped");
	if (devnull >= 0) {
		close(devnull);
		devnull = -1;
	}
}
