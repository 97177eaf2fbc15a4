/* A transfer as JSON: the public wire view, or the full record kept in the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "json.h"
#include "transfer.h"
#include "xmalloc.h"

static void
json_add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v != NULL && *v != '\0')
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void
json_add_time(cJSON *o, const char *key, long long ms)
{
	char *s = clock_format_ms(ms);

	json_add_str_or_null(o, key, s);
	free(s);
}

/* Field table shared by both directions so the two never drift apart. */
#define TRANSFER_TIMES(X) \
	X(created_at) X(expires_at) X(scanned_at) X(verified_at) \
	X(committing_at) X(completed_at) X(failed_at) X(rotated_at) X(rotates_at)

cJSON *
transfer_to_json(const struct transfer *t, int with_secrets)
{
	cJSON *o = cJSON_CreateObject(), *origin, *proofs, *conf, *req, *rec, *reqc, *recc, *past;
	int i;

	cJSON_AddStringToObject(o, "id", t->id);
	json_add_str_or_null(o, "session", t->session);
	json_add_str_or_null(o, "participant", t->participant);
	cJSON_AddStringToObject(o, "direction", t->dir == TD_PUSH ? "push" : "pull");
	cJSON_AddStringToObject(o, "state", transfer_state_name(t->state));
	json_add_str_or_null(o, "reason", t->reason);
	origin = cJSON_AddObjectToObject(o, "origin");
	json_add_str_or_null(origin, "device", t->origin_device);
	json_add_str_or_null(origin, "channel", t->origin_channel);
	json_add_str_or_null(o, "target", t->target);
	json_add_str_or_null(o, "claimant", t->claimant);
	cJSON_AddStringToObject(o, "proof", transfer_proof_name(t->proof));
	cJSON_AddStringToObject(o, "confirm", transfer_confirm_name(t->confirm));
	cJSON_AddNumberToObject(o, "attempts_left", t->attempts_left);
	proofs = cJSON_AddObjectToObject(o, "proofs");
	cJSON_AddBoolToObject(proofs, "displayer", t->proof_displayer);
	cJSON_AddBoolToObject(proofs, "scanner", t->proof_scanner);
	conf = cJSON_AddObjectToObject(o, "confirmations");
	req = cJSON_AddArrayToObject(conf, "required");
	rec = cJSON_AddArrayToObject(conf, "received");
	reqc = cJSON_AddArrayToObject(conf, "required_channels");
	recc = cJSON_AddArrayToObject(conf, "received_channels");
	for (i = 0; i < t->nrequired; i++) {
		cJSON_AddItemToArray(req, cJSON_CreateString(t->required_device[i]));
		cJSON_AddItemToArray(reqc, cJSON_CreateString(t->required[i]));
		if (t->received[i]) {
			cJSON_AddItemToArray(rec, cJSON_CreateString(t->required_device[i]));
			cJSON_AddItemToArray(recc, cJSON_CreateString(t->required[i]));
		}
	}
#define X(f) json_add_time(o, #f, t->f);
	TRANSFER_TIMES(X)
#undef X
	json_add_str_or_null(o, "new_channel", t->new_channel);
	cJSON_AddNumberToObject(o, "rotate", (double)(t->rotate_ms / 1000));
	if (with_secrets) {
		past = cJSON_AddArrayToObject(o, "past_hashes");
		for (i = 0; i < t->npast; i++)
			cJSON_AddItemToArray(past, cJSON_CreateString(t->past_hash[i]));
		cJSON_AddStringToObject(o, "secret_hash", t->secret_hash);
		cJSON_AddStringToObject(o, "claim_hash", t->claim_hash);
		cJSON_AddStringToObject(o, "match_hash", t->match_hash);
		cJSON_AddStringToObject(o, "image_hash", t->image_hash);
		cJSON_AddStringToObject(o, "check_hash", t->check_hash);
		cJSON_AddStringToObject(o, "check_box", t->check_box);
		cJSON_AddStringToObject(o, "claim_pub", t->claim_pub);
	}
	return o;
}

/* Copies a string member into a fixed field; absent or null gives "". */
static int
json_get_field(const cJSON *j, const char *key, char *dst, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	dst[0] = '\0';
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
		return -1;
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}
#define GET(j, key, dst) json_get_field((j), (key), (dst), sizeof(dst))

static int
json_get_time(const cJSON *j, const char *key, long long *ms)
{
	char buf[40];

	if (GET(j, key, buf) != 0)
		return -1;
	*ms = buf[0] ? clock_parse_ms(buf) : 0;
	return *ms < 0 ? -1 : 0;
}

