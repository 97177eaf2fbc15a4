/*
 * rtcs-bench: the Redis Streams anchors (issue 14), spoken in RESP on raw
 * sockets by this process, so Redis is measured the way rtcs is: XADD of a
 * message for the durable figure, XADD on one connection -> XREAD BLOCK on
 * another for the relay, 16 clients XADDing at once for the batch figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "xmalloc.h"

size_t
resp_format(char *buf, size_t len, int argc, const char **argv)
{
	size_t off;
	int i;

	off = (size_t)snprintf(buf, len, "*%d\r\n", argc);
	for (i = 0; i < argc && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "$%zu\r\n%s\r\n", strlen(argv[i]),
		    argv[i]);
	return off < len ? off : 0;
}

/* Past one value at p (before end), NULL if cut, p itself if malformed. */
static const char *
resp_skip(const char *p, const char *end, int depth)
{
	const char *nl;
	long n, i;
	char *e;

	if (p >= end || (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return NULL;
	n = strtol(p + 1, &e, 10);
	switch (*p) {
	case '+': case '-': case ':':
		return nl + 1;
	case '$':
		if (n < 0)
			return nl + 1;
		return end - (nl + 1) >= n + 2 ? nl + 1 + n + 2 : NULL;
	case '*':
		if (depth > 8)
			return p;
		for (p = nl + 1, i = 0; i < n; i++) {
			const char *q = resp_skip(p, end, depth + 1);

			if (q == NULL || q == p)
				return q;
			p = q;
		}
		return p;
	default:
		return p;
	}
}

long
resp_reply_len(const char *buf, size_t len, const void *unused)
{
	const char *q = resp_skip(buf, buf + len, 0);

	(void)unused;
	return q == NULL ? 0 : q == buf ? -1 : q - buf;
}

int
resp_call(int fd, char *buf, int argc, const char **argv, char **cause)
{
	size_t len = resp_format(buf, RAW_BUF, argc, argv);

	if (len == 0) {
		*cause = xstrdup("command too long");
		return -1;
	}
	if (raw_write(fd, buf, len, cause) != 0 ||
	    raw_read_until(fd, buf, 0, resp_reply_len, NULL, cause) < 0)
		return -1;
	if (buf[0] == '-') {
		*cause = xprintf("redis: %.200s", buf + 1);
		return -1;
	}
	return 0;
}

/* The fields of one message as rtcs logs it: the same body, its sender. */
static size_t
xadd_format(char *buf, size_t len, const char *key, const char *body)
{
	const char *argv[] = { "XADD", key, "*", "type", "text", "from", "p0",
	    "device", "d0", "body", body };

	return resp_format(buf, len, 11, argv);
}

int
redis_xadd_init(struct redis_xadd *x, const char *sock, const char *key, const char *body,
    char **cause)
{
	memset(x, 0, sizeof *x);
	x->fd = -1;
	x->buf = xmalloc(RAW_BUF);
	x->reqlen = xadd_format(x->req, sizeof x->req, key, body);
	if ((x->fd = bench_connect(sock, cause)) < 0)
		return -1;
	return 0;
}

int
redis_xadd_run(void *ctx, double *lat, char **cause)
{
	struct redis_xadd *x = ctx;

	(void)lat;
	if (raw_write(x->fd, x->req, x->reqlen, cause) != 0 ||
	    raw_read_until(x->fd, x->buf, 0, resp_reply_len, NULL, cause) < 0)
		return -1;
	if (x->buf[0] != '$') {
		*cause = xprintf("XADD: %.200s", x->buf);
		return -1;
	}
	return 0;
}

void
redis_xadd_free(struct redis_xadd *x)
{
	if (x->fd >= 0)
		close(x->fd);
	free(x->buf);
	memset(x, 0, sizeof *x);
	x->fd = -1;
}

/* Arms the reader: XREAD BLOCK 0 for what follows the last id. */
static int
relay_arm(struct redis_relay *r, char **cause)
{
	const char *argv[] = { "XREAD", "BLOCK", "0", "STREAMS", r->key, r->last };
	size_t len = resp_format(r->buf, RAW_BUF, 6, argv);

	return raw_write(r->rcv, r->buf, len, cause);
}

int
redis_relay_init(struct redis_relay *r, const char *sock, const char *key, char **cause)
{
	const char *del[] = { "DEL", key };

	memset(r, 0, sizeof *r);
	r->snd = r->rcv = -1;
	r->buf = xmalloc(RAW_BUF);
	snprintf(r->key, sizeof r->key, "%s", key);
	snprintf(r->last, sizeof r->last, "0-0");
	if ((r->snd = bench_connect(sock, cause)) < 0 || (r->rcv = bench_connect(sock, cause)) < 0 ||
	    resp_call(r->snd, r->buf, 2, del, cause) != 0)
		return -1;
	return relay_arm(r, cause);
}

/*
 * The XADD's line on the blocked reader is the latency; the writer's reply
 * then gives the id the reader waits after next, and the reader is armed
 * again before the next message, as a device's stream is always open.
 */
int
redis_relay_run(void *ctx, double *lat, char **cause)
{
	struct redis_relay *r = ctx;
	char body[64], req[512];
	size_t len;
	double t0;
	char *nl;

	r->k = (r->k + 1) % 100000000;
	snprintf(body, sizeof body, "r%08ld the quick brown fox jumps", r->k);
	len = xadd_format(req, sizeof req, r->key, body);
	t0 = now_us();
	if (raw_write(r->snd, req, len, cause) != 0 ||
	    raw_read_until(r->rcv, r->buf, 0, resp_reply_len, NULL, cause) < 0)
		return -1;
	*lat = now_us() - t0;
	if (strstr(r->buf, body) == NULL) {
		*cause = xprintf("XREAD: %.200s", r->buf);
		return -1;
	}
	if (raw_read_until(r->snd, r->buf, 0, resp_reply_len, NULL, cause) < 0)
		return -1;
	if (r->buf[0] != '$' || (nl = strstr(r->buf, "\r\n")) == NULL ||
	    sscanf(nl + 2, "%47[0-9-]", r->last) != 1) {
		*cause = xprintf("XADD: %.200s", r->buf);
		return -1;
	}
	return relay_arm(r, cause);
}

void
redis_relay_free(struct redis_relay *r)
{
	if (r->snd >= 0)
		close(r->snd);
	if (r->rcv >= 0)
		close(r->rcv);
	free(r->buf);
	memset(r, 0, sizeof *r);
	r->snd = r->rcv = -1;
}

/* conc clients XADDing the same body to one stream, as 16 devices of one session. */
int
redis_conc_init(struct conc *c, const char *sock, int conc, int per, const char *body,
    char **cause)
{
	char req[1024];
	int i;

	memset(c, 0, sizeof *c);
	conc_alloc(c, conc, per, resp_reply_len);
	for (i = 0; i < conc; i++) {
		c->reqlen[i] = xadd_format(req, sizeof req, "bench:conc", body);
		c->req[i] = xstrdup(req);
		if ((c->fds[i] = bench_connect(sock, cause)) < 0)
			return -1;
	}
	return 0;
}
