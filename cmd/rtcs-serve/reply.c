/* A request's one reply: JSON bodies, errors, the core's statuses mapped; the query. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "gate.h"
#include "json.h"
#include "log.h"
#include "reply.h"
#include "strmap.h"
#include "xmalloc.h"

int64_t
now_ms(void)
{
	return core_now_ms();
}

static const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Internal Server Error" : "Error";
	}
}

static const char *
method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

/* The server-side time of a call, at debug level (the bench sums them for transfers). */
static void
req_timing(struct req *rq)
{
	struct timespec t1;
	int64_t ns;

	if (rq->pattern == NULL || log_get_level() < LOG_LEVEL_DEBUG)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (int64_t)t1.tv_sec * 1000000000 + t1.tv_nsec - rq->t0;
	log_debug("%s %s: %lld us", method_name(evhttp_request_get_command(rq->r)), rq->pattern,
	    (long long)(ns / 1000));
}

void
req_free(struct req *rq)
{
	cJSON_Delete(rq->body);
	evhttp_clear_headers(&rq->query);
	free(rq);
}

void
req_release(struct req *rq)
{
	req_timing(rq);
	req_free(rq);
}

static void
http_send(struct req *rq, int status, struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(rq->r);
	struct evhttp_connection *evcon = evhttp_request_get_connection(rq->r);

	if (evhttp_find_header(h, "Content-Type") == NULL)
		evhttp_add_header(h, "Content-Type", "application/json");
	req_timing(rq);
	evhttp_send_reply(rq->r, status, http_reason(status), body);
	gate_flush(evcon);
	evbuffer_free(body);
	req_free(rq);
}

void
http_reply(struct req *rq, int status, cJSON *body)
{
	struct evbuffer *b = evbuffer_new();
	char *text = json_print(body);

	evbuffer_add(b, text, strlen(text));
	evbuffer_add(b, "\n", 1);
	free(text);
	cJSON_Delete(body);
	http_send(rq, status, b);
}

static void
http_verror(struct req *rq, int status, const char *code, const char *fmt, va_list ap)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
	char *msg;

	xvasprintf(&msg, fmt, ap);
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	log_debug("%d %s: %s", status, code, msg);
	free(msg);
	http_reply(rq, status, o);
}

void
http_error(struct req *rq, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_verror(rq, status, code, fmt, ap);
	va_end(ap);
}

/* Whether s is a snake_case word (then it is the error code itself). */
static int
is_code(const char *s)
{
	return s != NULL && *s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == strlen(s);
}

void
http_status(struct req *rq, const struct core_status *st, const char *what)
{
	static const struct { enum core_err err; int status; const char *code; } map[] = {
		{ CE_NOT_FOUND, 404, "not_found" },
		{ CE_CONFLICT, 409, "conflict" },
		{ CE_SESSION_ENDED, 409, "session_ended" },
		{ CE_FORBIDDEN, 403, "forbidden" },
		{ CE_REVOKED, 401, "unauthorized" },
		{ CE_BAD_FIELD, 400, "bad_field" },
		{ CE_GONE, 410, "gone" },
		{ CE_STORE, 500, "internal" },
		{ CE_UNAVAILABLE, 503, "unavailable" },
	};
	const char *msg = st->msg != NULL ? st->msg : "refused";
	size_t i;

	if (st->err == CE_TRANSFER) {
		http_error(rq, transfer_err_status(st->te), transfer_err_code(st->te), "%s: %s",
		    what, msg);
		return;
	}
	if (st->err == CE_STORE || st->err == CE_UNAVAILABLE)
		log_warnx("%s: %s", what, msg);
	if (st->err == CE_UNAVAILABLE)
		gate_close_after(evhttp_request_get_connection(rq->r));
	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].err == st->err) {
			http_error(rq, map[i].status, is_code(msg) && st->err != CE_STORE &&
			    st->err != CE_UNAVAILABLE ? msg : map[i].code, "%s: %s", what, msg);
			return;
		}
	http_error(rq, 500, "internal", "%s: %s", what, msg);
}

int
body_str(struct req *rq, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rq->body, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v)) {
		http_error(rq, 400, "bad_field", "%s must be a string", key);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

int
body_int(struct req *rq, const char *key, long long min, long long max, int *present,
    long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rq->body, key);

	*present = v != NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble ||
	    v->valuedouble < (double)min || v->valuedouble > (double)max) {
		http_error(rq, 400, "bad_field", "%s must be an integer from %lld to %lld", key, min,
		    max);
		return -1;
	}
	*out = (long long)v->valuedouble;
	return 0;
}

const char *
http_query(struct req *rq, const char *key)
{
	return evhttp_find_header(&rq->query, key);
}

/* A sequence number from the query string; absent: dflt. -1 after an error reply. */
int
http_query_seq(struct req *rq, const char *key, uint64_t dflt, uint64_t *out)
{
	const char *v = http_query(rq, key);
	char *end;
	unsigned long long n;

	*out = dflt;
	if (v == NULL)
		return 0;
	if (*v < '0' || *v > '9' || strlen(v) > 19 || (n = strtoull(v, &end, 10), *end != '\0')) {
		http_error(rq, 400, "bad_field", "%s must be a non-negative integer", key);
		return -1;
	}
	*out = n;
	return 0;
}

char *
conn_key(const struct evhttp_connection *evcon, char buf[32])
{
	snprintf(buf, 32, "%p", (const void *)evcon);
	return buf;
}

size_t
conn_count(const struct server *srv)
{
	return strmap_count(srv->conns) + srv->ntaken;
}

void
conn_release(struct server *srv, struct evhttp_connection *evcon)
{
	struct conn *c;
	char key[32];

	conn_key(evcon, key);
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	if ((c = strmap_get(srv->conns, key)) != NULL) {
		strmap_del(srv->conns, key);
		free(c);
	}
}
