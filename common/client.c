/* The HTTP client of rtcs-serve: libcurl on the UNIX socket, JSON, and the exit-code mapping. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "client.h"
#include "exitcode.h"
#include "json.h"
#include "xmalloc.h"

#define CLIENT_MAX_ERROR_BODY	(64 * 1024)

struct client {
	CURL		*curl;
	char		*socket;
	long long	 timeout_ms;
	const atomic_int *stop;		/* set: a stream on this handle ends */
	char		 errbuf[CURL_ERROR_SIZE];
};

/* Where a response goes: a capped buffer, or a line splitter for streams. */
struct client_sink {
	CURL		*curl;
	char		*buf;
	size_t		 len, cap, max;
	int		 overflow;
	long		 status;	/* known once the first bytes arrive */
	client_line_cb	 cb;		/* NULL: buffer the whole body */
	void		*arg;
	int		 stopped;	/* the callback's non-zero value */
	int		 cancelled;	/* the client's stop flag ended it */
	char		*bad;		/* a stream line that is not JSON */
};

/*
 * The table of design.md section 9, in one place. The server's error code
 * decides first; the HTTP status is the fallback for codes we do not know.
 */
static const struct {
	const char	*code;
	int		 exit;
} client_codes[] = {
	{ "already_claimed", EXIT_NO },
	{ "session_ended", EXIT_NO },
	{ "expired", EXIT_NO },
	{ "gone", EXIT_NO },
	{ "code_mismatch", EXIT_NO },
	{ "match_mismatch", EXIT_NO },
	{ "too_many_attempts", EXIT_NO },
	{ "rejected", EXIT_NO },
	{ "cancelled", EXIT_NO },
	{ "unauthorized", EXIT_NOPERM },
	{ "forbidden", EXIT_NOPERM },
	{ "not_found", EXIT_NOINPUT },
	{ "bad_request", EXIT_DATAERR },
	{ "bad_json", EXIT_DATAERR },
	{ "bad_field", EXIT_DATAERR },
	{ "conflict", EXIT_DATAERR },
	{ "too_large", EXIT_DATAERR },
	{ "method_not_allowed", EXIT_PROTOCOL },
	{ "unsupported_media_type", EXIT_PROTOCOL },
	{ "rate_limited", EXIT_UNAVAILABLE },
	{ "unavailable", EXIT_UNAVAILABLE },
	{ "internal", EXIT_SOFTWARE },
};

int
client_exit_for(long status, const char *code)
{
	size_t i;

	if (status >= 200 && status < 300)
		return EXIT_OK;
	for (i = 0; code != NULL && i < sizeof client_codes / sizeof client_codes[0]; i++)
		if (strcmp(code, client_codes[i].code) == 0)
			return client_codes[i].exit;
	switch (status) {
	case 400: case 413: case 409:
		return EXIT_DATAERR;
	case 401: case 403:
		return EXIT_NOPERM;
	case 404:
		return EXIT_NOINPUT;
	case 410:
		return EXIT_NO;
	case 429: case 503:
		return EXIT_UNAVAILABLE;
	}
	if (status >= 500 && status < 600)
		return EXIT_SOFTWARE;
	return EXIT_PROTOCOL;
}

void
client_err_set(struct client_err *err, int exit, const char *fmt, ...)
{
	va_list ap;

	free(err->msg);
	err->exit = exit;
	err->status = 0;
	err->code[0] = '\0';
	va_start(ap, fmt);
	xvasprintf(&err->msg, fmt, ap);
	va_end(ap);
}

void
client_err_clear(struct client_err *err)
{
	free(err->msg);
	memset(err, 0, sizeof *err);
}

struct client *
client_new(const char *socket_path, long long timeout_ms)
{
	static int initialised;
	struct client *c;

	if (!initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		initialised = 1;
	}
	c = xcalloc(1, sizeof *c);
	if ((c->curl = curl_easy_init()) == NULL) {
		free(c);
		return NULL;
	}
	c->socket = xstrdup(socket_path);
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : CLIENT_DEFAULT_TIMEOUT_MS;
	return c;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c->socket);
	free(c);
}

