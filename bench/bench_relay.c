/*
 * rtcs-bench relay: one device's message to another device's stream, timed
 * from the start of the POST to the line arriving on the stream, against the
 * same bytes through relay-anchor (a bare UNIX-socket forwarder).
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "xmalloc.h"

struct rtcs_relay {
	CURLM			*m;
	CURL			*stream, *post;
	struct curl_slist	*shdrs, *phdrs;
	char			 body[128];
	char			*buf;		/* stream bytes not yet split into lines */
	size_t			 len, cap;
	char			 line[1024];	/* the last message line, for the anchor */
	int			 started;
	long			 k, got_k;
	double			 got_t;
};

static size_t
stream_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct rtcs_relay *r = arg;
	size_t len = size * nmemb, linelen;
	double t = now_us();
	char *nl;
	const char *b;

	r->started = 1;
	if (r->len + len + 1 > r->cap) {
		r->cap = (r->len + len + 1) * 2;
		r->buf = xrealloc(r->buf, r->cap);
	}
	memcpy(r->buf + r->len, p, len);
	r->len += len;
	r->buf[r->len] = '\0';
	while ((nl = memchr(r->buf, '\n', r->len)) != NULL) {
		*nl = '\0';
		if ((b = line_body(r->buf)) != NULL && *b == 'r') {
			r->got_k = strtol(b + 1, NULL, 10);
			r->got_t = t;
			linelen = (size_t)(nl - r->buf) + 1;
			if (linelen < sizeof r->line) {
				memcpy(r->line, r->buf, linelen - 1);
				r->line[linelen - 1] = '\n';
				r->line[linelen] = '\0';
			}
		}
		r->len -= (size_t)(nl + 1 - r->buf);
		memmove(r->buf, nl + 1, r->len);
	}
	return len;
}

static size_t
discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

/* Drives the multi handle once; -1 if the stream ended or the POST failed. */
static int
relay_step(struct rtcs_relay *r, int *post_done, char **cause)
{
	struct CURLMsg *msg;
	int running, q;
	long status = 0;

	curl_multi_perform(r->m, &running);
	while ((msg = curl_multi_info_read(r->m, &q)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (msg->easy_handle == r->stream) {
			*cause = xprintf("stream ended: %s", curl_easy_strerror(msg->data.result));
			return -1;
		}
		curl_easy_getinfo(r->post, CURLINFO_RESPONSE_CODE, &status);
		curl_multi_remove_handle(r->m, r->post);
		if (msg->data.result != CURLE_OK || status != 201) {
			*cause = xprintf("POST message: %s, status %ld",
			    curl_easy_strerror(msg->data.result), status);
			return -1;
		}
		*post_done = 1;
	}
	return 0;
}

static int
rtcs_relay_init(struct rtcs_relay *r, const char *sock, char **cause)
{
	struct bsession s;
	struct http c;
	char *path;
	double t0;
	int dummy = 0;

	memset(r, 0, sizeof *r);
	http_init(&c, sock);
	if (session_create(&c, "rl", 2, &s, cause) != 0) {
		http_free(&c);
		return -1;
	}
	http_free(&c);
	r->m = curl_multi_init();
	r->stream = curl_easy_init();
	path = xprintf("/v1/sessions/%s/stream", s.id);
	http_setup(r->stream, sock, path);
	free(path);
	r->shdrs = http_headers(s.tokens[1]);
	curl_easy_setopt(r->stream, CURLOPT_HTTPHEADER, r->shdrs);
	curl_easy_setopt(r->stream, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(r->stream, CURLOPT_WRITEDATA, r);
	r->post = curl_easy_init();
	path = xprintf("/v1/sessions/%s/messages", s.id);
	http_setup(r->post, sock, path);
	free(path);
	r->phdrs = http_headers(s.tokens[0]);
	curl_easy_setopt(r->post, CURLOPT_HTTPHEADER, r->phdrs);
	curl_easy_setopt(r->post, CURLOPT_WRITEFUNCTION, discard);
	snprintf(r->body, sizeof r->body,
	    "{\"type\":\"text\",\"body\":\"r%08ld the quick brown fox jumps\"}", 0L);
	curl_easy_setopt(r->post, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(r->post, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	session_free(&s);
	curl_multi_add_handle(r->m, r->stream);
	t0 = now_us();
	while (!r->started) {
		if (relay_step(r, &dummy, cause) != 0)
			return -1;
		if (now_us() - t0 > 5e6) {
			*cause = xstrdup("stream sent nothing within 5 s");
			return -1;
		}
		curl_multi_poll(r->m, NULL, 0, 100, NULL);
	}
	return 0;
}

static void
rtcs_relay_free(struct rtcs_relay *r)
{
	if (r->m == NULL)
		return;
	curl_multi_remove_handle(r->m, r->stream);
	curl_multi_remove_handle(r->m, r->post);
	curl_easy_cleanup(r->stream);
	curl_easy_cleanup(r->post);
	curl_slist_free_all(r->shdrs);
	curl_slist_free_all(r->phdrs);
	curl_multi_cleanup(r->m);
	free(r->buf);
}

static int
rtcs_relay_run(void *ctx, double *lat, char **cause)
{
	struct rtcs_relay *r = ctx;
	int post_done = 0;
	double t0;
	char num[16];

	r->k++;
	snprintf(num, sizeof num, "%08ld", r->k % 100000000);
	memcpy(strstr(r->body, "\"body\":\"r") + 9, num, 8);
	t0 = now_us();
	curl_multi_add_handle(r->m, r->post);
	while (!post_done || r->got_k != r->k) {
		if (relay_step(r, &post_done, cause) != 0)
			return -1;
		if (post_done && r->got_k == r->k)
			break;
		if (now_us() - t0 > 10e6) {
			*cause = xprintf("message %ld not relayed within 10 s", r->k);
			return -1;
		}
		curl_multi_poll(r->m, NULL, 0, 100, NULL);
	}
	*lat = r->got_t - t0;
	return 0;
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
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || write(fd, &role, 1) != 1) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		if (fd >= 0)
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

	if (write(r->snd, r->line, r->len) != (ssize_t)r->len) {
		*cause = xprintf("relay-anchor write: %s", strerror(errno));
		return -1;
	}
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
	/* Until rtcs has relayed a line, the anchor carries a line of the usual shape. */
	snprintf(b.line, sizeof b.line, "{\"seq\":2,\"ts\":\"2026-11-24T05:30:00.123Z\","
	    "\"type\":\"message\",\"from\":\"p0\",\"device\":\"rl-d0\",\"kind\":\"text\","
	    "\"body\":\"r00000001 the quick brown fox jumps\"}\n");
	if (have) {
		if (rtcs_relay_run(&a, &(double){ 0 }, &cause) != 0)
			goto fail;
		snprintf(b.line, sizeof b.line, "%s", a.line);
	}
	b.len = strlen(b.line);
	b.buf = xmalloc(b.len);
	if (ab_run(o, have ? rtcs_relay_run : NULL, &a, raw_relay_run, &b, &r, &cause) != 0) {
		ab_free(&r);
		goto fail;
	}
	note = xprintf("%zu-byte line; POST start to line on the other device's stream", b.len);
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
