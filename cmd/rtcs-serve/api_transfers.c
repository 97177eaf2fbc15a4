/*
 * Endpoints of the transfer (doc/api.md, issue 4): create (push or pull),
 * list, show, image data, confirm, reject, cancel and the new token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <event2/http.h>

#include "image.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "payload.h"
#include "qr_decode.h"
#include "serve.h"
#include "transfer.h"
#include "xmalloc.h"

#define TRANSFER_MAX_TTL_S	86400

static void
reply_internal(struct req *rq, char *cause)
{
	log_warnx("%s", cause);
	http_error(rq, 500, "internal", "%s", cause);
	free(cause);
}

/* Why a transfer that is over takes no more calls, as a stable error code. */
static void
reply_over(struct req *rq, const struct transfer *t)
{
	static const struct { const char *reason, *code; int status; } over[] = {
		{ "expired", "expired", 410 },
		{ "cancelled", "cancelled", 409 },
		{ "rejected_by_origin", "rejected", 409 },
		{ "rejected_by_peer", "rejected", 409 },
		{ "session_ended", "session_ended", 409 },
		{ "too_many_attempts", "too_many_attempts", 410 },
	};
	size_t i;

	for (i = 0; t->state == TS_FAILED && i < sizeof over / sizeof over[0]; i++)
		if (strcmp(t->reason, over[i].reason) == 0) {
			http_error(rq, over[i].status, over[i].code, "transfer %s failed: %s", t->id,
			    t->reason);
			return;
		}
	http_error(rq, 410, "gone", "transfer %s is over (%s%s%s)", t->id,
	    transfer_state_name(t->state), t->reason[0] ? ": " : "", t->reason);
}

static void
reply_err(struct req *rq, enum transfer_err e, const char *id)
{
	struct xfer *x = xfer_find(rq->srv, id);

	if ((e == TE_ENDED || e == TE_EXPIRED) && x != NULL) {
		reply_over(rq, x->t);
		return;
	}
	http_error(rq, transfer_err_status(e), transfer_err_code(e), "transfer %s: %s", id,
	    transfer_err_code(e));
}

static void
reply_transfer(struct req *rq, int status, struct xfer *x, cJSON *o)
{
	if (o == NULL)
		o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "transfer", transfer_to_json(x->t, 0));
	http_reply(rq, status, o);
}

/* The transfer of the path, or NULL with a 404 sent. */
static struct xfer *
path_xfer(struct req *rq)
{
	struct xfer *x = xfer_find(rq->srv, rq->param);

	if (x == NULL)
		http_error(rq, 404, "not_found", "no transfer %s", rq->param);
	return x;
}

/* Who calls, for the state machine; fills a. */
static void
req_actor(struct req *rq, struct transfer_actor *a, const char *device)
{
	memset(a, 0, sizeof *a);
	if (rq->ch != NULL) {
		a->kind = TA_CHANNEL;
		a->device = rq->ch->device;
		a->session = rq->ch->session->id;
		a->participant = rq->ch->participant;
		a->channel = rq->ch->id;
	} else if (rq->claim != NULL) {
		a->kind = TA_CLAIMANT;
		a->device = rq->claim->t->claimant;
	} else {
		a->kind = TA_ANON;
		a->device = device;
	}
}

/* Operator, the holder of its claim, or a device of its session, target or claimant. */
static int
xfer_involved(struct req *rq, struct xfer *x)
{
	struct transfer *t = x->t;

	if (rq->owner != NULL)
		return 0;
	if (rq->ch == NULL)
		return rq->claim == NULL || rq->claim == x;
	return strcmp(t->session, rq->ch->session->id) == 0 ||
	    strcmp(t->origin_channel, rq->ch->id) == 0 || transfer_involves(t, rq->ch->device);
}

/* ttl, confirm and proof of a create request, with the server's defaults. */
static int
create_options(struct req *rq, long long *ttl_ms, enum transfer_confirm *c,
    enum transfer_proof *p)
{
	const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(rq->body, "ttl");
	const cJSON *cf = cJSON_GetObjectItemCaseSensitive(rq->body, "confirm");
	const cJSON *pf = cJSON_GetObjectItemCaseSensitive(rq->body, "proof");

