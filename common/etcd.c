/*
 * etcd's JSON gateway over libcurl (etcd.h): one curl multi handle driven by
 * libevent (curl tells which sockets and which timeout to wait for; the loop
 * hands their readiness back), or one easy handle that blocks.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <sodium.h>

#include "etcd.h"
#include "xmalloc.h"

#define ETCD_RESP_MAX		(64u << 20)	/* an answer larger than this is refused */
#define ETCD_TIMEOUT_MS		10000L
#define ETCD_CONNECT_MS		1000L

/* A watch's message, parsed in curl's write callback, told once curl has returned. */
struct etcd_msg {
	TAILQ_ENTRY(etcd_msg) entry;
	struct etcd_watch *w;
	cJSON		*msg;
};
TAILQ_HEAD(etcd_msgq, etcd_msg);

struct etcd {
	CURLM		*multi;
	struct etcd_msgq msgs;
	CURL		*wait;		/* the blocking calls' handle */
	struct event_base *base;
	struct event	*timer;
	char		**eps;		/* "http://HOST:PORT" */
	size_t		 neps;
	size_t		 cur;		/* the endpoint that answered last */
	size_t		 inflight;
	int		 running;
};

struct etcd_req {
	struct etcd	*et;
	CURL		*easy;
	struct curl_slist *hdr;
	char		*path;
	char		*body;
	char		*resp;
	size_t		 len, cap;
	size_t		 tries;		/* endpoints tried */
	size_t		 ep;
	int		 pinned;	/* for that endpoint only (maintenance of one member) */
	char		 errbuf[CURL_ERROR_SIZE];
	etcd_cb		 cb;
	/* A watch: each line of the answer is a message. */
	struct etcd_watch *watch;
	void		*arg;
};

struct etcd_watch {
	struct etcd_req	*req;
	etcd_msg_cb	 msg;
	etcd_end_cb	 end;
	void		*arg;
};

static void	req_start(struct etcd_req *);

char *
etcd_b64(const void *bin, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = xmalloc(n);

	sodium_bin2base64(s, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

char *
etcd_unb64(const char *s, size_t *len)
{
	size_t n = strlen(s), cap = n / 4 * 3 + 3;
	char *bin = xmalloc(cap + 1);

	if (sodium_base642bin((unsigned char *)bin, cap, s, n, NULL, len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(bin);
		return NULL;
	}
	bin[*len] = '\0';
	return bin;
}

unsigned long long
etcd_num(const cJSON *obj, const char *key, unsigned long long def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (cJSON_IsString(v))
		return strtoull(v->valuestring, NULL, 10);
	if (cJSON_IsNumber(v) && v->valuedouble >= 0)
		return (unsigned long long)v->valuedouble;
	return def;
}

/* ---- curl multi on libevent ---- */

static void	check_done(struct etcd *);

static void
sock_ready(evutil_socket_t fd, short what, void *arg)
{
	struct etcd *et = arg;
	int action = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(et->multi, fd, action, &et->running);
	check_done(et);
}

static int
sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct etcd *et = userp;
	struct event *ev = socketp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL) {
			event_free(ev);
			curl_multi_assign(et->multi, s, NULL);
		}
		return 0;
	}
	kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0) |
	    EV_PERSIST);
	if (ev != NULL) {
		event_del(ev);
		event_assign(ev, et->base, s, kind, sock_ready, et);
	} else {
		ev = event_new(et->base, s, kind, sock_ready, et);
		curl_multi_assign(et->multi, s, ev);
	}
	event_add(ev, NULL);
	return 0;
}

static void
timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct etcd *et = arg;

	(void)fd;
	(void)what;
	curl_multi_socket_action(et->multi, CURL_SOCKET_TIMEOUT, 0, &et->running);
	check_done(et);
}

static int
timer_cb(CURLM *multi, long ms, void *userp)
{
	struct etcd *et = userp;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	(void)multi;
	if (ms < 0)
		evtimer_del(et->timer);
	else
		evtimer_add(et->timer, &tv);
	return 0;
}