const char *
client_socket(const struct client *c)
{
	return c->socket;
}

static void
sink_append(struct client_sink *s, const char *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->buf = xrealloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

/* Hands every complete line in the buffer to the callback; keeps the rest. */
static int
sink_lines(struct client_sink *s, int final)
{
	char *start = s->buf, *nl, *end = s->buf + s->len, *cause = NULL;
	cJSON *obj;
	size_t n;

	while (start < end && !s->stopped) {
		if ((nl = memchr(start, '\n', (size_t)(end - start))) == NULL) {
			if (!final)
				break;
			nl = end;
		}
		n = (size_t)(nl - start);
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (n > 0) {
			if ((obj = json_parse_object(start, n, &cause)) == NULL) {
				s->bad = cause;
				return -1;
			}
			s->stopped = s->cb(obj, s->arg);
			cJSON_Delete(obj);
		}
		start = nl < end ? nl + 1 : end;
	}
	/* An empty body never allocated buf: memmove must not see NULL. */
	if (s->buf == NULL)
		return 0;
	s->len = (size_t)(end - start);
	memmove(s->buf, start, s->len);
	s->buf[s->len] = '\0';
	return 0;
}

static size_t
client_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct client_sink *s = arg;
	size_t n = size * nmemb;

	if (s->status == 0)
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->cb == NULL || s->status < 200 || s->status >= 300) {
		size_t max = s->cb == NULL ? s->max : CLIENT_MAX_ERROR_BODY;
		if (s->len + n > max) {
			s->overflow = 1;
			return 0;
		}
		sink_append(s, p, n);
		return n;
	}
	sink_append(s, p, n);
	if (sink_lines(s, 0) != 0 || s->stopped)
		return 0;
	if (s->len > CLIENT_MAX_LINE) {
		s->overflow = 1;
		return 0;
	}
	return n;
}

/* A transport failure as an exit code and one line. */
static void
client_curl_err(struct client *c, CURLcode rc, long long timeout_ms, struct client_err *err)
{
	long oserr = 0;
	const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);

	curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		client_err_set(err, EXIT_UNAVAILABLE, "cannot reach rtcs-serve at %s: %s",
		    c->socket, oserr ? strerror((int)oserr) : detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		client_err_set(err, EXIT_TIMEOUT, "timed out after %lld.%03lld s",
		    timeout_ms / 1000, timeout_ms % 1000);
		break;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		client_err_set(err, EXIT_UNAVAILABLE, "lost the connection to rtcs-serve at %s: %s",
		    c->socket, detail);
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_UNSUPPORTED_PROTOCOL:
		client_err_set(err, EXIT_PROTOCOL, "bad answer from rtcs-serve: %s", detail);
		break;
	default:
		client_err_set(err, EXIT_SOFTWARE, "request failed: %s", detail);
		break;
	}
}

/* An error status: the server's {"error":{code,message}} when it sent one. */
static void
client_http_err(struct client_sink *s, struct client_err *err)
{
	cJSON *obj, *e;
	const char *code = NULL, *msg = NULL;
	char *cause = NULL;

	obj = s->len > 0 ? json_parse_object(s->buf, s->len, &cause) : NULL;
	free(cause);
	if (obj != NULL && cJSON_IsObject(e = cJSON_GetObjectItemCaseSensitive(obj, "error"))) {
		code = json_str(e, "code");
		msg = json_str(e, "message");
	}
	if (msg != NULL)
		client_err_set(err, client_exit_for(s->status, code), "%s", msg);
	else if (code != NULL)
		client_err_set(err, client_exit_for(s->status, code), "%s", code);
	else
		client_err_set(err, client_exit_for(s->status, NULL), "rtcs-serve answered HTTP %ld", s->status);
	err->status = s->status;
	if (code != NULL)
		snprintf(err->code, sizeof err->code, "%s", code);
	cJSON_Delete(obj);
}