	*ttl_ms = rq->srv->cfg->code_ttl_ms;
	*c = (enum transfer_confirm)rq->srv->cfg->confirm;
	*p = (enum transfer_proof)rq->srv->cfg->proof;
	if (ttl != NULL && !cJSON_IsNull(ttl)) {
		if (!cJSON_IsNumber(ttl) || ttl->valuedouble < 1 ||
		    ttl->valuedouble > TRANSFER_MAX_TTL_S) {
			http_error(rq, 400, "bad_field", "ttl is 1 to %d seconds", TRANSFER_MAX_TTL_S);
			return -1;
		}
		*ttl_ms = (long long)(ttl->valuedouble * 1000);
	}
	if (cf != NULL && !cJSON_IsNull(cf) &&
	    (!cJSON_IsString(cf) || transfer_parse_confirm(cf->valuestring, c) != 0)) {
		http_error(rq, 400, "bad_field", "confirm is none, origin, peers or all");
		return -1;
	}
	if (pf != NULL && !cJSON_IsNull(pf) &&
	    (!cJSON_IsString(pf) || transfer_parse_proof(pf->valuestring, p) != 0)) {
		http_error(rq, 400, "bad_field", "proof is both or scanner");
		return -1;
	}
	return 0;
}

/* An optional name field: 0 and *out (NULL if absent), or an error sent. */
static int
name_field(struct req *rq, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rq->body, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || !name_valid(v->valuestring)) {
		http_error(rq, 400, "bad_field", "%s must be a device name", key);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

/* Saves the new transfer and answers with its payload (and claim, for a pull). */
static void
create_reply(struct req *rq, struct transfer *t, char *secret, char *claim)
{
	struct server *srv = rq->srv;
	struct xfer *x = xfer_add(srv, t, claim != NULL ? xstrdup(claim) : NULL);
	char *payload = transfer_payload(t, secret), *cause = NULL;
	cJSON *o;

	explicit_bzero(secret, strlen(secret));
	free(secret);
	if (xfer_settle(srv, x, -1, t->attempts_left, &cause) != 0) {
		/* Never acknowledged: forget it. */
		strmap_del(srv->transfers, t->id);
		if (t->claim_hash[0] != '\0')
			strmap_del(srv->claims, t->claim_hash);
		TAILQ_REMOVE(&srv->xopen, x, entry);
		srv->nopen--;
		srv->nxfers--;
		free(x->claim);
		free(x);
		transfer_free(t);
		free(payload);
		free(claim);
		reply_internal(rq, cause);
		return;
	}
	xfer_arm(srv, x);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "payload", payload);
	json_add_time(o, "expires_at", t->expires_at);
	if (claim != NULL)
		cJSON_AddStringToObject(o, "claim", claim);
	free(payload);
	free(claim);
	reply_transfer(rq, 201, x, o);
}

/* Push: the origin's channel token asks for a code to show. */
static void
create_push(struct req *rq)
{
	const char *sid = json_str(rq->body, "session"), *to;
	struct session *s = rq->ch->session;
	struct transfer_actor a;
	struct transfer *t;
	enum transfer_confirm c;
	enum transfer_proof p;
	long long ttl;
	char *secret;

	if (sid != NULL && strcmp(sid, s->id) != 0) {
		http_error(rq, 403, "forbidden", "the token is not one of session %s", sid);
		return;
	}
	if (name_field(rq, "to", &to) != 0 || create_options(rq, &ttl, &c, &p) != 0)
		return;
	if (s->ended) {
		http_error(rq, 409, "session_ended", "session %s has ended", s->id);
		return;
	}
	if (to != NULL && session_device_channel(s, to) != NULL) {
		http_error(rq, 409, "conflict", "%s already speaks in session %s", to, s->id);
		return;
	}
	req_actor(rq, &a, NULL);
	t = transfer_new_push(&a, to, p, c, now_ms(), ttl, &secret);
	create_reply(rq, t, secret, NULL);
}