struct etcd *
etcd_new(const char *endpoints, struct event_base *base, char **cause)
{
	struct etcd *et;
	char *copy, *p, *tok, *save = NULL;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || sodium_init() < 0) {
		*cause = xstrdup("libcurl or libsodium failed to start");
		return NULL;
	}
	et = xcalloc(1, sizeof *et);
	copy = xstrdup(endpoints);
	for (p = copy; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		if (*tok == '\0' || strchr(tok, ':') == NULL || strpbrk(tok, "/?#@ ") != NULL) {
			*cause = xprintf("'%s': an etcd endpoint is HOST:PORT", tok);
			goto fail;
		}
		et->eps = xreallocarray(et->eps, et->neps + 1, sizeof *et->eps);
		et->eps[et->neps++] = xprintf("http://%s", tok);
	}
	if (et->neps == 0) {
		*cause = xstrdup("no etcd endpoint (etcd://HOST:PORT[,HOST:PORT...])");
		goto fail;
	}
	free(copy);
	et->base = base;
	TAILQ_INIT(&et->msgs);
	if ((et->wait = curl_easy_init()) == NULL)
		goto nomem;
	if (base != NULL) {
		if ((et->multi = curl_multi_init()) == NULL)
			goto nomem;
		et->timer = evtimer_new(base, timer_fired, et);
		curl_multi_setopt(et->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
		curl_multi_setopt(et->multi, CURLMOPT_SOCKETDATA, et);
		curl_multi_setopt(et->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
		curl_multi_setopt(et->multi, CURLMOPT_TIMERDATA, et);
	}
	return et;
nomem:
	*cause = xstrdup("libcurl could not make a handle");
	copy = NULL;
fail:
	free(copy);
	etcd_free(et);
	return NULL;
}

size_t
etcd_inflight(const struct etcd *et)
{
	return et->inflight;
}

/* ---- calls ---- */

static size_t
req_write(char *data, size_t size, size_t n, void *arg)
{
	struct etcd_req *r = arg;
	size_t len = size * n;
	char *nl;

	if (r->len + len > ETCD_RESP_MAX)
		return 0;
	if (r->len + len + 1 > r->cap) {
		r->cap = (r->len + len + 1) * 2;
		r->resp = xrealloc(r->resp, r->cap);
	}
	memcpy(r->resp + r->len, data, len);
	r->len += len;
	r->resp[r->len] = '\0';
	if (r->watch == NULL)
		return len;
	/* A watch stream: one JSON object a line, queued for dispatch (no call inside curl's). */
	while ((nl = memchr(r->resp, '\n', r->len)) != NULL) {
		size_t linelen = (size_t)(nl - r->resp);
		struct etcd_msg *m;
		cJSON *msg = cJSON_ParseWithLength(r->resp, linelen);

		if (cJSON_GetObjectItemCaseSensitive(msg, "result") != NULL) {
			m = xcalloc(1, sizeof *m);
			m->w = r->watch;
			m->msg = msg;
			TAILQ_INSERT_TAIL(&r->et->msgs, m, entry);
		} else
			cJSON_Delete(msg);
		memmove(r->resp, nl + 1, r->len - linelen - 1);
		r->len -= linelen + 1;
		r->resp[r->len] = '\0';
	}
	return len;
}

/* Tells the queued watch messages, outside every curl callback. */
static void
dispatch(struct etcd *et)
{
	struct etcd_msg *m;

	while ((m = TAILQ_FIRST(&et->msgs)) != NULL) {
		TAILQ_REMOVE(&et->msgs, m, entry);
		m->w->msg(m->w->arg, cJSON_GetObjectItemCaseSensitive(m->msg, "result"));
		cJSON_Delete(m->msg);
		free(m);
	}
}

/* At the end: what was never told is dropped. */
static void
dispatch_drop(struct etcd *et)
{
	struct etcd_msg *m;

	while ((m = TAILQ_FIRST(&et->msgs)) != NULL) {
		TAILQ_REMOVE(&et->msgs, m, entry);
		cJSON_Delete(m->msg);
		free(m);
	}
}

/* A stopped or ended watch's messages not told yet are dropped. */
static void
purge(struct etcd *et, const struct etcd_watch *w)
{
	struct etcd_msg *m, *next;

	for (m = TAILQ_FIRST(&et->msgs); m != NULL; m = next) {
		next = TAILQ_NEXT(m, entry);
		if (m->w != w)
			continue;
		TAILQ_REMOVE(&et->msgs, m, entry);
		cJSON_Delete(m->msg);
		free(m);
	}
}

static void
req_free(struct etcd_req *r)
{
	if (r->easy != NULL && r->easy != r->et->wait)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdr);
	free(r->path);
	free(r->body);
	free(r->resp);
	free(r);
}

