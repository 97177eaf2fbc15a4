/*
 * Endpoints of the media path: a device's frames (relayed through the
 * session's ring, not written to the log) and what the server last heard
 * from each sender.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "api.h"
#include "json.h"
#include "names.h"

#define MAX_INT_JSON	9007199254740992.0	/* 2^53: the largest integer a double keeps */

/* The decoded length of strict standard base64 (padded), or -1. */
static long long
base64_len(const char *s)
{
	size_t n = strlen(s), i, pad = 0;

	if (n % 4 != 0)
		return -1;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '=' && i >= n - 2) {
			pad++;
			continue;
		}
		if (pad > 0 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	return (long long)(n / 4 * 3 - pad);
}

/* An optional whole number member in [min, 2^53]: 0 absent, 1 present, -1 wrong. */
static int
opt_int(const cJSON *body, const char *key, double min, double *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(body, key);

	if (n == NULL)
		return 0;
	if (!cJSON_IsNumber(n) || n->valuedouble < min || n->valuedouble > MAX_INT_JSON ||
	    (double)(long long)n->valuedouble != n->valuedouble)
		return -1;
	*v = n->valuedouble;
	return 1;
}

/* The frame from the request; -1 after an error reply. */
static int
frame_fields(struct req *rq, struct core_frame_in *in)
{
	const cJSON *b = rq->body, *from = cJSON_GetObjectItemCaseSensitive(b, "from");
	const cJSON *dev = cJSON_GetObjectItemCaseSensitive(b, "device");
	const char *type = json_str(b, "type");
	double v = 0;
	long long dlen;
	int has;

	memset(in, 0, sizeof *in);
	if ((from != NULL && !(cJSON_IsString(from) &&
	    strcmp(from->valuestring, rq->ch->participant) == 0)) ||
	    (dev != NULL && !(cJSON_IsString(dev) && strcmp(dev->valuestring, rq->ch->device) == 0))) {
		http_error(rq, 403, "forbidden", "this token speaks for %s (%s) only",
		    rq->ch->participant, rq->ch->device);
		return -1;
	}
	in->media = json_str(b, "media");
	in->codec = json_str(b, "codec");
	in->data = json_str(b, "data");
	if ((type != NULL && strcmp(type, "media") != 0) || (type == NULL &&
	    cJSON_GetObjectItemCaseSensitive(b, "type") != NULL) ||
	    in->media == NULL || !name_kind_valid(in->media) || in->data == NULL ||
	    (cJSON_GetObjectItemCaseSensitive(b, "codec") != NULL &&
	    (in->codec == NULL || !name_kind_valid(in->codec)))) {
		http_error(rq, 400, "bad_field",
		    "a media frame needs media (a word) and data (base64); codec is a word");
		return -1;
	}
	if ((dlen = base64_len(in->data)) < 0) {
		http_error(rq, 400, "bad_field", "data must be standard base64 with padding");
		return -1;
	}
	if (dlen > CORE_MEDIA_FRAME_MAX) {
		http_error(rq, 413, "too_large", "a media frame has %d bytes at most, not %lld",
		    CORE_MEDIA_FRAME_MAX, dlen);
		return -1;
	}
	in->dlen = (size_t)dlen;
	if ((has = opt_int(b, "frame", 1, &v)) < 0) {
		http_error(rq, 400, "bad_field", "frame is a whole number from 1");
		return -1;
	}
	in->has_frame = has;
	in->frame = (uint64_t)v;
	if ((has = opt_int(b, "pts", 0, &v)) < 0) {
		http_error(rq, 400, "bad_field", "pts is a whole number of milliseconds from 0");
		return -1;
	}
	in->has_pts = has;
	in->pts = (int64_t)v;
	return 0;
}

/* 429 with Retry-After (whole seconds) and the exact wait in retry_after_ms. */
static void
too_fast(struct req *rq, const struct core_frame_out *out)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
	char buf[24];

	snprintf(buf, sizeof buf, "%lld", (out->retry_ms + 999) / 1000);
	evhttp_add_header(evhttp_request_get_output_headers(rq->r), "Retry-After", buf);
	cJSON_AddStringToObject(e, "code", "too_fast");
	cJSON_AddStringToObject(e, "message", "this sender is ahead of real time by more than "
	    "the server allows: pace the frames by their pts");
	cJSON_AddNumberToObject(e, "retry_after_ms", (double)out->retry_ms);
	http_reply(rq, 429, o);
}

void
api_media_send(struct req *rq)
{
	struct core_frame_in in;
	struct core_frame_out out;
	struct core_status st;
	cJSON *o;

	if (frame_fields(rq, &in) != 0)
		return;
	switch (core_media_frame(rq->core, rq->ch, &in, &out, &st)) {
	case CE_OK:
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "frame", (double)out.frame);
		cJSON_AddNumberToObject(o, "pts", (double)out.pts);
		http_reply(rq, 202, o);
		return;
	case CE_TOO_FAST:
		too_fast(rq, &out);
		return;
	case CE_CONFLICT:
		if (st.msg != NULL && strcmp(st.msg, "stale_frame") == 0) {
			http_error(rq, 409, "stale_frame", "frame and pts must grow: %s's last %s "
			    "frame is not older than this one", rq->ch->participant, in.media);
			return;
		}
		break;
	default:
		break;
	}
	http_status(rq, &st, "cannot relay the frame");
}

void
api_media_show(struct req *rq)
{
	struct core_session *s = core_session_find(rq->core, rq->param);
	cJSON *o, *m, *you;

	if (s == NULL) {
		http_error(rq, 404, "not_found", "no session %s", rq->param);
		return;
	}
	o = cJSON_CreateObject();
	m = core_media_json(s);
	if (rq->ch != NULL) {
		you = cJSON_AddObjectToObject(m, "you");
		cJSON_AddStringToObject(you, "participant", rq->ch->participant);
		cJSON_AddStringToObject(you, "device", rq->ch->device);
	}
	cJSON_AddItemToObject(o, "media", m);
	http_reply(rq, 200, o);
}
