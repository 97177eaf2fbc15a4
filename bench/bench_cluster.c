/*
 * rtcs-bench cluster: three rtcs-serve nodes on one etcd cluster (design.md
 * 11), beside etcd itself through the same JSON gateway: a durable message
 * through a node against one etcd transaction of the same size, a message
 * sent through node 1 to a stream on node 2 against an etcd put on one
 * member reaching a watch on another, whole transfers through the cluster,
 * and 16 senders spread over the three nodes against the same 16 on one.
 * Raw sockets on both sides, as the single-server figures.
 */
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "etcd.h"
#include "xmalloc.h"

/* The size of a message's log record, as rtcs writes it to etcd. */
#define REC_TEXT "{\"seq\":1234,\"ts\":\"2026-11-24T05:30:00.123Z\",\"type\":\"message\"," \
	"\"from\":\"p0\",\"device\":\"cl-d0\",\"kind\":\"text\",\"body\":\"the quick brown fox " \
	"jumps over the lazy dog\"}"
#define MSG_POST "{\"type\":\"text\",\"body\":\"the quick brown fox jumps over the lazy dog\"}"

/* A TCP connection to HOST:PORT, or -1 with *cause. */
static int
tcp_connect(const char *hostport, char **cause)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char *host = xstrdup(hostport), *port = strrchr(host, ':');
	int fd = -1, rc;

	if (port == NULL) {
		*cause = xprintf("%s: not HOST:PORT", hostport);
		free(host);
		return -1;
	}
	*port++ = '\0';
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		*cause = xprintf("%s: %s", hostport, gai_strerror(rc));
	else if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		*cause = xprintf("%s: cannot connect", hostport);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (ai != NULL)
		freeaddrinfo(ai);
	free(host);
	return fd;
}

/* A POST to etcd's gateway as request bytes. */
static size_t
etcd_req(char *buf, size_t len, const char *path, const char *body)
{
	return (size_t)snprintf(buf, len, "POST %s HTTP/1.1\r\nHost: etcd\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", path,
	    strlen(body), body);
}

/* The body of a create-only put of key to val (the form of an rtcs append). */
static char *
txn_body(const char *key, const char *val)
{
	char *k = etcd_b64(key, strlen(key)), *v = etcd_b64(val, strlen(val)), *b;

	b = xprintf("{\"compare\":[{\"key\":\"%s\",\"target\":\"VERSION\",\"result\":\"EQUAL\","
	    "\"version\":\"0\"}],\"success\":[{\"request_put\":{\"key\":\"%s\",\"value\":\"%s\"}}]}",
	    k, k, v);
	free(k);
	free(v);
	return b;
}

/* ---- a durable message: POST through a node / one etcd transaction ---- */

struct post {
	int	 fd;
	char	 req[1024];
	size_t	 reqlen;
	char	 buf[RAW_BUF];
};

static int
post_run(void *ctx, double *lat, char **cause)
{
	struct post *p = ctx;

	(void)lat;
	return raw_http(p->fd, p->req, p->reqlen, p->buf, 201, cause);
}

struct txn {
	int	 fd;
	long	 k;
	char	 req[2048];
	char	 buf[RAW_BUF];
	const char *prefix;
};

static int
txn_run(void *ctx, double *lat, char **cause)
{
	struct txn *x = ctx;
	char key[96], *body;
	size_t len;

	(void)lat;
	snprintf(key, sizeof key, "%s/txn/%020ld", x->prefix, ++x->k);
	body = txn_body(key, REC_TEXT);
	len = etcd_req(x->req, sizeof x->req, "/v3/kv/txn", body);
	free(body);
	return raw_http(x->fd, x->req, len, x->buf, 200, cause);
}

/* ---- cross-node relay: node 1 -> a stream on node 2 / member 1 -> a watch on member 2 ---- */

struct wrelay {
	int	 put, watch;
	long	 k;
	char	 req[2048];
	char	 buf[RAW_BUF];
	const char *prefix;
};

static int
wrelay_run(void *ctx, double *lat, char **cause)
{
	struct wrelay *w = ctx;
	char key[96], val[256], *body, *needle;
	size_t len;
	double t0;
	int rc;

	snprintf(key, sizeof key, "%s/w/%020ld", w->prefix, ++w->k);
	snprintf(val, sizeof val, "%020ld %s", w->k, REC_TEXT);
	body = txn_body(key, val);
	len = etcd_req(w->req, sizeof w->req, "/v3/kv/txn", body);
	free(body);
	needle = etcd_b64(key, strlen(key));
	t0 = now_us();
	rc = raw_write(w->put, w->req, len, cause) != 0 ||
	    raw_read_until(w->watch, w->buf, 0, raw_through, needle, cause) < 0 ? -1 : 0;
	*lat = now_us() - t0;
	free(needle);
	return rc != 0 ? -1 : raw_http_reply(w->put, w->buf, 200, cause);
}

