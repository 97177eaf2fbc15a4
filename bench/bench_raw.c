/*
 * rtcs-bench: requests on raw sockets (HTTP for rtcs, RESP for Redis), one
 * at a time or from many connections at once on one epoll loop, so that
 * rtcs and its anchors are driven by the same few system calls.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fsutil.h"
#include "xmalloc.h"

int
raw_write(int fd, const char *p, size_t len, char **cause)
{
	if (fs_write_all(fd, p, len) == 0)
		return 0;
	*cause = xprintf("write: %s", strerror(errno));
	return -1;
}

long
raw_read_until(int fd, char *buf, size_t len, raw_done done, const void *arg, char **cause)
{
	long whole;
	ssize_t n;

	buf[len] = '\0';
	while ((whole = done(buf, len, arg)) == 0) {
		if (len >= RAW_BUF - 1) {
			*cause = xprintf("no whole reply in %d bytes: %.200s", RAW_BUF, buf);
			return -1;
		}
		if ((n = read(fd, buf + len, RAW_BUF - 1 - len)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			*cause = xprintf("read: %s", n == 0 ? "connection closed" : strerror(errno));
			return -1;
		}
		len += (size_t)n;
		buf[len] = '\0';
	}
	if (whole < 0)
		*cause = xprintf("malformed reply: %.200s", buf);
	return whole;
}

long
raw_through(const char *buf, size_t len, const void *needle)
{
	const char *at = memmem(buf, len, needle, strlen(needle));

	return at != NULL ? (long)(at - buf) + (long)strlen(needle) : 0;
}

long
http_response_len(const char *buf, size_t len, const void *unused)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4), *h, *z;
	size_t body;
	(void)unused;

	if (end == NULL)
		return 0;
	end += 4;
	for (h = buf; h < end && (h = memmem(h, (size_t)(end - h), "\r\n", 2)) != NULL; h += 2) {
		if (strncasecmp(h, "\r\nTransfer-Encoding: chunked", 28) == 0) {
			z = memmem(end, len - (size_t)(end - buf), "\r\n0\r\n\r\n", 7);
			return z != NULL ? z + 7 - buf : 0;
		}
		if (strncasecmp(h, "\r\nContent-Length:", 17) == 0) {
			body = strtoul(h + 17, NULL, 10);
			return len >= (size_t)(end - buf) + body ? end - buf + (long)body : 0;
		}
	}
	return end - buf;
}

int
raw_http_reply(int fd, char *buf, int want, char **cause)
{
	if (raw_read_until(fd, buf, 0, http_response_len, NULL, cause) < 0)
		return -1;
	if (strncmp(buf, "HTTP/1.1 ", 9) != 0 || atoi(buf + 9) != want) {
		*cause = xprintf("want %d: %.200s", want, buf);
		return -1;
	}
	return 0;
}

int
raw_http(int fd, const char *req, size_t reqlen, char *buf, int want, char **cause)
{
	return raw_write(fd, req, reqlen, cause) == 0 ? raw_http_reply(fd, buf, want, cause) : -1;
}

/* One reply read on connection i; the replies still to come on it, or -1. */
static int
conc_read(struct conc *c, int i, char *buf, size_t *have, int *todo, char **cause)
{
	long whole;
	ssize_t n;

	if ((n = read(c->fds[i], buf + have[i], RAW_BUF - 1 - have[i])) <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return todo[i];
		*cause = xprintf("read: %s", n == 0 ? "connection closed" : strerror(errno));
		return -1;
	}
	have[i] += (size_t)n;
	buf[have[i]] = '\0';
	/* Each connection has one request out at a time: a whole reply ends the buffer. */
	if ((whole = c->done(buf, have[i], NULL)) == 0)
		return todo[i];
	if (whole < 0 || buf[0] == '-' || (buf[0] == 'H' && strncmp(buf + 9, "20", 2) != 0)) {
		*cause = xprintf("reply: %.200s", buf);
		return -1;
	}
	have[i] = 0;
	if (--todo[i] > 0 && raw_write(c->fds[i], c->req[i], c->reqlen[i], cause) != 0)
		return -1;
	return todo[i];
}

int
conc_run(void *ctx, double *lat, char **cause)
{
	struct conc *c = ctx;
	struct epoll_event ev, evs[64];
	char **buf = xcalloc((size_t)c->conc, sizeof *buf);
	size_t *have = xcalloc((size_t)c->conc, sizeof *have);
	int *todo = xcalloc((size_t)c->conc, sizeof *todo);
	int ep = epoll_create1(EPOLL_CLOEXEC), i, k, left = c->conc, rc = -1, t;
	double t0 = now_us();

	for (i = 0; i < c->conc; i++) {
		buf[i] = xmalloc(RAW_BUF);
		todo[i] = c->per;
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fds[i], &ev) != 0 ||
		    raw_write(c->fds[i], c->req[i], c->reqlen[i], cause) != 0)
			goto out;
	}
	while (left > 0) {
		if ((k = epoll_wait(ep, evs, 64, 10000)) <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			*cause = xprintf("%d connections silent for 10 s", left);
			goto out;
		}
		for (i = 0; i < k; i++) {
			int j = (int)evs[i].data.u32;

			if ((t = conc_read(c, j, buf[j], have, todo, cause)) < 0)
				goto out;
			if (t == 0) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fds[j], NULL);
				left--;
			}
		}
	}
	*lat = now_us() - t0;
	rc = 0;
out:
	for (i = 0; i < c->conc; i++)
		free(buf[i]);
	free(buf);
	free(have);
	free(todo);
	close(ep);
	return rc;
}

void
conc_alloc(struct conc *c, int conc, int per, raw_done done)
{
	int i;

	c->fds = xcalloc((size_t)conc, sizeof *c->fds);
	c->req = xcalloc((size_t)conc, sizeof *c->req);
	c->reqlen = xcalloc((size_t)conc, sizeof *c->reqlen);
	c->conc = conc;
	c->per = per;
	c->done = done;
	for (i = 0; i < conc; i++)
		c->fds[i] = -1;
}

void
conc_free(struct conc *c)
{
	int i;

	for (i = 0; i < c->conc; i++) {
		if (c->fds[i] >= 0)
			close(c->fds[i]);
		free(c->req[i]);
	}
	free(c->fds);
	free(c->req);
	free(c->reqlen);
	memset(c, 0, sizeof *c);
}
