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

#define RELAY_BUF 65536

struct rtcs_relay {
	int	 post, stream;		/* keep-alive POST connection, stream connection */
	char	*sid, *tok;
	char	 req[1024];		/* the last request written, for the anchor */
	size_t	 reqlen;
	char	 buf[RELAY_BUF];
	long	 k;
};

/* fs_write_all with the error as a cause string. */
static int
write_all(int fd, const char *p, size_t len, char **cause)
{
	if (fs_write_all(fd, p, len) == 0)
		return 0;
	*cause = xprintf("write: %s", strerror(errno));
	return -1;
}

/* Reads from fd into buf (at len) until needle appears; the new length, or -1. */
static ssize_t
read_until(int fd, char *buf, size_t len, const char *needle, char **cause)
{
	ssize_t n;

	buf[len] = '\0';
	while (strstr(buf, needle) == NULL) {
		if (len >= RELAY_BUF - 1) {
			*cause = xprintf("no \"%s\" in %d bytes", needle, RELAY_BUF);
			return -1;
		}
		if ((n = read(fd, buf + len, RELAY_BUF - 1 - len)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			*cause = xprintf("read: %s", n == 0 ? "connection closed" : strerror(errno));
			return -1;
		}
		len += (size_t)n;
		buf[len] = '\0';
	}
	return (ssize_t)len;
}

/* Reads one whole response with a Content-Length body; -1 unless its status is want. */
static int
read_response(int fd, char *buf, int want, char **cause)
{
	ssize_t len;
	char *end, *cl;
	size_t body;

	if ((len = read_until(fd, buf, 0, "\r\n\r\n", cause)) < 0)
		return -1;
	end = strstr(buf, "\r\n\r\n") + 4;
	if ((cl = strcasestr(buf, "\r\nTransfer-Encoding: chunked")) != NULL && cl < end) {
		if (strstr(end, "\r\n0\r\n\r\n") == NULL &&
		    read_until(fd, buf, (size_t)len, "\r\n0\r\n\r\n", cause) < 0)
			return -1;
		end = buf + len;	/* the body is all there now */
		len = (ssize_t)strlen(buf);
	}
	cl = strcasestr(buf, "\r\nContent-Length:");
	body = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	while ((size_t)len < (size_t)(end - buf) + body) {
		ssize_t n = read(fd, buf + len, RELAY_BUF - 1 - (size_t)len);
		if (n <= 0) {
			*cause = xstrdup("response cut short");
			return -1;
		}
		len += n;
	}
	buf[len] = '\0';
	if (strncmp(buf, "HTTP/1.1 ", 9) != 0 || atoi(buf + 9) != want) {
		*cause = xprintf("want %d: %.200s", want, buf);
		return -1;
	}
	return 0;
}

static int
rtcs_relay_init(struct rtcs_relay *r, const char *sock, char **cause)
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
	if ((r->stream = bench_connect(sock, cause)) < 0 ||
	    (r->post = bench_connect(sock, cause)) < 0 ||
	    write_all(r->stream, req, (size_t)len, cause) != 0 ||
	    read_until(r->stream, r->buf, 0, "\r\n\r\n", cause) < 0)
		return -1;
	if (strncmp(r->buf, "HTTP/1.1 200", 12) != 0) {
		*cause = xprintf("stream: %.200s", r->buf);
		return -1;
	}
	return 0;
}

static void
rtcs_relay_free(struct rtcs_relay *r)
{
	if (r->post >= 0)
		close(r->post);
	if (r->stream >= 0)
		close(r->stream);
	free(r->sid);
	free(r->tok);
}

static int
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
	if (write_all(r->post, r->req, r->reqlen, cause) != 0 ||
	    read_until(r->stream, r->buf, 0, marker, cause) < 0)
		return -1;
	*lat = now_us() - t0;
	/* The rest of the line may still come; the next marker is unique anyway. */
	return read_response(r->post, r->buf, 201, cause);
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

	if (write_all(r->snd, r->line, r->len, cause) != 0)
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

int
cmd_relay(struct bench_opts *o, int argc, char **argv)
{
	struct rtcs_relay a;
	struct raw_relay b;
	struct ab_result r;
	char *cause = NULL, *why = NULL, *note, *p50, *p99;
	int have = o->sock != NULL;

	(void)argc;
	(void)argv;
	p50 = xprintf("%s.p50_us", o->tag ? o->tag : "relay");
	p99 = xprintf("%s.p99_us", o->tag ? o->tag : "relay");
	memset(&a, 0, sizeof a);
	a.post = a.stream = -1;
	memset(&b, 0, sizeof b);
	if (!have)
		why = xstrdup("no rtcs-serve");
	if (have && rtcs_relay_init(&a, o->sock, &cause) != 0) {
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
	if (ab_run(o, have ? rtcs_relay_run : NULL, &a, raw_relay_run, &b, &r, &cause) != 0) {
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
	ab_free(&r);
	rtcs_relay_free(&a);
	close(b.snd);
	close(b.rcv);
	free(b.buf);
	free(why);
	free(p50);
	free(p99);
	return 0;
fail:
	fprintf(stderr, "rtcs-bench: relay: %s\n", cause);
	fig_na(o, p50, cause);
	free(cause);
	free(why);
	free(p50);
	free(p99);
	rtcs_relay_free(&a);
	return 1;
}
