/*
 * rtcs-bench relay: one device's message to another device's stream, timed
 * from writing the POST to the line arriving on the stream, against the same
 * request bytes through relay-anchor (a bare UNIX-socket forwarder). Both
 * sides use raw sockets, so the figure is the server's cost, not a client
 * library's.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fsutil.h"
#include "xmalloc.h"

int
rtcs_relay_init(struct rtcs_relay *r, const char *sock, const char *stream_sock, char **cause)
{
	struct bsession s;
	struct http c;
	char req[512];
	int len;

	memset(r, 0, sizeof *r);
	r->post = r->stream = -1;
	http_init(&c, sock);
	if (session_create(&c, "rl", 2, &s, cause) != 0) {
		http_free(&c);
		return -1;
	}
	http_free(&c);
	r->sid = xstrdup(s.id);
	r->tok = xstrdup(s.tokens[0]);
	len = snprintf(req, sizeof req, "GET /v1/sessions/%s/stream HTTP/1.1\r\nHost: rtcs\r\n"
	    "Authorization: Bearer %s\r\n\r\n", s.id, s.tokens[1]);
	session_free(&s);
	if ((r->stream = bench_connect(stream_sock, cause)) < 0 ||
	    (r->post = bench_connect(sock, cause)) < 0 ||
	    raw_write(r->stream, req, (size_t)len, cause) != 0 ||
	    raw_read_until(r->stream, r->buf, 0, raw_through, "\r\n\r\n", cause) < 0)
		return -1;
	if (strncmp(r->buf, "HTTP/1.1 200", 12) != 0) {
		*cause = xprintf("stream: %.200s", r->buf);
		return -1;
	}
	return 0;
}

void
rtcs_relay_free(struct rtcs_relay *r)
{
	if (r->post >= 0)
		close(r->post);
	if (r->stream >= 0)
		close(r->stream);
	free(r->sid);
	free(r->tok);
}

int
rtcs_relay_run(void *ctx, double *lat, char **cause)
{
	struct rtcs_relay *r = ctx;
	char body[128], marker[16];
	double t0;
	int blen;

	r->k = (r->k + 1) % 100000000;
	snprintf(marker, sizeof marker, "r%08ld", r->k);
	blen = snprintf(body, sizeof body,
	    "{\"type\":\"text\",\"body\":\"%s the quick brown fox jumps\"}", marker);
	r->reqlen = (size_t)snprintf(r->req, sizeof r->req,
	    "POST /v1/sessions/%s/messages HTTP/1.1\r\nHost: rtcs\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\n\r\n%s", r->sid, r->tok, blen, body);
	t0 = now_us();
	if (raw_write(r->post, r->req, r->reqlen, cause) != 0 ||
	    raw_read_until(r->stream, r->buf, 0, raw_through, marker, cause) < 0)
		return -1;
	*lat = now_us() - t0;
	/* The rest of the line may still come; the next marker is unique anyway. */
	return raw_http_reply(r->post, r->buf, 201, cause);
}

struct raw_relay {
	int	 snd, rcv;
	char	 line[1024];
	size_t	 len;
	char	*buf;
};

