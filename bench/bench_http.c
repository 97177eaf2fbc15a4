/* rtcs-bench: control-plane read and durable mutation against their anchors. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "fsutil.h"
#include "json.h"
#include "xmalloc.h"

/* One prepared request on a keep-alive handle, repeated as it is. */
struct reqop {
	CURL			*h;
	struct curl_slist	*hdrs;
	char			*body;
	long			 want;
	size_t			 got;
	char			 first[256];
};

static size_t
reqop_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct reqop *r = arg;
	size_t len = size * nmemb, room = sizeof r->first - 1 - r->got;

	if (room > 0) {
		memcpy(r->first + r->got, p, len < room ? len : room);
		r->got += len < room ? len : room;
		r->first[r->got] = '\0';
	}
	return len;
}

static void
reqop_init(struct reqop *r, const char *sock, const char *method, const char *path,
    const char *token, const char *body, long want)
{
	memset(r, 0, sizeof *r);
	if ((r->h = curl_easy_init()) == NULL)
		abort();
	http_setup(r->h, sock, path);
	r->hdrs = http_headers(token);
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, reqop_write);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT, 30L);
	if (body != NULL) {
		r->body = xstrdup(body);
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, method);
	r->want = want;
}

static void
reqop_free(struct reqop *r)
{
	curl_easy_cleanup(r->h);
	curl_slist_free_all(r->hdrs);
	free(r->body);
}

