/*
 * rtcs-bench transfer and continuity: whole push transfers driven through the
 * API (doc/api.md, issue 4), timed by the server itself, and a peer
 * sending every 20 ms while the participant moves from device to device.
 * Server time: with --log (an rtcs-serve -vv log) the sum of the server's own
 * per-call timings ("METHOD /v1/transfers...: N us", logged before the reply
 * leaves) over the transfer's calls, as bench/transfer-time.sh does; without
 * it, completed_at - created_at (which includes the client's turns).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "json.h"
#include "xmalloc.h"

#define NO_API "server has no transfer API"

/*
 * Sum of the server's timings of /v1/transfers calls logged since *off, in ms;
 * advances *off. -1 if the log cannot be read.
 */
static double
log_xfer_ms(const char *path, long *off)
{
	char line[512], *p;
	long long us, sum = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fseek(f, *off, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if (strchr(line, '\n') == NULL)
			break;	/* a partial last line: read it next time */
		*off = ftell(f);
		if (strstr(line, " /v1/transfers") == NULL ||
		    (p = strrchr(line, ':')) == NULL ||
		    sscanf(p, ": %lld us", &us) != 1)
			continue;
		sum += us;
	}
	fclose(f);
	return sum / 1e3;
}

/* Milliseconds since the epoch of an RFC 3339 UTC time; NAN if malformed. */
static double
ts_ms(const char *s)
{
	struct tm tm;
	double sec;
	char *end;

	if (s == NULL)
		return NAN;
	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min) != 5 || strlen(s) < 17)
		return NAN;
	sec = strtod(s + 17, &end);
	if (end == s + 17 || (*end != 'Z' && *end != '+'))
		return NAN;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) * 1e3 + sec * 1e3;
}

/* The device speaking for the participant that moves, and its token. */
struct origin {
	char	*dev;
	char	*tok;
};

static char *
body_of(const char *k1, const char *v1, const char *k2, const char *v2, const char *k3,
    const char *v3)
{
	cJSON *j = cJSON_CreateObject();
	char *s;

	if (k1 != NULL)
		cJSON_AddStringToObject(j, k1, v1);
	if (k2 != NULL)
		cJSON_AddStringToObject(j, k2, v2);
	if (k3 != NULL)
		cJSON_AddStringToObject(j, k3, v3);
	s = json_print(j);
	cJSON_Delete(j);
	return s;
}