/* Pull: an unknown device asks for a code for the origin to scan. */
static void
create_pull(struct req *rq)
{
	const char *device, *sid = json_str(rq->body, "session");
	struct session *s = NULL;
	struct transfer *t;
	enum transfer_confirm c;
	enum transfer_proof p;
	long long ttl;
	char *secret, *claim;

	if (name_field(rq, "device", &device) != 0 || create_options(rq, &ttl, &c, &p) != 0)
		return;
	if (device == NULL) {
		http_error(rq, 400, "bad_field",
		    "a pull names its device: {\"device\":...} (a push needs the origin's token)");
		return;
	}
	if (sid != NULL && (s = session_find(rq->srv, sid)) == NULL) {
		http_error(rq, 404, "not_found", "no session %s", sid);
		return;
	}
	if (s != NULL && s->ended) {
		http_error(rq, 409, "session_ended", "session %s has ended", s->id);
		return;
	}
	if (s != NULL && session_device_channel(s, device) != NULL) {
		http_error(rq, 409, "conflict", "%s already speaks in session %s", device, s->id);
		return;
	}
	t = transfer_new_pull(device, sid, p, c, now_ms(), ttl, &secret, &claim);
	create_reply(rq, t, secret, claim);
}

void
api_transfer_create(struct req *rq)
{
	if (rq->claim != NULL || rq->owner != NULL)
		http_error(rq, 403, "forbidden", "a claim secret cannot create transfers");
	else if (rq->ch != NULL)
		create_push(rq);
	else
		create_pull(rq);
}

void
api_transfer_list(struct req *rq)
{
	struct server *srv = rq->srv;
	const char *sid = http_query(rq, "session"), *state = http_query(rq, "state");
	cJSON *o, *a;
	size_t i;
	int open_only = 0;

	if (state != NULL && strcmp(state, "open") == 0)
		open_only = 1;
	else if (state != NULL && strcmp(state, "all") != 0) {
		http_error(rq, 400, "bad_field", "state is open or all");
		return;
	}
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "transfers");
	for (i = 0; i < srv->nxfers; i++) {
		struct transfer *t = srv->xlist[i]->t;
		if ((open_only && transfer_terminal(t)) || (sid != NULL && strcmp(sid, t->session) != 0))
			continue;
		cJSON_AddItemToArray(a, transfer_to_json(t, 0));
	}
	http_reply(rq, 200, o);
}

/* The transfer of the path if the caller is involved; else NULL, error sent. */
static struct xfer *
involved_xfer(struct req *rq)
{
	struct xfer *x = path_xfer(rq);

	if (x != NULL && !xfer_involved(rq, x)) {
		http_error(rq, 403, "forbidden", "this token plays no part in transfer %s", x->t->id);
		return NULL;
	}
	return x;
}