static int
transfer_from_json_lists(struct transfer *t, const cJSON *j)
{
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(j, "confirmations");
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(conf, "required_channels");
	const cJSON *dev = cJSON_GetObjectItemCaseSensitive(conf, "required");
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(conf, "received_channels");
	const cJSON *v, *w, *d = dev != NULL ? dev->child : NULL;

	cJSON_ArrayForEach(v, req) {
		if (!cJSON_IsString(v) || t->nrequired == TRANSFER_MAX_CONFIRM ||
		    strlen(v->valuestring) > PAYLOAD_ID_LEN || !cJSON_IsString(d) ||
		    strlen(d->valuestring) > NAME_MAX_LEN)
			return -1;
		strcpy(t->required[t->nrequired], v->valuestring);
		strcpy(t->required_device[t->nrequired], d->valuestring);
		cJSON_ArrayForEach(w, rec)
			if (cJSON_IsString(w) && strcmp(w->valuestring, v->valuestring) == 0)
				t->received[t->nrequired] = 1;
		t->nrequired++;
		d = d->next;
	}
	return 0;
}

/* Rotation: absent in records from before it (off). */
static int
transfer_from_json_rotation(struct transfer *t, const cJSON *j)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "rotate");
	const cJSON *past = cJSON_GetObjectItemCaseSensitive(j, "past_hashes"), *h;

	if (v != NULL && (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 86400))
		return -1;
	t->rotate_ms = v != NULL ? (long long)v->valuedouble * 1000 : 0;
	if (past != NULL && !cJSON_IsArray(past))
		return -1;
	cJSON_ArrayForEach(h, past) {
		if (!cJSON_IsString(h) || strlen(h->valuestring) >= sizeof t->past_hash[0] ||
		    t->npast == TRANSFER_PAST_SECRETS)
			return -1;
		strcpy(t->past_hash[t->npast++], h->valuestring);
	}
	return 0;
}

struct transfer *
transfer_from_json(const cJSON *j, char **cause)
{
	struct transfer *t = xcalloc(1, sizeof *t);
	const cJSON *origin = cJSON_GetObjectItemCaseSensitive(j, "origin");
	const cJSON *proofs = cJSON_GetObjectItemCaseSensitive(j, "proofs");
	const cJSON *v;
	char buf[32];
	int i, bad = 0;

	bad |= GET(j, "id", t->id) | GET(j, "session", t->session);
	bad |= GET(j, "participant", t->participant) | GET(j, "reason", t->reason);
	bad |= GET(origin, "device", t->origin_device) | GET(origin, "channel", t->origin_channel);
	bad |= GET(j, "target", t->target) | GET(j, "claimant", t->claimant);
	bad |= GET(j, "new_channel", t->new_channel);
	bad |= GET(j, "secret_hash", t->secret_hash) | GET(j, "claim_hash", t->claim_hash);
	bad |= GET(j, "match_hash", t->match_hash) | GET(j, "image_hash", t->image_hash);
	bad |= GET(j, "check_hash", t->check_hash) | GET(j, "check_box", t->check_box);
	bad |= GET(j, "claim_pub", t->claim_pub);
#define X(f) bad |= json_get_time(j, #f, &t->f);
	TRANSFER_TIMES(X)
#undef X
	bad |= GET(j, "direction", buf);
	t->dir = strcmp(buf, "pull") == 0 ? TD_PULL : TD_PUSH;
	bad |= GET(j, "state", buf);
	for (i = 0; i <= TS_FAILED && strcmp(buf, transfer_state_name(i)) != 0; i++)
		;
	bad |= i > TS_FAILED;
	t->state = (enum transfer_state)i;
	bad |= GET(j, "proof", buf) | transfer_parse_proof(buf, &t->proof);
	bad |= GET(j, "confirm", buf) | transfer_parse_confirm(buf, &t->confirm);
	v = cJSON_GetObjectItemCaseSensitive(j, "attempts_left");
	bad |= !cJSON_IsNumber(v);
	t->attempts_left = cJSON_IsNumber(v) ? v->valueint : 0;
	t->proof_displayer = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(proofs, "displayer"));
	t->proof_scanner = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(proofs, "scanner"));
	bad |= transfer_from_json_lists(t, j);
	bad |= transfer_from_json_rotation(t, j);
	if (bad || t->id[0] == '\0') {
		*cause = xprintf("malformed transfer record %s", t->id[0] ? t->id : "(no id)");
		free(t);
		return NULL;
	}
	return t;
}