static int
raw_connect(const char *path, char role, char **cause)
{
	int fd;

	if ((fd = bench_connect(path, cause)) < 0)
		return -1;
	if (write(fd, &role, 1) != 1) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
raw_relay_run(void *ctx, double *lat, char **cause)
{
	struct raw_relay *r = ctx;
	size_t got = 0;
	ssize_t n;
	double t0 = now_us();

	if (raw_write(r->snd, r->line, r->len, cause) != 0)
		return -1;
	while (got < r->len) {
		if ((n = read(r->rcv, r->buf + got, r->len - got)) <= 0) {
			*cause = xprintf("relay-anchor read: %s", n == 0 ? "EOF" : strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	*lat = now_us() - t0;
	return 0;
}

/* The Redis side of the relay: n/a (why set) when there is no redis-server. */
static int
redis_side(const struct bench_opts *o, struct redis_relay *x, char **why)
{
	char *cause = NULL;

	memset(x, 0, sizeof *x);
	x->snd = x->rcv = -1;
	if (o->redis == NULL) {
		*why = xstrdup("no redis-server (tools/packages-bench)");
		return 0;
	}
	if (redis_relay_init(x, o->redis, o->tag ? o->tag : "relay", &cause) != 0) {
		*why = xprintf("redis: %s", cause);
		free(cause);
		redis_relay_free(x);
		return 0;
	}
	return 1;
}

int
cmd_relay(struct bench_opts *o, int argc, char **argv)
{
	struct rtcs_relay a;
	struct raw_relay b;
	struct redis_relay x;
	struct ab_result r;
	struct ab_side side[3];
	char *cause = NULL, *why = NULL, *xwhy = NULL, *note, *p50, *p99, *px;
	const char *tag = o->tag ? o->tag : "relay";
	int have = o->sock != NULL, xhave;

	(void)argc;
	(void)argv;
	p50 = xprintf("%s.p50_us", tag);
	p99 = xprintf("%s.p99_us", tag);
	px = xprintf("%s.redis.p50_us", tag);
	memset(&a, 0, sizeof a);
	a.post = a.stream = -1;
	memset(&b, 0, sizeof b);
	b.snd = b.rcv = -1;
	xhave = redis_side(o, &x, &xwhy);
	if (!have)
		why = xstrdup("no rtcs-serve");
	if (have && rtcs_relay_init(&a, o->sock, o->sock, &cause) != 0) {
		why = xprintf("rtcs: %s", cause);
		free(cause);
		cause = NULL;
		have = 0;
	}
	if ((b.rcv = raw_connect(o->anchor, 'R', &cause)) < 0)
		goto fail;
	usleep(20000);	/* let the forwarder take the receiver first */
	if ((b.snd = raw_connect(o->anchor, 'S', &cause)) < 0)
		goto fail;
	/* The anchor carries the very request bytes a device sends. */
	snprintf(b.line, sizeof b.line, "POST /v1/sessions/S0000000000000000/messages HTTP/1.1\r\n"
	    "Host: rtcs\r\nAuthorization: Bearer 00000000000000000000000000\r\n"
	    "Content-Type: application/json\r\nContent-Length: 59\r\n\r\n"
	    "{\"type\":\"text\",\"body\":\"r00000001 the quick brown fox jumps\"}");
	if (have) {
		if (rtcs_relay_run(&a, &(double){ 0 }, &cause) != 0)
			goto fail;
		snprintf(b.line, sizeof b.line, "%s", a.req);
	}
	b.len = strlen(b.line);
	b.buf = xmalloc(b.len);
	side[0] = (struct ab_side){ have ? rtcs_relay_run : NULL, &a };
	side[1] = (struct ab_side){ raw_relay_run, &b };
	side[2] = (struct ab_side){ xhave ? redis_relay_run : NULL, &x };
	if (ab_run_sides(o, side, 3, &r, &cause) != 0) {
		ab_free(&r);
		goto fail;
	}
	note = xprintf("%zu-byte request; write of the POST to the line on the other device's "
	    "stream, raw sockets", b.len);
	fig_emit(o, p50, have ? samples_pct(&r.lat[0], 50) : NAN,
	    samples_pct(&r.lat[1], 50), have ? note : why);
	fig_emit(o, p99, have ? samples_pct(&r.lat[0], 99) : NAN,
	    samples_pct(&r.lat[1], 99), have ? note : why);
	free(note);
	note = xprintf("anchor: XADD on one connection -> the XREAD BLOCK reply on another "
	    "(p99 %.1f us; rtcs p99 %.1f us), RESP on raw sockets",
	    samples_pct(&r.lat[2], 99), samples_pct(&r.lat[0], 99));
	fig_emit(o, px, have ? samples_pct(&r.lat[0], 50) : NAN,
	    xhave ? samples_pct(&r.lat[2], 50) : NAN, !xhave ? xwhy : have ? note : why);
	free(note);
	ab_free(&r);
	rtcs_relay_free(&a);
	redis_relay_free(&x);
	close(b.snd);
	close(b.rcv);
	free(b.buf);
	free(why);
	free(xwhy);
	free(p50);
	free(p99);
	free(px);
	return 0;
fail:
	fprintf(stderr, "rtcs-bench: relay: %s\n", cause);
	fig_na(o, p50, cause);
	fig_na(o, px, cause);
	free(cause);
	free(why);
	free(xwhy);
	free(p50);
	free(p99);
	free(px);
	rtcs_relay_free(&a);
	redis_relay_free(&x);
	if (b.snd >= 0)
		close(b.snd);
	if (b.rcv >= 0)
		close(b.rcv);
	return 1;
}
