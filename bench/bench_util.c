/* rtcs-bench: clock, samples, the A/B runner, libcurl helpers and figure output. */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "json.h"
#include "xmalloc.h"

double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
samples_add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	s->v[s->n++] = v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile; the median of an even count is the mean of the two. */
double
samples_pct(struct samples *s, double pct)
{
	size_t i;

	if (s->n == 0)
		return NAN;
	qsort(s->v, s->n, sizeof *s->v, cmp_double);
	if (pct == 50 && s->n % 2 == 0)
		return (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
	i = (size_t)ceil(pct / 100 * (double)s->n);
	return s->v[i > 0 ? i - 1 : 0];
}

void
samples_free(struct samples *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int
side_run(bench_op op, void *ctx, int n, struct samples *lat, struct samples *rate,
    char **cause)
{
	double t0 = now_us(), t, l;
	int i;

	for (i = 0; i < n; i++) {
		t = now_us();
		l = -1;
		if (op(ctx, &l, cause) != 0)
			return -1;
		if (lat != NULL)
			samples_add(lat, l >= 0 ? l : now_us() - t);
	}
	if (rate != NULL)
		samples_add(rate, n / ((now_us() - t0) / 1e6));
	return 0;
}

/*
 * Interleaving A and B in the same process, round after round, spreads
 * whatever else the machine does over both sides instead of one.
 */
int
ab_run_sides(const struct bench_opts *o, const struct ab_side *side, int nsides,
    struct ab_result *r, char **cause)
{
	int round, i;

	memset(r, 0, sizeof *r);
	for (i = 0; i < nsides && i < AB_SIDES; i++)
		if (side[i].op != NULL &&
		    side_run(side[i].op, side[i].ctx, o->warm, NULL, NULL, cause) != 0)
			return -1;
	for (round = 0; round < o->rounds; round++)
		for (i = 0; i < nsides && i < AB_SIDES; i++)
			if (side[i].op != NULL && side_run(side[i].op, side[i].ctx, o->n, &r->lat[i],
			    &r->rate[i], cause) != 0)
				return -1;
	return 0;
}

int
ab_run(const struct bench_opts *o, bench_op a, void *actx, bench_op b, void *bctx,
    struct ab_result *r, char **cause)
{
	const struct ab_side side[2] = { { a, actx }, { b, bctx } };

	return ab_run_sides(o, side, 2, r, cause);
}

void
ab_free(struct ab_result *r)
{
	int i;

	for (i = 0; i < AB_SIDES; i++) {
		samples_free(&r->lat[i]);
		samples_free(&r->rate[i]);
	}
}

static size_t
http_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http *c = arg;
	size_t len = size * nmemb;

	if (c->len + len + 1 > c->cap) {
		c->cap = (c->len + len + 1) * 2;
		c->resp = xrealloc(c->resp, c->cap);
	}
	memcpy(c->resp + c->len, p, len);
	c->len += len;
	c->resp[c->len] = '\0';
	return len;
}

void
http_setup(CURL *h, const char *sock, const char *path)
{
	char *url = xprintf("http://rtcs%s", path);

	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	free(url);
}

struct curl_slist *
http_headers(const char *token)
{
	struct curl_slist *l = NULL;
	char *auth;

	l = curl_slist_append(l, "Content-Type: application/json");
	l = curl_slist_append(l, "Expect:");
	if (token != NULL) {
		auth = xprintf("Authorization: Bearer %s", token);
		l = curl_slist_append(l, auth);
		free(auth);
	}
	return l;
}

void
http_init(struct http *c, const char *sock)
{
	memset(c, 0, sizeof *c);
	if ((c->h = curl_easy_init()) == NULL)
		abort();
	c->sock = xstrdup(sock);
}

void
http_free(struct http *c)
{
	if (c->h != NULL)
		curl_easy_cleanup(c->h);
	free(c->sock);
	free(c->resp);
	memset(c, 0, sizeof *c);
}

int
http_req(struct http *c, const char *method, const char *path, const char *token,
    const char *body, long *status, char **cause)
{
	struct curl_slist *hdrs = http_headers(token);
	CURLcode rc;

	c->len = 0;
	if (c->resp != NULL)
		c->resp[0] = '\0';
	curl_easy_reset(c->h);
	http_setup(c->h, c->sock, path);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 30L);
	if (body != NULL) {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	c->errbuf[0] = '\0';
	rc = curl_easy_perform(c->h);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		*cause = xprintf("%s %s: %s", method, path,
		    c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
	if (c->resp == NULL)
		c->resp = xstrdup("");
	return 0;
}

cJSON *
http_json(struct http *c, const char *method, const char *path, const char *token,
    const char *body, long *status, char **cause)
{
	cJSON *j;
	char *why = NULL;

	if (http_req(c, method, path, token, body, status, cause) != 0)
		return NULL;
	if ((j = json_parse_object(c->resp, c->len, &why)) == NULL) {
		*cause = xprintf("%s %s: status %ld: %s", method, path, *status, why);
		free(why);
	}
	return j;
}

/* POST /v1/sessions with participants p<i>@<prefix>-d<i>. */
int
session_create(struct http *c, const char *prefix, int n, struct bsession *s, char **cause)
{
	cJSON *req = cJSON_CreateObject(), *parts, *p, *resp, *tokens, *sess;
	char *body, name[64];
	const char *id, *tok;
	long status = 0;
	int i;

	memset(s, 0, sizeof *s);
	cJSON_AddStringToObject(req, "kind", "chat");
	parts = cJSON_AddArrayToObject(req, "participants");
	s->n = n;
	s->devices = xcalloc((size_t)n, sizeof *s->devices);
	s->tokens = xcalloc((size_t)n, sizeof *s->tokens);
	for (i = 0; i < n; i++) {
		p = cJSON_CreateObject();
		snprintf(name, sizeof name, "p%d", i);
		cJSON_AddStringToObject(p, "name", name);
		s->devices[i] = xprintf("%s-d%d", prefix, i);
		cJSON_AddStringToObject(p, "device", s->devices[i]);
		cJSON_AddItemToArray(parts, p);
	}
	body = json_print(req);
	cJSON_Delete(req);
	resp = http_json(c, "POST", "/v1/sessions", NULL, body, &status, cause);
	free(body);
	if (resp == NULL)
		goto fail;
	sess = cJSON_GetObjectItemCaseSensitive(resp, "session");
	tokens = cJSON_GetObjectItemCaseSensitive(resp, "tokens");
	if (status != 201 || (id = json_str(sess, "id")) == NULL || tokens == NULL) {
		*cause = xprintf("POST /v1/sessions: status %ld: %.200s", status, c->resp);
		cJSON_Delete(resp);
		goto fail;
	}
	s->id = xstrdup(id);
	for (i = 0; i < n; i++) {
		if ((tok = json_str(tokens, s->devices[i])) == NULL) {
			*cause = xprintf("POST /v1/sessions: no token for %s", s->devices[i]);
			cJSON_Delete(resp);
			goto fail;
		}
		s->tokens[i] = xstrdup(tok);
	}
	cJSON_Delete(resp);
	return 0;
fail:
	session_free(s);
	return -1;
}

void
session_free(struct bsession *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		if (s->tokens)
			free(s->tokens[i]);
		if (s->devices)
			free(s->devices[i]);
	}
	free(s->tokens);
	free(s->devices);
	free(s->id);
	memset(s, 0, sizeof *s);
}

static void
fig_write(const struct bench_opts *o, cJSON *j)
{
	char *line = json_print(j);
	FILE *f;

	if (getenv("RTCS_BENCH_VERBOSE") != NULL)
		fprintf(stderr, "rtcs-bench: %s\n", line);
	if (o->out != NULL && (f = fopen(o->out, "a")) != NULL) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
	free(line);
}

static void
add_num(cJSON *j, const char *key, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(j, key);
	else
		cJSON_AddNumberToObject(j, key, round(v * 1000) / 1000);
}

void
fig_emit(const struct bench_opts *o, const char *name, double rtcs, double anchor,
    const char *note)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "name", name);
	add_num(j, "rtcs", rtcs);
	add_num(j, "anchor", anchor);
	if (note != NULL)
		cJSON_AddStringToObject(j, "note", note);
	fig_write(o, j);
	cJSON_Delete(j);
}

void
fig_na(const struct bench_opts *o, const char *name, const char *note)
{
	fig_emit(o, name, NAN, NAN, note);
}

/* The first character of the "body" string in a JSON line, or NULL (cheap: no parse). */
const char *
line_body(const char *line)
{
	const char *p = strstr(line, "\"body\"");

	if (p == NULL)
		return NULL;
	for (p += 6; *p == ' ' || *p == '\t'; p++)
		;
	if (*p++ != ':')
		return NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '"' ? p + 1 : NULL;
}

int
bench_connect(const char *path, char **cause)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}