/* A lazy expiry check before a transfer is shown or acted on. */
static void
xfer_expire_now(struct req *rq, struct xfer *x)
{
	int prev = (int)x->t->state;
	char *cause = NULL;

	if (transfer_expire(x->t, now_ms()) &&
	    xfer_settle(rq->srv, x, prev, x->t->attempts_left, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
	}
}

void
api_transfer_show(struct req *rq)
{
	struct xfer *x;

	if ((x = involved_xfer(rq)) == NULL)
		return;
	xfer_expire_now(rq, x);
	reply_transfer(rq, 200, x, NULL);
}

/* Persists and announces what a call changed, then answers with the transfer or the refusal. */
static void
settle_and_reply(struct req *rq, struct xfer *x, int prev, int prev_att, enum transfer_err e)
{
	char *cause = NULL;

	if (xfer_settle(rq->srv, x, prev, prev_att, &cause) != 0) {
		reply_internal(rq, cause);
		return;
	}
	if (e != TE_OK)
		reply_err(rq, e, x->t->id);
	else
		reply_transfer(rq, 200, x, NULL);
}

void
api_transfer_cancel(struct req *rq)
{
	struct xfer *x;
	enum transfer_err e;
	int prev, prev_att;

	if ((x = path_xfer(rq)) == NULL)
		return;
	if (rq->claim != NULL || rq->owner != NULL ||
	    (rq->ch != NULL && strcmp(rq->ch->id, x->t->origin_channel) != 0)) {
		http_error(rq, 403, "forbidden", "only the operator or the origin cancels %s",
		    x->t->id);
		return;
	}
	prev = (int)x->t->state;
	prev_att = x->t->attempts_left;
	e = transfer_cancel(x->t, now_ms());
	settle_and_reply(rq, x, prev, prev_att, e);
}

/* Whether a refusal is a failed attempt (counted per uid for the rate limit). */
static int
attempt_failed(enum transfer_err e)
{
	return e == TE_CODE_MISMATCH || e == TE_WRONG_DEVICE || e == TE_MATCH_MISMATCH ||
	    e == TE_BURNT;
}

/* Decodes a base64 PNG on the server; the first transfer code in it, or NULL with an error sent. */
static char *
image_payload(struct req *rq, const char *b64)
{
	size_t n = strlen(b64), len;
	unsigned char *png;
	struct image img;
	struct qr_symbol *syms = NULL;
	char *cause = NULL, *out = NULL;
	int i, nsyms, dec;

	if (n == 0 || n % 4 != 0) {
		http_error(rq, 400, "bad_field", "image must be base64 (PNG bytes)");
		return NULL;
	}
	png = xmalloc(n / 4 * 3 + 1);
	if ((dec = EVP_DecodeBlock(png, (const unsigned char *)b64, (int)n)) < 0) {
		free(png);
		http_error(rq, 400, "bad_field", "image must be base64 (PNG bytes)");
		return NULL;
	}
	len = (size_t)dec - (n >= 1 && b64[n - 1] == '=') - (n >= 2 && b64[n - 2] == '=');
	if (image_decode(png, len, &img, &cause) != 0) {
		free(png);
		http_error(rq, 400, "bad_image", "%s", cause);
		free(cause);
		return NULL;
	}
	free(png);
	nsyms = qr_decode(&img, QR_DECODE_QR, &syms, &cause);
	image_free(&img);
	if (nsyms < 0) {
		http_error(rq, 400, "bad_image", "%s", cause);
		free(cause);
		return NULL;
	}
	for (i = 0; i < nsyms && out == NULL; i++)
		if (strlen(syms[i].data) == syms[i].len && strncmp(syms[i].data, "RTCS:", 5) == 0)
			out = xstrdup(syms[i].data);
	if (out == NULL && nsyms > 0)
		out = xstrndup(syms[0].data, strcspn(syms[0].data, "\r\n"));
	qr_symbols_free(syms, nsyms);
	if (out == NULL)
		http_error(rq, 400, "no_code", "no code found in the image");
	return out;
}

/* A secret as rand_base32 makes it: 26 characters of A-Z and 2-7. */
static int
secret_valid(const char *s)
{
	return strlen(s) == PAYLOAD_SECRET_LEN &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == PAYLOAD_SECRET_LEN;
}

/* The session a call's context is read from: the transfer's, or the scanning origin's (pull). */
static struct session *
ctx_session(struct req *rq, struct xfer *x)
{
	if (x->t->session[0] != '\0')
		return session_find(rq->srv, x->t->session);
	return rq->ch != NULL ? rq->ch->session : NULL;
}

/* What the state machine needs to know of the session; peers points into s. */
static void
ctx_fill(struct transfer_ctx *ctx, const char **peers, struct session *s,
    const struct transfer *t, const char *participant, const char *claimant)
{
	size_t i;

	memset(ctx, 0, sizeof *ctx);
	ctx->peer_devices = peers;
	if (s == NULL)
		return;
	for (i = 0; i < s->nparticipants && ctx->npeers < TRANSFER_MAX_CONFIRM; i++)
		if (participant == NULL || strcmp(s->participants[i].name, participant) != 0)
			peers[ctx->npeers++] = s->participants[i].channel->device;
	ctx->claimant_in_session = claimant != NULL && claimant[0] != '\0' &&
	    session_device_channel(s, claimant) != NULL;
	(void)t;
}

/* The image call's checks of who calls: 0, or an error sent. */
static int
image_caller(struct req *rq, struct xfer *x, const char *device)
{
	if (rq->owner != NULL || (rq->claim != NULL && rq->claim != x)) {
		http_error(rq, 403, "forbidden", "this secret is not one of transfer %s", x->t->id);
		return -1;
	}
	if ((rq->ch != NULL && strcmp(device, rq->ch->device) != 0) ||
	    (rq->claim != NULL && strcmp(device, x->t->claimant) != 0)) {
		http_error(rq, 403, "forbidden", "this secret speaks for %s only",
		    rq->ch != NULL ? rq->ch->device : x->t->claimant);
		return -1;
	}
	return 0;
}

static void
image_reply(struct req *rq, struct xfer *x, struct transfer_result *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "role", r->role);
	if (r->match[0] != '\0')
		cJSON_AddStringToObject(o, "match", r->match);
	if (r->claim != NULL)
		cJSON_AddStringToObject(o, "claim", r->claim);
	reply_transfer(rq, 200, x, o);
}