static void
req_setup(struct etcd_req *r, CURL *easy)
{
	char *url = xprintf("%s%s", r->et->eps[r->ep], r->path);

	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, r->hdr);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, req_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, ETCD_CONNECT_MS);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	if (r->watch == NULL)
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ETCD_TIMEOUT_MS);
	r->errbuf[0] = '\0';
	r->len = 0;
}

/* The message of an error answer: {"error": "...", "message": "...", "code": N}. */
static const char *
answer_msg(const cJSON *resp)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(resp, "message");

	if (!cJSON_IsString(m))
		m = cJSON_GetObjectItemCaseSensitive(resp, "error");
	return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* Tells the caller how the call ended. */
static void
req_answer(struct etcd_req *r, CURLcode rc)
{
	const char *ep = r->et->eps[r->ep] + 7;	/* without "http://" */
	long status = 0;
	cJSON *resp = NULL;
	const char *msg = NULL;
	char *cause = NULL;
	enum store_err err = STORE_OK;

	if (rc != CURLE_OK) {
		err = STORE_IO;
		cause = xprintf("etcd %s: %s%s", ep, r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc),
		    rc == CURLE_COULDNT_CONNECT ? "" : " (whether etcd did it is unknown)");
	} else {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		if (r->len > 0)
			resp = cJSON_ParseWithLength(r->resp, r->len);
		if (status != 200 || resp == NULL) {
			msg = resp != NULL ? answer_msg(resp) : NULL;
			err = msg != NULL && (strstr(msg, "space exceeded") != NULL ||
			    strstr(msg, "too large") != NULL) ? STORE_FULL : STORE_IO;
			cause = xprintf("etcd %s: %s (HTTP %ld)", ep,
			    msg != NULL ? msg : "an answer that is not JSON", status);
		}
	}
	if (r->watch != NULL)
		r->watch->end(r->watch->arg, cause != NULL ? cause : "etcd ended the watch");
	else
		r->cb(r->arg, err == STORE_OK ? resp : NULL, err, cause);
	cJSON_Delete(resp);
	free(cause);
}

static struct etcd_req *
req_new(struct etcd *et, const char *path, cJSON *body)
{
	struct etcd_req *r = xcalloc(1, sizeof *r);

	r->et = et;
	r->path = xstrdup(path);
	r->body = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (r->body == NULL)
		r->body = xstrdup("{}");
	r->hdr = curl_slist_append(NULL, "Content-Type: application/json");
	r->hdr = curl_slist_append(r->hdr, "Expect:");
	r->ep = et->cur;
	return r;
}

/* A call refused at connect goes to the next endpoint, once per endpoint. */
static int
req_retry(struct etcd_req *r, CURLcode rc)
{
	struct etcd *et = r->et;

	if (rc != CURLE_COULDNT_CONNECT || r->pinned || ++r->tries >= et->neps)
		return 0;
	r->ep = (r->ep + 1) % et->neps;
	et->cur = r->ep;
	return 1;
}

