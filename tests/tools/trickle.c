/*
 * trickle SOCKET N INTERVAL_MS LIMIT_S: N connections that each send one
 * byte of a request head every INTERVAL_MS and never finish it (a slowloris).
 * Prints {"n","closed","first_ms","last_ms"}: how many the server closed, and
 * when (from each one's first byte), within LIMIT_S. Timers, no sleeping.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

static const char head[] = "GET /v1/health HTTP/1.1\r\nHost: rtcs\r\nX-Slow: ";

struct conn {
	int		 fd;
	size_t		 sent;
	double		 t0, closed_ms;
	struct event	*tick, *rd;
};

static int nclosed, n;
static double first = -1, last = -1;
static struct event_base *base;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
gone(struct conn *c)
{
	double ms = now_ms() - c->t0;

	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	event_del(c->tick);
	event_del(c->rd);
	nclosed++;
	if (first < 0 || ms < first)
		first = ms;
	if (ms > last)
		last = ms;
	if (nclosed == n)
		event_base_loopbreak(base);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char b = c->sent < sizeof head - 1 ? head[c->sent] : 'a';

	(void)fd;
	(void)what;
	if (c->fd < 0)
		return;
	if (send(c->fd, &b, 1, MSG_NOSIGNAL) != 1) {	/* a closed one is no signal */
		gone(c);
		return;
	}
	if (c->sent++ == 0)
		c->t0 = now_ms();
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char buf[512];
	ssize_t r = read(fd, buf, sizeof buf);

	(void)what;
	if (r == 0 || (r < 0 && errno != EAGAIN))
		gone(c);
}

static void
on_limit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(base);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	struct timeval iv, lim = { 0, 0 };
	struct conn *cs;
	int i;

	if (argc != 5) {
		fprintf(stderr, "usage: trickle SOCKET N INTERVAL_MS LIMIT_S\n");
		return 64;
	}
	n = atoi(argv[2]);
	iv.tv_sec = atoi(argv[3]) / 1000;
	iv.tv_usec = (atoi(argv[3]) % 1000) * 1000;
	lim.tv_sec = atoi(argv[4]);
	base = event_base_new();
	cs = calloc((size_t)n, sizeof *cs);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", argv[1]);
	for (i = 0; i < n; i++) {
		cs[i].fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (cs[i].fd < 0 || (connect(cs[i].fd, (struct sockaddr *)&sun, sizeof sun) != 0 &&
		    errno != EINPROGRESS)) {
			perror("connect");
			return 69;
		}
		cs[i].tick = event_new(base, -1, EV_PERSIST, on_tick, &cs[i]);
		cs[i].rd = event_new(base, cs[i].fd, EV_READ | EV_PERSIST, on_read, &cs[i]);
		event_add(cs[i].tick, &iv);
		event_add(cs[i].rd, NULL);
		on_tick(-1, 0, &cs[i]);
	}
	event_base_once(base, -1, EV_TIMEOUT, on_limit, NULL, &lim);
	event_base_dispatch(base);
	printf("{\"n\":%d,\"closed\":%d,\"first_ms\":%.0f,\"last_ms\":%.0f}\n", n, nclosed, first,
	    last);
	return 0;
}