/* One request whose status must be want; the parsed response or NULL with *cause. */
static cJSON *
call(struct http *c, const char *method, const char *path, const char *tok, const char *body,
    long want, long *status, char **cause)
{
	cJSON *j;

	if ((j = http_json(c, method, path, tok, body, status, cause)) == NULL)
		return NULL;
	if (*status != want) {
		*cause = xprintf("%s %s: status %ld: %.300s", method, path, *status, c->resp);
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* A transfer in flight, as the driver sees it. */
struct xfer {
	char	*id;
	char	*payload;
	char	*match;
	char	*claim;
};

static void
xfer_free(struct xfer *x)
{
	free(x->id);
	free(x->payload);
	free(x->match);
	free(x->claim);
}

/* POST /v1/transfers as the origin; *absent if the server has no such route. */
static int
xfer_request(struct http *c, const char *sid, struct origin *o, const char *proof,
    const char *confirm, struct xfer *x, int *absent, char **cause)
{
	char *body = body_of("session", sid, "proof", proof, "confirm", confirm);
	const char *id, *payload;
	cJSON *j;
	long st = 0;

	j = call(c, "POST", "/v1/transfers", o->tok, body, 201, &st, cause);
	free(body);
	if (j == NULL) {
		if (st == 404 || st == 405) {
			*absent = 1;
			free(*cause);
			*cause = xstrdup(NO_API);
		}
		return -1;
	}
	id = json_str(cJSON_GetObjectItemCaseSensitive(j, "transfer"), "id");
	if (id == NULL || (payload = json_str(j, "payload")) == NULL) {
		*cause = xprintf("POST /v1/transfers: no transfer id or payload: %.300s", c->resp);
		cJSON_Delete(j);
		return -1;
	}
	x->id = xstrdup(id);
	x->payload = xstrdup(payload);
	cJSON_Delete(j);
	return 0;
}

/* The new device's scan (no token: it is unknown yet), then the displayer's if proof is both. */
static int
xfer_images(struct http *c, struct origin *o, const char *newdev, const char *proof,
    struct xfer *x, char **cause)
{
	char *path = xprintf("/v1/transfers/%s/image", x->id), *body;
	const char *s;
	cJSON *j;
	long st;
	int rc = -1;

	body = body_of("device", newdev, "payload", x->payload, NULL, NULL);
	j = call(c, "POST", path, NULL, body, 200, &st, cause);
	free(body);
	if (j == NULL)
		goto out;
	if ((s = json_str(j, "match")) != NULL)
		x->match = xstrdup(s);
	if ((s = json_str(j, "claim")) != NULL)
		x->claim = xstrdup(s);
	cJSON_Delete(j);
	if (x->claim == NULL) {
		*cause = xprintf("POST %s: no claim secret: %.300s", path, c->resp);
		goto out;
	}
	if (strcmp(proof, "both") == 0) {
		body = body_of("device", o->dev, "payload", x->payload, NULL, NULL);
		j = call(c, "POST", path, o->tok, body, 200, &st, cause);
		free(body);
		if (j == NULL)
			goto out;
		cJSON_Delete(j);
	}
	rc = 0;
out:
	free(path);
	return rc;
}

static int
xfer_confirm(struct http *c, struct origin *o, struct xfer *x, char **cause)
{
	char *path = xprintf("/v1/transfers/%s/confirm", x->id);
	char *body = body_of("match", x->match ? x->match : "", NULL, NULL, NULL, NULL);
	cJSON *j;
	long st;

	j = call(c, "POST", path, o->tok, body, 200, &st, cause);
	free(body);
	free(path);
	cJSON_Delete(j);
	return j != NULL ? 0 : -1;
}

/* Polls GET /v1/transfers/{id} until completed; the server's own duration. */
static int
xfer_wait(struct http *c, struct xfer *x, double *server_ms, char **cause)
{
	char *path = xprintf("/v1/transfers/%s", x->id);
	const char *state;
	double t0 = now_us();
	cJSON *j, *t;
	long st;

	for (;;) {
		if ((j = call(c, "GET", path, NULL, NULL, 200, &st, cause)) == NULL)
			break;
		t = cJSON_GetObjectItemCaseSensitive(j, "transfer");
		state = json_str(t, "state");
		if (state != NULL && strcmp(state, "completed") == 0) {
			*server_ms = ts_ms(json_str(t, "completed_at")) -
			    ts_ms(json_str(t, "created_at"));
			cJSON_Delete(j);
			free(path);
			return 0;
		}
		if (state != NULL && strcmp(state, "failed") == 0)
			*cause = xprintf("transfer %s failed: %s", x->id,
			    json_str(t, "reason") ? json_str(t, "reason") : "?");
		else if (now_us() - t0 > 10e6)
			*cause = xprintf("transfer %s still %s after 10 s", x->id,
			    state ? state : "?");
		cJSON_Delete(j);
		if (*cause != NULL)
			break;
		sleep_us(500);
	}
	free(path);
	return -1;
}

/* The claimant collects the new channel's token; it becomes the origin. */
static int
xfer_token(struct http *c, struct origin *o, const char *newdev, struct xfer *x, char **cause)
{
	char *path = xprintf("/v1/transfers/%s/token", x->id);
	const char *tok;
	cJSON *j;
	long st;

	j = call(c, "GET", path, x->claim, NULL, 200, &st, cause);
	if (j != NULL && (tok = json_str(j, "token")) == NULL)
		*cause = xprintf("GET %s: no token", path);
	free(path);
	if (j == NULL || *cause != NULL) {
		cJSON_Delete(j);
		return -1;
	}
	free(o->tok);
	free(o->dev);
	o->tok = xstrdup(tok);
	o->dev = xstrdup(newdev);
	cJSON_Delete(j);
	return 0;
}

/*
 * Moves the participant from o to newdev: request, image data, confirm,
 * wait for completed, fetch the new token. *absent if POST /v1/transfers is 404.
 */
static int
transfer_once(struct http *c, const char *sid, struct origin *o, const char *newdev,
    const char *proof, const char *confirm, double *server_ms, int *absent, char **cause)
{
	struct xfer x = { NULL, NULL, NULL, NULL };
	int rc = -1;

	*cause = NULL;
	if (xfer_request(c, sid, o, proof, confirm, &x, absent, cause) == 0 &&
	    xfer_images(c, o, newdev, proof, &x, cause) == 0 &&
	    (strcmp(confirm, "origin") != 0 || xfer_confirm(c, o, &x, cause) == 0) &&
	    xfer_wait(c, &x, server_ms, cause) == 0 &&
	    xfer_token(c, o, newdev, &x, cause) == 0)
		rc = 0;
	xfer_free(&x);
	return rc;
}

/*
 * What the store did for each measured transfer (GET /v1/health "store"
 * before and after): fsyncs against those the protocol needs, one per call
 * whose reply promises a durable change (request, each image, confirm).
 */
static void
transfer_syncs(struct bench_opts *o, const char *name, const char *proof, const char *confirm,
    const double *c0, const double *c1, size_t n)
{
	int need = 2 + (strcmp(proof, "both") == 0) + (strcmp(confirm, "origin") == 0);
	char *fname = xprintf("%.*s_fsyncs", (int)(strlen(name) - 3), name), *note;

	note = xprintf("fsyncs (fdatasync of a log, or the 2 of an atomic document write) per "
	    "transfer over %zu: %.1f appends, %.1f document puts; anchor: the %d calls that "
	    "change state (request, %s, %s)", n, (c1[1] - c0[1]) / (double)n,
	    (c1[2] - c0[2]) / (double)n, need,
	    strcmp(proof, "both") == 0 ? "2 images" : "1 image",
	    strcmp(confirm, "origin") == 0 ? "confirm" : "no confirm");
	fig_emit(o, fname, n > 0 && !isnan(c0[0]) ? (c1[0] - c0[0]) / (double)n : NAN, need,
	    note);
	free(note);
	free(fname);
}

static int
transfer_series(struct bench_opts *o, const char *name, const char *proof,
    const char *confirm, double anchor_ms)
{
	struct samples srv = { 0 }, cli = { 0 };
	struct bsession s;
	struct origin or;
	struct http c;
	char *cause = NULL, *note, dev[64];
	double ms, t, lms, c0[3], c1[3];
	long off = 0;
	int i, absent = 0;

	if (o->sock == NULL) {
		fig_na(o, name, "no rtcs-serve");
		return 0;
	}
	http_init(&c, o->sock);
	if (session_create(&c, "tr", 2, &s, &cause) != 0)
		goto fail;
	or.dev = xstrdup(s.devices[0]);
	or.tok = xstrdup(s.tokens[0]);
	if (o->log != NULL && log_xfer_ms(o->log, &off) < 0) {
		cause = xprintf("%s: %s", o->log, strerror(errno));
		goto fail;
	}
	for (i = 0; i < o->warm + o->n; i++) {
		if (i == o->warm)
			store_counts(&c, c0);
		snprintf(dev, sizeof dev, "tr-n%d", i);
		t = now_us();
		if (transfer_once(&c, s.id, &or, dev, proof, confirm, &ms, &absent, &cause) != 0)
			break;
		if (o->log != NULL) {
			if ((lms = log_xfer_ms(o->log, &off)) <= 0) {
				cause = xprintf("%s: no server timings (is the server at -vv?)", o->log);
				break;
			}
			ms = lms;
		}
		if (i >= o->warm) {
			samples_add(&srv, ms);
			samples_add(&cli, (now_us() - t) / 1e3);
		}
	}
	store_counts(&c, c1);
	free(or.dev);
	free(or.tok);
	session_free(&s);
	if (cause != NULL)
		goto fail;
	/* Through etcd: no fsync of ours to count; the anchor is one etcd transaction. */
	if (isnan(anchor_ms))
		transfer_syncs(o, name, proof, confirm, c0, c1, srv.n);
	note = xprintf("proof %s, confirm %s: server ms (%s), median of %zu, p90 %.2f; "
	    "client wall p50 %.2f ms%s", proof, confirm,
	    o->log != NULL ? "sum of the server's -vv call timings" : "completed_at - created_at",
	    srv.n, samples_pct(&srv, 90), samples_pct(&cli, 50),
	    isnan(anchor_ms) ? "" : "; anchor: one etcd transaction of a message's size, ms");
	fig_emit(o, name, samples_pct(&srv, 50), anchor_ms, note);
	free(note);
	samples_free(&srv);
	samples_free(&cli);
	http_free(&c);
	return 0;
fail:
	if (!absent)
		fprintf(stderr, "rtcs-bench: %s: %s\n", name, cause);
	fig_na(o, name, cause);
	note = xprintf("%.*s_fsyncs", (int)(strlen(name) - 3), name);
	fig_na(o, note, cause);
	free(note);
	free(cause);
	samples_free(&srv);
	samples_free(&cli);
	http_free(&c);
	return absent ? 0 : -1;
}

int
transfer_figures(struct bench_opts *o, const char *tag, double anchor_ms)
{
	static const char *const names[2] = { "transfer.scanner_none_ms", "transfer.both_origin_ms" };
	static const char *const proof[2] = { "scanner", "both" }, *const confirm[2] = { "none", "origin" };
	char *name;
	int rc = 0, i;

	for (i = 0; i < 2; i++) {
		name = tag != NULL ? xprintf("%s.%s", tag, names[i]) : xstrdup(names[i]);
		if (transfer_series(o, name, proof[i], confirm[i], anchor_ms) != 0)
			rc = 1;
		free(name);
	}
	return rc;
}

int
cmd_transfer(struct bench_opts *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return transfer_figures(o, NULL, NAN);
}

/* Continuity: what the peer sent against what the moving participant's devices got. */
#define CONT_MAX 100000

struct cont {
	pthread_mutex_t	 mu;
	const char	*sock;
	char		*sid;
	char		*peer_tok;
	volatile int	 stop_peer, stop_streams;
	int		 sent_n;
	char		 sent[CONT_MAX];
	double		 sent_t[CONT_MAX];
	int		 got[CONT_MAX];
	double		 got_t[CONT_MAX];
	char		*err;
};

struct cont_stream {
	struct cont	*c;
	pthread_t	 th;
	char		*tok;
	char		*buf;
	size_t		 len, cap;
};

static void *
cont_peer(void *arg)
{
	struct cont *c = arg;
	struct http h;
	char *path = xprintf("/v1/sessions/%s/messages", c->sid), *cause = NULL, body[96];
	double next = now_us(), t;
	long st;
	int k;

	http_init(&h, c->sock);
	for (k = 0; !c->stop_peer && k < CONT_MAX; k++) {
		snprintf(body, sizeof body, "{\"type\":\"text\",\"body\":\"c%d\"}", k);
		t = now_us();
		if (http_req(&h, "POST", path, c->peer_tok, body, &st, &cause) != 0 || st != 201) {
			pthread_mutex_lock(&c->mu);
			if (c->err == NULL)
				c->err = cause ? cause : xprintf("peer send: status %ld", st);
			pthread_mutex_unlock(&c->mu);
			break;
		}
		pthread_mutex_lock(&c->mu);
		c->sent[k] = 1;
		c->sent_t[k] = t;
		c->sent_n = k + 1;
		pthread_mutex_unlock(&c->mu);
		next += 20000;
		if (next > now_us())
			sleep_us((long)(next - now_us()));
	}
	http_free(&h);
	free(path);
	return NULL;
}

static size_t
cont_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct cont_stream *s = arg;
	size_t len = size * nmemb;
	double t = now_us();
	char *nl;
	const char *b;
	long k;

	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		s->buf = xrealloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, p, len);
	s->len += len;
	s->buf[s->len] = '\0';
	while ((nl = memchr(s->buf, '\n', s->len)) != NULL) {
		*nl = '\0';
		if ((b = line_body(s->buf)) != NULL && *b == 'c' &&
		    (k = strtol(b + 1, NULL, 10)) >= 0 && k < CONT_MAX) {
			pthread_mutex_lock(&s->c->mu);
			if (s->c->got[k]++ == 0)
				s->c->got_t[k] = t;
			pthread_mutex_unlock(&s->c->mu);
		}
		s->len -= (size_t)(nl + 1 - s->buf);
		memmove(s->buf, nl + 1, s->len);
	}
	return len;
}