/* After an image or a confirmation: save, announce, alert, switch; reply. */
static void
xfer_answer(struct req *rq, struct xfer *x, enum transfer_err e, struct transfer_result *r,
    int prev, int prev_att, const char *device, int image)
{
	struct server *srv = rq->srv;
	char *cause = NULL;

	if (r->claim != NULL && e == TE_OK) {
		free(x->claim);
		x->claim = xstrdup(r->claim);
		strmap_put(srv->claims, x->t->claim_hash, x);
	}
	if (attempt_failed(e))
		ratelimit_fail(srv, rq->uid);
	if (r->alert)
		xfer_alert(srv, x, e == TE_ALREADY_CLAIMED ? "already_claimed" : "wrong_device",
		    device);
	if (xfer_settle(srv, x, prev, prev_att, &cause) != 0) {
		reply_internal(rq, cause);
		return;
	}
	if (e != TE_OK) {
		reply_err(rq, e, x->t->id);
		return;
	}
	if (r->commit && xfer_commit(srv, x, &cause) != 0) {
		reply_internal(rq, cause);
		return;
	}
	if (image)
		image_reply(rq, x, r);
	else
		reply_transfer(rq, 200, x, NULL);
}

void
api_transfer_image(struct req *rq)
{
	const char *device, *payload = json_str(rq->body, "payload");
	const char *image = json_str(rq->body, "image"), *peers[TRANSFER_MAX_CONFIRM];
	struct transfer_actor a;
	struct transfer_ctx ctx;
	struct transfer_result r;
	struct xfer *x;
	enum transfer_err e;
	char *decoded;
	int prev, prev_att;

	if ((x = path_xfer(rq)) == NULL || name_field(rq, "device", &device) != 0)
		return;
	if (device == NULL || (payload == NULL) == (image == NULL)) {
		http_error(rq, 400, "bad_field",
		    "image data is {\"device\":..., \"payload\":...} or {\"device\":..., \"image\":BASE64-PNG}");
		return;
	}
	if (image_caller(rq, x, device) != 0 || http_rate_limited(rq))
		return;
	if ((decoded = payload != NULL ? xstrdup(payload) : image_payload(rq, image)) == NULL)
		return;
	req_actor(rq, &a, device);
	if (a.kind == TA_ANON && (a.claim = json_str(rq->body, "claim")) != NULL &&
	    !secret_valid(a.claim)) {
		free(decoded);
		http_error(rq, 400, "bad_field", "claim is 26 base32 characters");
		return;
	}
	ctx_fill(&ctx, peers, ctx_session(rq, x), x->t,
	    x->t->participant[0] ? x->t->participant : (rq->ch ? rq->ch->participant : NULL),
	    x->t->dir == TD_PUSH && a.kind == TA_ANON ? device : x->t->claimant);
	prev = (int)x->t->state;
	prev_att = x->t->attempts_left;
	e = transfer_image(x->t, &a, &ctx, decoded, now_ms(), &r);
	free(decoded);
	xfer_answer(rq, x, e, &r, prev, prev_att, device, 1);
	free(r.claim);
}