static void
check_done(struct etcd *et)
{
	CURLMsg *m;
	int left;
	struct etcd_req *r;
	struct etcd_watch *w;
	CURLcode rc;

	dispatch(et);
	while ((m = curl_multi_info_read(et->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		rc = m->data.result;
		curl_multi_remove_handle(et->multi, r->easy);
		if (req_retry(r, rc)) {
			req_start(r);
			continue;
		}
		et->inflight--;
		/* A watch that ended: what it said first, then its end; its owner lets go of it. */
		if ((w = r->watch) != NULL) {
			dispatch(et);
			w->req = NULL;
		}
		req_answer(r, rc);
		if (w != NULL) {
			purge(et, w);
			free(w);
		}
		req_free(r);
	}
}

/* 0, or -1 if curl would not take it (the caller answers). */
static int
req_add(struct etcd_req *r)
{
	if (r->easy == NULL && (r->easy = curl_easy_init()) == NULL)
		return -1;
	req_setup(r, r->easy);
	return curl_multi_add_handle(r->et->multi, r->easy) == CURLM_OK ? 0 : -1;
}

static void
req_start(struct etcd_req *r)
{
	struct etcd_watch *w = r->watch;

	if (req_add(r) == 0)
		return;
	r->et->inflight--;
	if (w != NULL)
		w->req = NULL;
	req_answer(r, CURLE_FAILED_INIT);
	if (w != NULL) {
		purge(r->et, w);
		free(w);
	}
	req_free(r);
}

void
etcd_call_wait(struct etcd *et, const char *path, cJSON *body, etcd_cb cb, void *arg)
{
	struct etcd_req *r = req_new(et, path, body);
	CURLcode rc;

	r->cb = cb;
	r->arg = arg;
	r->easy = et->wait;
	do {
		req_setup(r, r->easy);
		rc = curl_easy_perform(r->easy);
	} while (req_retry(r, rc));
	req_answer(r, rc);
	req_free(r);
}

size_t
etcd_endpoints(const struct etcd *et)
{
	return et->neps;
}

/* A call on the loop, to endpoint ep only if pinned (else from there on). */
static void
call_begin(struct etcd *et, size_t ep, int pinned, const char *path, cJSON *body, etcd_cb cb,
    void *arg)
{
	struct etcd_req *r = req_new(et, path, body);

	r->cb = cb;
	r->arg = arg;
	r->ep = ep;
	r->pinned = pinned;
	et->inflight++;
	req_start(r);
}

void
etcd_call_at(struct etcd *et, size_t ep, const char *path, cJSON *body, etcd_cb cb, void *arg)
{
	if (et->multi == NULL || ep >= et->neps) {
		cJSON_Delete(body);
		cb(arg, NULL, STORE_INVALID, "no such endpoint, or no loop");
		return;
	}
	call_begin(et, ep, 1, path, body, cb, arg);
}

void
etcd_call(struct etcd *et, const char *path, cJSON *body, etcd_cb cb, void *arg)
{
	if (et->multi == NULL)
		etcd_call_wait(et, path, body, cb, arg);
	else
		call_begin(et, et->cur, 0, path, body, cb, arg);
}

struct etcd_watch *
etcd_watch(struct etcd *et, cJSON *body, etcd_msg_cb msg, etcd_end_cb end, void *arg)
{
	struct etcd_watch *w = xcalloc(1, sizeof *w);
	struct etcd_req *r = req_new(et, "/v3/watch", body);

	/* A member cut off from the leader ends the watch rather than go quiet. */
	r->hdr = curl_slist_append(r->hdr, "Grpc-Metadata-hasleader: true");
	w->msg = msg;
	w->end = end;
	w->arg = arg;
	w->req = r;
	r->watch = w;
	/* Not taken: NULL, and no end callback (the caller tries again). */
	if (req_add(r) != 0) {
		req_free(r);
		free(w);
		return NULL;
	}
	et->inflight++;
	return w;
}

void
etcd_watch_stop(struct etcd_watch *w)
{
	struct etcd_req *r;

	if (w == NULL)
		return;
	/* Never from inside curl (messages are told after it returns): the handle goes now. */
	if ((r = w->req) != NULL) {
		curl_multi_remove_handle(r->et->multi, r->easy);
		r->et->inflight--;
		purge(r->et, w);
		req_free(r);
	}
	free(w);
}

void
etcd_free(struct etcd *et)
{
	int n;
	size_t i;

	if (et == NULL)
		return;
	/* The calls in flight end first: their callbacks may still write to the store. */
	while (et->multi != NULL && et->inflight > 0) {
		curl_multi_wait(et->multi, NULL, 0, 100, &n);
		curl_multi_perform(et->multi, &et->running);
		check_done(et);
	}
	dispatch_drop(et);
	if (et->multi != NULL)
		curl_multi_cleanup(et->multi);
	if (et->timer != NULL)
		event_free(et->timer);
	if (et->wait != NULL)
		curl_easy_cleanup(et->wait);
	for (i = 0; i < et->neps; i++)
		free(et->eps[i]);
	free(et->eps);
	free(et);
}