static int
cont_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t x, curl_off_t y)
{
	struct cont_stream *s = arg;

	(void)a, (void)b, (void)x, (void)y;
	return s->c->stop_streams;
}

static void *
cont_reader(void *arg)
{
	struct cont_stream *s = arg;
	struct curl_slist *hdrs = http_headers(s->tok);
	char *path = xprintf("/v1/sessions/%s/stream", s->c->sid);
	CURL *h = curl_easy_init();

	http_setup(h, s->c->sock, path);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cont_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cont_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
	curl_easy_perform(h);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	free(path);
	return NULL;
}

static struct cont_stream *
cont_attach(struct cont *c, const char *tok)
{
	struct cont_stream *s = xcalloc(1, sizeof *s);

	s->c = c;
	s->tok = xstrdup(tok);
	if (pthread_create(&s->th, NULL, cont_reader, s) != 0)
		abort();
	return s;
}

static void
cont_report(struct bench_opts *o, struct cont *c, int transfers)
{
	double gap = 0, lat = 0, prev = NAN;
	int k, lost = 0, dup = 0;
	char *note;

	for (k = 0; k < c->sent_n; k++) {
		if (!c->sent[k])
			continue;
		if (c->got[k] == 0) {
			lost++;
			continue;
		}
		dup += c->got[k] - 1;
		if (!isnan(prev) && c->got_t[k] - prev > gap)
			gap = c->got_t[k] - prev;
		if (c->got_t[k] - c->sent_t[k] > lat)
			lat = c->got_t[k] - c->sent_t[k];
		prev = c->got_t[k];
	}
	note = xprintf("%d messages every 20 ms through %d transfers; largest delivery "
	    "latency %.1f ms", c->sent_n, transfers, lat / 1e3);
	fig_emit(o, "continuity.lost", lost, NAN, note);
	fig_emit(o, "continuity.duplicated", dup, NAN, note);
	fig_emit(o, "continuity.max_gap_ms", gap / 1e3, NAN, note);
	free(note);
}