static int
wrelay_init(struct wrelay *w, const char *ep1, const char *ep2, const char *prefix, char **cause)
{
	char *pfx = xprintf("%s/w/", prefix), *end = xstrdup(pfx), *k, *e, *body;
	size_t len;

	memset(w, 0, sizeof *w);
	w->put = w->watch = -1;
	w->prefix = prefix;
	end[strlen(end) - 1]++;
	k = etcd_b64(pfx, strlen(pfx));
	e = etcd_b64(end, strlen(end));
	body = xprintf("{\"create_request\":{\"key\":\"%s\",\"range_end\":\"%s\"}}", k, e);
	len = etcd_req(w->req, sizeof w->req, "/v3/watch", body);
	free(body);
	free(k);
	free(e);
	free(pfx);
	free(end);
	if ((w->watch = tcp_connect(ep2, cause)) < 0 || (w->put = tcp_connect(ep1, cause)) < 0 ||
	    raw_write(w->watch, w->req, len, cause) != 0 ||
	    raw_read_until(w->watch, w->buf, 0, raw_through, "\"created\":true", cause) < 0)
		return -1;
	return 0;
}

/* ---- 16 senders: over three nodes, and all on one ---- */

/* conc senders, sender i through socks[i % nsocks], each in a session of its own. */
static int
spread_init(struct conc *c, const char *const *socks, int nsocks, int conc, int per,
    char **cause)
{
	struct bsession s;
	struct http h;
	char buf[RAW_BUF];
	int i, try;

	conc_alloc(c, conc, per, http_response_len);
	http_init(&h, socks[0]);
	for (i = 0; i < conc; i++) {
		if (session_create(&h, "cs", 1, &s, cause) != 0)
			break;
		c->req[i] = xprintf("POST /v1/sessions/%s/messages HTTP/1.1\r\nHost: rtcs\r\n"
		    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", s.id, s.tokens[0], strlen(MSG_POST), MSG_POST);
		c->reqlen[i] = strlen(c->req[i]);
		session_free(&s);
		if ((c->fds[i] = bench_connect(socks[i % nsocks], cause)) < 0)
			break;
		/* Another node learns of the session from etcd's watch, a little later. */
		for (try = 0; try < 200; try++) {
			free(*cause);
			*cause = NULL;
			if (raw_http(c->fds[i], c->req[i], c->reqlen[i], buf, 201, cause) == 0)
				break;
			sleep_us(5000);
		}
		if (try == 200)
			break;
	}
	http_free(&h);
	return i == conc ? 0 : -1;
}

static void
cluster_batch(struct bench_opts *o, const char *const *socks)
{
	struct bench_opts bo = *o;
	struct conc c[2];
	struct ab_side side[2];
	struct ab_result r;
	char *cause = NULL, *note;
	int per = o->n / o->conc > 0 ? o->n / o->conc : 1;
	double rate[2];

	memset(c, 0, sizeof c);
	if (spread_init(&c[0], socks, 3, o->conc, per, &cause) != 0 ||
	    spread_init(&c[1], socks, 1, o->conc, per, &cause) != 0) {
		fig_na(o, "cluster.batch16_rps", cause);
		goto out;
	}
	side[0] = (struct ab_side){ conc_run, &c[0] };
	side[1] = (struct ab_side){ conc_run, &c[1] };
	bo.n = 1;
	bo.warm = 1;
	if (ab_run_sides(&bo, side, 2, &r, &cause) != 0) {
		fig_na(o, "cluster.batch16_rps", cause);
		ab_free(&r);
		goto out;
	}
	rate[0] = o->conc * per / (samples_pct(&r.lat[0], 50) / 1e6);
	rate[1] = o->conc * per / (samples_pct(&r.lat[1], 50) / 1e6);
	note = xprintf("%d senders x %d msgs, a session each; rtcs = spread over 3 nodes, "
	    "anchor = all through node 1, msg/s", o->conc, per);
	fig_emit(o, "cluster.batch16_rps", rate[0], rate[1], note);
	free(note);
	ab_free(&r);
out:
	free(cause);
	conc_free(&c[0]);
	conc_free(&c[1]);
}

/*
 * -S node 1, --sock2 node 2, --sock3 node 3, --anchor "HOST:PORT,HOST:PORT"
 * (two etcd members), --tag the prefix the nodes use; --log node 1's -vv log.
 */
int
cmd_cluster(struct bench_opts *o, int argc, char **argv)
{
	struct post p = { .fd = -1 };
	struct txn x = { .fd = -1 };
	struct rtcs_relay rr;
	struct wrelay w;
	struct ab_result r;
	struct bsession s;
	struct http h;
	const char *socks[3] = { o->sock, o->sock2, o->sock3 };
	const char *prefix = o->tag != NULL ? o->tag : "/rtcs-bench";
	char *eps, *ep2, *cause = NULL, *note;
	double txn_p50 = NAN;
	int try;

	(void)argc;
	(void)argv;
	memset(&rr, 0, sizeof rr);
	rr.post = rr.stream = -1;
	memset(&w, 0, sizeof w);
	w.put = w.watch = -1;
	if (o->sock == NULL || o->sock2 == NULL || o->sock3 == NULL || o->anchor == NULL ||
	    (ep2 = strchr(o->anchor, ',')) == NULL) {
		fprintf(stderr, "rtcs-bench: cluster: -S, --sock2, --sock3 and --anchor EP1,EP2\n");
		return 64;
	}
	eps = xstrndup(o->anchor, (size_t)(ep2 - o->anchor));
	ep2++;

	/* 1. A durable message through node 1 against one etcd transaction. */
	http_init(&h, o->sock);
	if (session_create(&h, "cl", 1, &s, &cause) == 0) {
		p.reqlen = (size_t)snprintf(p.req, sizeof p.req, "POST /v1/sessions/%s/messages "
		    "HTTP/1.1\r\nHost: rtcs\r\nAuthorization: Bearer %s\r\nContent-Type: "
		    "application/json\r\nContent-Length: %zu\r\n\r\n%s", s.id, s.tokens[0],
		    strlen(MSG_POST), MSG_POST);
		session_free(&s);
	}
	http_free(&h);
	x.prefix = prefix;
	if (cause == NULL && (p.fd = bench_connect(o->sock, &cause)) >= 0 &&
	    (x.fd = tcp_connect(eps, &cause)) >= 0 &&
	    ab_run(o, post_run, &p, txn_run, &x, &r, &cause) == 0) {
		txn_p50 = samples_pct(&r.lat[1], 50);
		note = xprintf("POST message through node 1 (3 nodes, 3 etcd members) vs one "
		    "create-only etcd txn of a %zu-byte record (p99 %.0f / %.0f us)",
		    strlen(REC_TEXT), samples_pct(&r.lat[0], 99), samples_pct(&r.lat[1], 99));
		fig_emit(o, "cluster.message.p50_us", samples_pct(&r.lat[0], 50), txn_p50, note);
		free(note);
		ab_free(&r);
	} else
		fig_na(o, "cluster.message.p50_us", cause);
	free(cause);
	cause = NULL;

	/* 2. Node 1 -> a stream on node 2, against member 1 -> a watch on member 2. */
	for (try = 0; try < 200 && rtcs_relay_init(&rr, o->sock, o->sock2, &cause) != 0; try++) {
		/* Node 2 learns of the new session from etcd's watch, a little later. */
		rtcs_relay_free(&rr);
		memset(&rr, 0, sizeof rr);
		rr.post = rr.stream = -1;
		free(cause);
		cause = NULL;
		sleep_us(5000);
	}
	if (try < 200 &&
	    wrelay_init(&w, eps, ep2, prefix, &cause) == 0 &&
	    ab_run(o, rtcs_relay_run, &rr, wrelay_run, &w, &r, &cause) == 0) {
		note = xprintf("POST on node 1 -> the line on a stream on node 2, vs an etcd txn on "
		    "one member -> the event on a watch of another (p99 %.0f / %.0f us)",
		    samples_pct(&r.lat[0], 99), samples_pct(&r.lat[1], 99));
		fig_emit(o, "cluster.relay.p50_us", samples_pct(&r.lat[0], 50),
		    samples_pct(&r.lat[1], 50), note);
		free(note);
		ab_free(&r);
	} else
		fig_na(o, "cluster.relay.p50_us", cause);
	free(cause);
	cause = NULL;

	/* 3. Whole transfers through node 1, beside one etcd transaction. */
	transfer_figures(o, "cluster", txn_p50 / 1e3);

	/* 4. 16 senders over three nodes against all on one. */
	cluster_batch(o, socks);

	if (p.fd >= 0)
		close(p.fd);
	if (x.fd >= 0)
		close(x.fd);
	if (w.put >= 0)
		close(w.put);
	if (w.watch >= 0)
		close(w.watch);
	rtcs_relay_free(&rr);
	free(eps);
	return 0;
}
