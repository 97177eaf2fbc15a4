/* rtcs-bench: control-plane read and durable mutation against their anchors. */
#include <sys/stat.h>

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
read_compare(struct bench_opts *o, const char *prefix, const char *note)
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
		    "while 200 connections trickle a request head a byte every 500 ms") == 0 ? 0 : 1;
	return read_compare(o, "read", NULL) == 0 ? 0 : 1;
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

#define MSG_BODY "{\"type\":\"text\",\"body\":\"the quick brown fox jumps over the lazy dog\"}"
#define MSG_ENTRY "{\"seq\":1234,\"ts\":\"2026-11-24T05:30:00.123Z\",\"type\":\"message\"," \
	"\"from\":\"p0\",\"device\":\"mu-d0\",\"kind\":\"text\"," \
	"\"body\":\"the quick brown fox jumps over the lazy dog\",\"crc\":\"0123abcd\"}\n"

static int
mutate_single(struct bench_opts *o)
{
	struct durable_anchor d;
	struct reqop a;
	struct ab_result r;
	struct bsession s;
	struct http c;
	char *cause = NULL, *path = NULL, *why = NULL, *note;
	int have = o->sock != NULL, rc = 0;

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
	if (write_www(o->www, "ack.json", "{\"seq\":1234}", &cause) != 0)
		goto fail;
	d.dir = o->dir;
	d.tmp = xprintf("%s/tmp", o->dir);
	d.entry = MSG_ENTRY;
	mkdir(d.tmp, 0700);
	if (o->nginx != NULL)
		reqop_init(&d.ack, o->nginx, "GET", "/ack.json", NULL, NULL, 200);
	if (ab_run(o, have ? reqop_run : NULL, &a, o->nginx ? durable_anchor_run : NULL, &d, &r,
	    &cause) != 0)
		rc = -1;
	else {
		note = xprintf("rtcs --sync always; anchor = nginx GET + write/fsync/rename/fsync-dir "
		    "(that part alone p50 %.1f us)", samples_pct(&d.fsync_us, 50));
		fig_emit(o, "mutation.p50_us", have ? samples_pct(&r.lat[0], 50) : NAN,
		    samples_pct(&r.lat[1], 50), have ? note : why);
		fig_emit(o, "mutation.rps", have ? samples_pct(&r.rate[0], 50) : NAN,
		    samples_pct(&r.rate[1], 50), have ? note : why);
		free(note);
	}
	ab_free(&r);
	samples_free(&d.fsync_us);
	if (o->nginx != NULL)
		reqop_free(&d.ack);
	if (have)
		reqop_free(&a);
	free(d.tmp);
	free(path);
	free(why);
	if (rc == 0)
		return 0;
fail:
	fprintf(stderr, "rtcs-bench: mutation: %s\n", cause);
	free(cause);
	return -1;
}

/* conc senders (one device each) posting as fast as they can through one multi handle. */
struct burst {
	CURLM		*m;
	struct reqop	*ops;
	int		 conc;
	int		 per;
};

static int
burst_init(struct burst *b, const char *sock, int conc, int per, char **cause)
{
	struct bsession s;
	struct http c;
	char *path;
	int i;

	memset(b, 0, sizeof *b);
	http_init(&c, sock);
	if (session_create(&c, "bu", conc, &s, cause) != 0) {
		http_free(&c);
		return -1;
	}
	http_free(&c);
	path = xprintf("/v1/sessions/%s/messages", s.id);
	b->m = curl_multi_init();
	b->ops = xcalloc((size_t)conc, sizeof *b->ops);
	for (i = 0; i < conc; i++)
		reqop_init(&b->ops[i], sock, "POST", path, s.tokens[i], MSG_BODY, 201);
	b->conc = conc;
	b->per = per;
	free(path);
	session_free(&s);
	return 0;
}

static void
burst_free(struct burst *b)
{
	int i;

	for (i = 0; i < b->conc; i++)
		reqop_free(&b->ops[i]);
	free(b->ops);
	curl_multi_cleanup(b->m);
}

/* Runs per requests on every sender; the op's "latency" is the burst's wall time. */
static int
burst_run(void *ctx, double *lat, char **cause)
{
	struct burst *b = ctx;
	struct CURLMsg *msg;
	int i, running, left = 0, q, *todo = xcalloc((size_t)b->conc, sizeof *todo);
	double t0 = now_us();
	long status;

	for (i = 0; i < b->conc; i++) {
		todo[i] = b->per;
		left += b->per;
		curl_multi_add_handle(b->m, b->ops[i].h);
	}
	while (left > 0) {
		curl_multi_perform(b->m, &running);
		while ((msg = curl_multi_info_read(b->m, &q)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (i = 0; i < b->conc && b->ops[i].h != msg->easy_handle; i++)
				;
			status = 0;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			if (msg->data.result != CURLE_OK || status != 201) {
				*cause = xprintf("burst: %s, status %ld: %s",
				    curl_easy_strerror(msg->data.result), status, b->ops[i].first);
				for (i = 0; i < b->conc; i++)
					curl_multi_remove_handle(b->m, b->ops[i].h);
				free(todo);
				return -1;
			}
			curl_multi_remove_handle(b->m, msg->easy_handle);
			left--;
			b->ops[i].got = 0;
			if (--todo[i] > 0)
				curl_multi_add_handle(b->m, b->ops[i].h);
		}
		if (left > 0)
			curl_multi_poll(b->m, NULL, 0, 1000, NULL);
	}
	free(todo);
	*lat = now_us() - t0;
	return 0;
}

/* --sync batch (--sock2) vs --sync always (-S), conc senders each, alternating. */
static int
mutate_batch(struct bench_opts *o)
{
	struct bench_opts bo = *o;
	struct burst a, b;
	struct ab_result r;
	char *cause = NULL, *note;
	double ra, rb;
	int per = o->n / o->conc > 0 ? o->n / o->conc : 1;

	if (o->sock == NULL || o->sock2 == NULL) {
		fig_na(o, "mutation.batch16_rps", "no rtcs-serve");
		return 0;
	}
	if (burst_init(&a, o->sock2, o->conc, per, &cause) != 0)
		goto fail;
	if (burst_init(&b, o->sock, o->conc, per, &cause) != 0) {
		burst_free(&a);
		goto fail;
	}
	bo.n = 1;
	bo.warm = 1;
	if (ab_run(&bo, burst_run, &a, burst_run, &b, &r, &cause) != 0) {
		burst_free(&a);
		burst_free(&b);
		ab_free(&r);
		goto fail;
	}
	/* Each "operation" was a burst of conc*per requests. */
	ra = samples_pct(&r.lat[0], 50);
	rb = samples_pct(&r.lat[1], 50);
	note = xprintf("%d senders x %d msgs; rtcs = --sync batch msg/s, anchor = --sync always "
	    "msg/s, ratio = batch multiplier", o->conc, per);
	fig_emit(o, "mutation.batch16_rps", o->conc * per / (ra / 1e6),
	    o->conc * per / (rb / 1e6), note);
	free(note);
	ab_free(&r);
	burst_free(&a);
	burst_free(&b);
	return 0;
fail:
	fig_na(o, "mutation.batch16_rps", cause);
	fprintf(stderr, "rtcs-bench: mutation batch: %s\n", cause);
	free(cause);
	return -1;
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