static struct curl_slist *
client_headers(const char *token, int has_body, int stream)
{
	struct curl_slist *h = NULL;
	char *auth;

	h = curl_slist_append(h, stream ? "Accept: application/x-ndjson" : "Accept: application/json");
	h = curl_slist_append(h, "Expect:");
	if (has_body)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (token != NULL) {
		auth = xprintf("Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
		free(auth);
	}
	return h;
}

void
client_set_stop(struct client *c, const atomic_int *stop)
{
	c->stop = stop;
}

/* libcurl asks about once a second, and whenever data comes. */
static int
client_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	const atomic_int *stop = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(stop) != 0;
}

/* Runs one request on the reused handle; fills err on a transport error. */
static int
client_perform(struct client *c, const char *method, const char *path, const char *token,
    const char *body, long long timeout_ms, struct client_sink *s, struct client_err *err)
{
	struct curl_slist *h;
	char *url = xprintf("http://rtcs%s", path);
	CURLcode rc;

	h = client_headers(token, body != NULL, s->cb != NULL);
	s->curl = c->curl;
	c->errbuf[0] = '\0';
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CLIENT_DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	if (body != NULL) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	if (c->stop != NULL && s->cb != NULL) {
		curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, client_progress);
		curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, (void *)c->stop);
	}
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(h);
	free(url);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &s->status);
	if (rc == CURLE_WRITE_ERROR && s->overflow) {
		client_err_set(err, EXIT_PROTOCOL, "answer from rtcs-serve too large");
		return -1;
	}
	if (rc == CURLE_WRITE_ERROR && s->bad != NULL) {
		client_err_set(err, EXIT_PROTOCOL, "bad stream line from rtcs-serve: %s", s->bad);
		return -1;
	}
	if (rc == CURLE_WRITE_ERROR && s->stopped)
		return 0;
	if (rc == CURLE_ABORTED_BY_CALLBACK && c->stop != NULL && atomic_load(c->stop)) {
		s->stopped = s->cancelled = 1;	/* a partial line stays unread */
		return 0;
	}
	if (rc != CURLE_OK) {
		client_curl_err(c, rc, timeout_ms, err);
		return -1;
	}
	return 0;
}

int
client_call(struct client *c, const char *method, const char *path, const char *token,
    const cJSON *body, cJSON **out, struct client_err *err)
{
	struct client_sink s;
	char *text = body != NULL ? json_print(body) : NULL, *cause = NULL;
	cJSON *obj = NULL;
	int rc = -1;

	if (out != NULL)
		*out = NULL;
	memset(&s, 0, sizeof s);
	s.max = CLIENT_MAX_BODY;
	if (text == NULL && strcmp(method, "POST") == 0)
		text = xstrdup("{}");
	if (client_perform(c, method, path, token, text, c->timeout_ms, &s, err) != 0)
		goto out;
	if (s.status < 200 || s.status >= 300) {
		client_http_err(&s, err);
		goto out;
	}
	if (s.len > 0 && (obj = json_parse_object(s.buf, s.len, &cause)) == NULL) {
		client_err_set(err, EXIT_PROTOCOL, "bad answer from rtcs-serve: %s", cause);
		free(cause);
		goto out;
	}
	if (out != NULL)
		*out = obj;
	else
		cJSON_Delete(obj);
	rc = 0;
out:
	free(text);
	free(s.buf);
	return rc;
}

int
client_stream(struct client *c, const char *path, const char *token, long long timeout_ms,
    client_line_cb cb, void *arg, struct client_err *err)
{
	struct client_sink s;
	int rc = -1;

	memset(&s, 0, sizeof s);
	s.cb = cb;
	s.arg = arg;
	if (client_perform(c, "GET", path, token, NULL, timeout_ms > 0 ? timeout_ms : 0, &s, err) != 0)
		goto out;
	if (s.status < 200 || s.status >= 300) {
		client_http_err(&s, err);
		goto out;
	}
	if (!s.stopped && sink_lines(&s, 1) != 0) {
		client_err_set(err, EXIT_PROTOCOL, "bad stream line from rtcs-serve: %s", s.bad);
		goto out;
	}
	rc = s.cancelled ? 0 : s.stopped;
out:
	free(s.bad);
	free(s.buf);
	return rc;
}