void
api_transfer_confirm(struct req *rq)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(rq->body, "match");
	struct transfer_actor a;
	struct transfer_result r;
	struct xfer *x;
	enum transfer_err e;
	int prev, prev_att;

	if ((x = path_xfer(rq)) == NULL)
		return;
	if (rq->ch == NULL) {
		http_error(rq, rq->claim || rq->owner ? 403 : 401,
		    rq->claim || rq->owner ? "forbidden" : "unauthorized",
		    "a confirmation comes with a device's channel token");
		return;
	}
	if (m != NULL && !cJSON_IsNull(m) && !cJSON_IsString(m)) {
		http_error(rq, 400, "bad_field", "match is a string of 6 digits");
		return;
	}
	if (http_rate_limited(rq))
		return;
	req_actor(rq, &a, NULL);
	prev = (int)x->t->state;
	prev_att = x->t->attempts_left;
	e = transfer_confirm(x->t, &a, cJSON_IsString(m) ? m->valuestring : NULL, now_ms(), &r);
	xfer_answer(rq, x, e, &r, prev, prev_att, rq->ch->device, 0);
}

void
api_transfer_reject(struct req *rq)
{
	struct transfer_actor a;
	struct xfer *x;
	enum transfer_err e;
	int prev, prev_att;

	if ((x = path_xfer(rq)) == NULL)
		return;
	if (rq->owner != NULL || (rq->claim != NULL && rq->claim != x) ||
	    (rq->ch == NULL && rq->claim == NULL)) {
		http_error(rq, rq->ch == NULL && rq->claim == NULL && rq->owner == NULL ? 401 : 403,
		    rq->ch == NULL && rq->claim == NULL && rq->owner == NULL ? "unauthorized" :
		    "forbidden", "a refusal comes from the origin, a peer or the claimant");
		return;
	}
	req_actor(rq, &a, NULL);
	prev = (int)x->t->state;
	prev_att = x->t->attempts_left;
	e = transfer_reject(x->t, &a, now_ms());
	settle_and_reply(rq, x, prev, prev_att, e);
}

void
api_transfer_token(struct req *rq)
{
	struct xfer *x;
	enum transfer_err e;
	char *token = NULL, *cause = NULL;
	cJSON *o;

	if ((x = path_xfer(rq)) == NULL)
		return;
	if (rq->claim != x) {
		http_error(rq, rq->claim || rq->ch || rq->owner ? 403 : 401,
		    rq->claim || rq->ch || rq->owner ? "forbidden" : "unauthorized",
		    "the new token goes to the claimant (its claim secret) only");
		return;
	}
	if (x->t->token_taken) {
		http_error(rq, 410, "gone", "the token of transfer %s was handed out already",
		    x->t->id);
		return;
	}
	if ((e = transfer_take_token(x->t, rq->bearer, &token)) != TE_OK) {
		if (x->t->state == TS_FAILED)
			http_error(rq, 410, x->t->reason[0] && strcmp(x->t->reason, "expired") == 0 ?
			    "expired" : "gone", "transfer %s failed: %s", x->t->id, x->t->reason);
		else
			reply_err(rq, e, x->t->id);
		return;
	}
	/* Taken is durable before the token leaves: it is handed out once at most. */
	if (xfer_save(rq->srv, x, &cause) != 0) {
		explicit_bzero(token, strlen(token));
		free(token);
		reply_internal(rq, cause);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "token", token);
	cJSON_AddStringToObject(o, "session", x->t->session);
	cJSON_AddStringToObject(o, "channel", x->t->new_channel);
	cJSON_AddStringToObject(o, "device", x->t->claimant);
	explicit_bzero(token, strlen(token));
	free(token);
	http_reply(rq, 200, o);
}