static int
reqop_run(void *ctx, double *lat, char **cause)
{
	struct reqop *r = ctx;
	CURLcode rc;
	long status = 0;

	(void)lat;
	r->got = 0;
	if ((rc = curl_easy_perform(r->h)) != CURLE_OK) {
		*cause = xprintf("request failed: %s", curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != r->want) {
		*cause = xprintf("status %ld (want %ld): %s", status, r->want, r->first);
		return -1;
	}
	return 0;
}

static int
write_www(const char *www, const char *name, const char *data, char **cause)
{
	return fs_write_atomic(www, name, NULL, data, strlen(data), 0, cause);
}

/*
 * GET /v1/sessions/{id} (operator) vs nginx serving the same bytes from a
 * file, on one keep-alive connection each. Without -S only nginx runs.
 */
int
read_compare(struct bench_opts *o, const char *prefix, const char *note, double p50[2])
{
	struct reqop a, b;
	struct ab_result r;
	struct bsession s;
	struct http c;
	char *cause = NULL, *path = NULL, *fname, *why = NULL;
	long status = 0;
	int rc = 0, have = o->sock != NULL;

	if (!have)
		why = xstrdup("no rtcs-serve");
	if (have) {
		http_init(&c, o->sock);
		if (session_create(&c, "rd", 2, &s, &cause) == 0) {
			path = xprintf("/v1/sessions/%s", s.id);
			if (http_req(&c, "GET", path, NULL, NULL, &status, &cause) == 0 &&
			    status != 200)
				cause = xprintf("GET %s: status %ld", path, status);
			session_free(&s);
		}
		if (cause == NULL)
			write_www(o->www, "session.json", c.resp, &cause);
		http_free(&c);
		if (cause != NULL) {
			why = xprintf("rtcs: %s", cause);
			free(cause);
			cause = NULL;
			have = 0;
		}
	}
	if (!have && write_www(o->www, "session.json",
	    "{\"session\":{\"id\":\"placeholder of a typical size\"}}", &cause) != 0)
		goto fail;
	if (o->nginx != NULL)
		reqop_init(&b, o->nginx, "GET", "/session.json", NULL, NULL, 200);
	if (have)
		reqop_init(&a, o->sock, "GET", path, NULL, NULL, 200);
	if (ab_run(o, have ? reqop_run : NULL, &a, o->nginx ? reqop_run : NULL, &b, &r,
	    &cause) != 0)
		rc = -1;
	else {
		char *n = xprintf("%s%sp99 rtcs %.1f us, nginx %.1f us", note ? note : "",
		    note ? "; " : "", samples_pct(&r.lat[0], 99), samples_pct(&r.lat[1], 99));
		fname = xprintf("%s.p50_us", prefix);
		if (p50 != NULL) {
			p50[0] = have ? samples_pct(&r.lat[0], 50) : NAN;
			p50[1] = samples_pct(&r.lat[1], 50);
		}
		fig_emit(o, fname, have ? samples_pct(&r.lat[0], 50) : NAN,
		    samples_pct(&r.lat[1], 50), have ? n : why);
		free(fname);
		/* Under a load (tricklers), the tail is the figure that matters. */
		if (strcmp(prefix, "trickle.read") == 0) {
			fname = xprintf("%s.p99_us", prefix);
			fig_emit(o, fname, have ? samples_pct(&r.lat[0], 99) : NAN,
			    samples_pct(&r.lat[1], 99), have ? note : why);
			free(fname);
		}
		fname = xprintf("%s.rps", prefix);
		fig_emit(o, fname, have ? samples_pct(&r.rate[0], 50) : NAN,
		    samples_pct(&r.rate[1], 50), have ? note : why);
		free(fname);
		free(n);
	}
	ab_free(&r);
	if (o->nginx != NULL)
		reqop_free(&b);
	if (have)
		reqop_free(&a);
	free(path);
	free(why);
	if (rc == 0)
		return 0;
fail:
	fprintf(stderr, "rtcs-bench: %s: %s\n", prefix, cause);
	free(cause);
	return -1;
}

int
cmd_read(struct bench_opts *o, int argc, char **argv)
{
	/* "read trickle": the same while bench/run keeps 200 slow request heads open. */
	if (argc > 0 && strcmp(argv[0], "trickle") == 0)
		return read_compare(o, "trickle.read",
		    "while 200 connections trickle a request head a byte every 500 ms", NULL) == 0 ? 0 : 1;
	return read_compare(o, "read", NULL, NULL) == 0 ? 0 : 1;
}

/* The anchor of a durable mutation: an nginx round trip, then one atomic durable write. */
struct durable_anchor {
	struct reqop	 ack;
	const char	*dir;
	char		*tmp;
	const char	*entry;
	struct samples	 fsync_us;
};

static int
durable_anchor_run(void *ctx, double *lat, char **cause)
{
	struct durable_anchor *d = ctx;
	double t;

	(void)lat;
	if (reqop_run(&d->ack, NULL, cause) != 0)
		return -1;
	t = now_us();
	if (fs_write_atomic(d->dir, "entry", d->tmp, d->entry, strlen(d->entry), 1, cause) != 0)
		return -1;
	samples_add(&d->fsync_us, now_us() - t);
	return 0;
}

#define MSG_TEXT "the quick brown fox jumps over the lazy dog"
#define MSG_BODY "{\"type\":\"text\",\"body\":\"" MSG_TEXT "\"}"
#define MSG_ENTRY "{\"seq\":1234,\"ts\":\"2026-11-24T05:30:00.123Z\",\"type\":\"message\"," \
	"\"from\":\"p0\",\"device\":\"mu-d0\",\"kind\":\"text\"," \
	"\"body\":\"" MSG_TEXT "\",\"crc\":\"0123abcd\"}\n"

/* The disk's own limit: one append of a log record's size, then fdatasync. */
struct append_sync {
	int	 fd;
};

static int
append_sync_run(void *ctx, double *lat, char **cause)
{
	struct append_sync *a = ctx;

	(void)lat;
	if (raw_write(a->fd, MSG_ENTRY, sizeof MSG_ENTRY - 1, cause) != 0)
		return -1;
	if (fdatasync(a->fd) != 0) {
		*cause = xprintf("fdatasync: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Opens the Redis side of a figure, or says why it is n/a. */
static int
redis_xadd_side(const struct bench_opts *o, struct redis_xadd *x, char **why)
{
	char *cause = NULL;

	memset(x, 0, sizeof *x);
	x->fd = -1;
	if (o->redis == NULL) {
		*why = xstrdup("no redis-server (tools/packages-bench)");
		return 0;
	}
	if (redis_xadd_init(x, o->redis, "bench:mutate", MSG_TEXT, &cause) != 0) {
		*why = xprintf("redis: %s", cause);
		free(cause);
		return 0;
	}
	return 1;
}

/* The durable figures of one sender, all from the same interleaved rounds. */
static void
mutate_emit(const struct bench_opts *o, struct ab_result *r, struct durable_anchor *d,
    int have, const char *why, int xhave, const char *xwhy)
{
	double m = have ? samples_pct(&r->lat[0], 50) : NAN, f = samples_pct(&r->lat[3], 50);
	char *note;

	note = xprintf("rtcs --sync always; anchor = nginx GET + write/fsync/rename/fsync-dir "
	    "(that part alone p50 %.1f us)", samples_pct(&d->fsync_us, 50));
	fig_emit(o, "mutation.p50_us", m, samples_pct(&r->lat[1], 50), have ? note : why);
	fig_emit(o, "mutation.rps", have ? samples_pct(&r->rate[0], 50) : NAN,
	    samples_pct(&r->rate[1], 50), have ? note : why);
	free(note);
	note = xprintf("anchor: XADD of the same text (type, from, device, body) on a redis-server "
	    "with appendonly yes, appendfsync always, RESP on a raw socket (rtcs: libcurl); "
	    "= %.2f fdatasyncs", xhave ? samples_pct(&r->lat[2], 50) / f : NAN);
	fig_emit(o, "mutation.redis.p50_us", m, xhave ? samples_pct(&r->lat[2], 50) : NAN,
	    !xhave ? xwhy : have ? note : why);
	free(note);
	note = xprintf("anchor: write of a %zu-byte record with O_APPEND, then fdatasync, "
	    "in the stores' file system; rtcs = %.2f fdatasyncs", sizeof MSG_ENTRY - 1, m / f);
	fig_emit(o, "mutation.fdatasync.p50_us", m, f, have ? note : why);
	free(note);
	note = xprintf("%zu-byte O_APPEND write + fdatasync, p99 %.1f us", sizeof MSG_ENTRY - 1,
	    samples_pct(&r->lat[3], 99));
	fig_emit(o, "store.fdatasync_us", f, NAN, note);
	free(note);
}

static int
mutate_single(struct bench_opts *o)
{
	struct durable_anchor d;
	struct append_sync as;
	struct redis_xadd x;
	struct reqop a;
	struct ab_result r;
	struct ab_side side[4];
	struct bsession s;
	struct http c;
	char *cause = NULL, *path = NULL, *why = NULL, *xwhy = NULL, *apath;
	int have = o->sock != NULL, xhave, rc = 0;

	if (!have)
		why = xstrdup("no rtcs-serve");
	memset(&d, 0, sizeof d);
	if (have) {
		http_init(&c, o->sock);
		if (session_create(&c, "mu", 2, &s, &cause) == 0) {
			path = xprintf("/v1/sessions/%s/messages", s.id);
			reqop_init(&a, o->sock, "POST", path, s.tokens[0], MSG_BODY, 201);
			session_free(&s);
		} else {
			why = xprintf("rtcs: %s", cause);
			free(cause);
			cause = NULL;
			have = 0;
		}
		http_free(&c);
	}
	xhave = redis_xadd_side(o, &x, &xwhy);
	if (write_www(o->www, "ack.json", "{\"seq\":1234}", &cause) != 0)
		goto fail;
	d.dir = o->dir;
	d.tmp = xprintf("%s/tmp", o->dir);
	d.entry = MSG_ENTRY;
	mkdir(d.tmp, 0700);
	apath = xprintf("%s/append-anchor.log", o->dir);
	as.fd = open(apath, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	free(apath);
	if (as.fd < 0) {
		cause = xprintf("%s/append-anchor.log: %s", o->dir, strerror(errno));
		goto fail;
	}
	if (o->nginx != NULL)
		reqop_init(&d.ack, o->nginx, "GET", "/ack.json", NULL, NULL, 200);
	side[0] = (struct ab_side){ have ? reqop_run : NULL, &a };
	side[1] = (struct ab_side){ o->nginx ? durable_anchor_run : NULL, &d };
	side[2] = (struct ab_side){ xhave ? redis_xadd_run : NULL, &x };
	side[3] = (struct ab_side){ append_sync_run, &as };
	if (ab_run_sides(o, side, 4, &r, &cause) != 0)
		rc = -1;
	else
		mutate_emit(o, &r, &d, have, why, xhave, xwhy);
	ab_free(&r);
	close(as.fd);
	samples_free(&d.fsync_us);
	if (o->nginx != NULL)
		reqop_free(&d.ack);
	if (have)
		reqop_free(&a);
	redis_xadd_free(&x);
	free(d.tmp);
	free(path);
	free(why);
	free(xwhy);
	if (rc == 0)
		return 0;
fail:
	fprintf(stderr, "rtcs-bench: mutation: %s\n", cause);
	free(cause);
	return -1;
}

/* conc senders, one device each of one session, posting a message on raw sockets. */
static int
rtcs_conc_init(struct conc *c, const char *sock, int conc, int per, char **cause)
{
	struct bsession s;
	struct http h;
	int i;

	memset(c, 0, sizeof *c);
	http_init(&h, sock);
	if (session_create(&h, "bu", conc, &s, cause) != 0) {
		http_free(&h);
		return -1;
	}
	http_free(&h);
	conc_alloc(c, conc, per, http_response_len);
	for (i = 0; i < conc; i++) {
		c->req[i] = xprintf("POST /v1/sessions/%s/messages HTTP/1.1\r\nHost: rtcs\r\n"
		    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", s.id, s.tokens[i], strlen(MSG_BODY), MSG_BODY);
		c->reqlen[i] = strlen(c->req[i]);
		if ((c->fds[i] = bench_connect(sock, cause)) < 0)
			break;
	}
	session_free(&s);
	return i == conc ? 0 : -1;
}

/* One side of the 16-sender run: rtcs on sock, or Redis when redis is set. */
static int
conc_side(const struct bench_opts *o, const char *sock, int redis, struct conc *c,
    char **why)
{
	int per = o->n / o->conc > 0 ? o->n / o->conc : 1, ok;

	memset(c, 0, sizeof *c);
	if (sock == NULL) {
		*why = xstrdup(redis ? "no redis-server (tools/packages-bench)" : "no rtcs-serve");
		return 0;
	}
	ok = redis ? redis_conc_init(c, sock, o->conc, per, MSG_TEXT, why) :
	    rtcs_conc_init(c, sock, o->conc, per, why);
	if (ok != 0) {
		conc_free(c);
		return 0;
	}
	return 1;
}

/*
 * 16 senders at once: --sync batch (--sock2) against --sync always (-S),
 * --sync none (--sock3: the server's own ceiling) and Redis with 16 clients
 * (--redis, appendfsync always, which group-commits too), round after round.
 */
static int
mutate_batch(struct bench_opts *o)
{
	static const char *names[] = { "mutation.batch16_rps", "mutation.batch16_none_rps",
	    "mutation.batch16_redis_rps" };
	static const char *what[] = { "--sync always", "--sync none", "Redis XADD, 16 clients" };
	static const int anchor[] = { 1, 2, 3 };
	struct bench_opts bo = *o;
	struct conc c[4];
	struct ab_side side[4];
	struct ab_result r;
	char *why[4] = { NULL }, *cause = NULL, *note;
	const char *socks[4] = { o->sock2, o->sock, o->sock3, o->redis };
	int per = o->n / o->conc > 0 ? o->n / o->conc : 1, have[4], i;
	double rate[4];

	for (i = 0; i < 4; i++) {
		have[i] = conc_side(o, socks[i], i == 3, &c[i], &why[i]);
		side[i] = (struct ab_side){ have[i] ? conc_run : NULL, &c[i] };
	}
	bo.n = 1;
	bo.warm = 1;
	if (ab_run_sides(&bo, side, 4, &r, &cause) != 0) {
		fprintf(stderr, "rtcs-bench: mutation batch: %s\n", cause);
		for (i = 0; i < 3; i++)
			fig_na(o, names[i], cause);
		free(cause);
	} else {
		/* Each "operation" was a burst of conc*per requests. */
		for (i = 0; i < 4; i++)
			rate[i] = have[i] ? o->conc * per / (samples_pct(&r.lat[i], 50) / 1e6) : NAN;
		for (i = 0; i < 3; i++) {
			note = xprintf("%d senders x %d msgs, raw sockets on one epoll loop; "
			    "rtcs = --sync batch msg/s, anchor = %s msg/s", o->conc, per, what[i]);
			fig_emit(o, names[i], rate[0], rate[anchor[i]],
			    !have[anchor[i]] ? why[anchor[i]] : have[0] ? note : why[0]);
			free(note);
		}
	}
	ab_free(&r);
	for (i = 0; i < 4; i++) {
		conc_free(&c[i]);
		free(why[i]);
	}
	return 0;
}

int
cmd_mutate(struct bench_opts *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return mutate_single(o) == 0 ? 0 : 1;
}

int
cmd_batch(struct bench_opts *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return mutate_batch(o) == 0 ? 0 : 1;
}

/* The durable write alone: write, fsync, rename, fsync the directory. */
int
cmd_fsync(struct bench_opts *o, int argc, char **argv)
{
	struct samples s = { 0 };
	char *tmp = xprintf("%s/tmp", o->dir), *cause = NULL;
	double t;
	int i;

	(void)argc;
	(void)argv;
	mkdir(tmp, 0700);
	for (i = 0; i < o->warm + o->n * o->rounds; i++) {
		t = now_us();
		if (fs_write_atomic(o->dir, "entry", tmp, MSG_ENTRY, strlen(MSG_ENTRY), 1,
		    &cause) != 0) {
			fprintf(stderr, "rtcs-bench: fsync: %s\n", cause);
			free(cause);
			free(tmp);
			return 1;
		}
		if (i >= o->warm)
			samples_add(&s, now_us() - t);
	}
	printf("write+fsync+rename+fsync-dir: p50 %.1f us, p99 %.1f us (%zu runs)\n",
	    samples_pct(&s, 50), samples_pct(&s, 99), s.n);
	samples_free(&s);
	free(tmp);
	return 0;
}