static void
cont_na(struct bench_opts *o, const char *why)
{
	fig_na(o, "continuity.lost", why);
	fig_na(o, "continuity.duplicated", why);
	fig_na(o, "continuity.max_gap_ms", why);
}

int
cmd_continuity(struct bench_opts *o, int argc, char **argv)
{
	struct cont_stream *streams[256];
	struct bsession s;
	struct origin or;
	struct http h;
	struct cont *c;
	pthread_t peer;
	char *cause = NULL, dev[64], *path;
	double ms;
	int i, ns = 0, absent = 0, rc, transfers = o->n < 255 ? o->n : 255;
	long st;

	(void)argc;
	(void)argv;
	if (o->sock == NULL) {
		cont_na(o, "no rtcs-serve");
		return 0;
	}
	http_init(&h, o->sock);
	if (session_create(&h, "co", 2, &s, &cause) != 0) {
		cont_na(o, cause);
		fprintf(stderr, "rtcs-bench: continuity: %s\n", cause);
		free(cause);
		http_free(&h);
		return 1;
	}
	c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	c->sock = o->sock;
	c->sid = s.id;
	c->peer_tok = s.tokens[1];
	or.dev = xstrdup(s.devices[0]);
	or.tok = xstrdup(s.tokens[0]);
	streams[ns++] = cont_attach(c, or.tok);
	pthread_create(&peer, NULL, cont_peer, c);
	sleep_us(200000);
	for (i = 0; i < transfers; i++) {
		snprintf(dev, sizeof dev, "co-n%d", i);
		if (transfer_once(&h, s.id, &or, dev, "both", "origin", &ms, &absent, &cause) != 0)
			break;
		streams[ns++] = cont_attach(c, or.tok);
		sleep_us(100000);
	}
	sleep_us(200000);
	c->stop_peer = 1;
	pthread_join(peer, NULL);
	sleep_us(500000);
	c->stop_streams = 1;
	path = xprintf("/v1/sessions/%s", s.id);
	http_req(&h, "DELETE", path, NULL, NULL, &st, &(char *){ NULL });
	free(path);
	for (i = 0; i < ns; i++) {
		pthread_join(streams[i]->th, NULL);
		free(streams[i]->tok);
		free(streams[i]->buf);
		free(streams[i]);
	}
	if (cause == NULL && c->err != NULL)
		cause = xstrdup(c->err);
	if (cause != NULL) {
		cont_na(o, cause);
		if (!absent)
			fprintf(stderr, "rtcs-bench: continuity: %s\n", cause);
	} else
		cont_report(o, c, transfers);
	rc = cause != NULL && !absent;
	free(c->err);
	free(cause);
	free(or.dev);
	free(or.tok);
	free(c);
	session_free(&s);
	http_free(&h);
	return rc;
}
