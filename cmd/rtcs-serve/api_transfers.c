/*
 * Endpoints of the transfer (doc/api.md): create (push or pull), list, show,
 * image data, confirm, reject, cancel, the new token and the current code. Each parses, calls
 * the core's transfer engine, and answers with the transfer or the refusal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "decode.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "payload.h"
#include "xmalloc.h"

#define TRANSFER_MAX_TTL_S	86400

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
reply_transfer(struct req *rq, int status, struct core_xfer *x, cJSON *o)
{
	if (o == NULL)
		o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "transfer", core_xfer_json(rq->core, x));
	http_reply(rq, status, o);
}

/* A refusal of the transfer engine; over transfers answer why they are over. */
static void
reply_refused(struct req *rq, const struct core_status *st, struct core_xfer *x)
{
	if (st->err == CE_TRANSFER && (st->te == TE_ENDED || st->te == TE_EXPIRED ||
	    st->te == TE_BURNT) && x != NULL && x->t.state == TS_FAILED) {
		reply_over(rq, &x->t);
		return;
	}
	http_status(rq, st, x != NULL ? x->t.id : "transfer");
}

/* The transfer of the path, or NULL with a 404 sent. */
static struct core_xfer *
path_xfer(struct req *rq)
{
	struct core_xfer *x = core_xfer_find(rq->core, rq->param);

	if (x == NULL)
		http_error(rq, 404, "not_found", "no transfer %s", rq->param);
	return x;
}

/* ttl, confirm and proof of a create request, with the server's defaults. */
static int
create_options(struct req *rq, long long *ttl_ms, int *c, int *p)
{
	enum transfer_confirm ce = rq->core->cfg.confirm;
	enum transfer_proof pe = rq->core->cfg.proof;
	const char *cf, *pf;
	long long ttl;
	int has_ttl;

	*ttl_ms = rq->core->cfg.code_ttl_ms;
	if (body_int(rq, "ttl", 1, TRANSFER_MAX_TTL_S, &has_ttl, &ttl) != 0 ||
	    body_str(rq, "confirm", &cf) != 0 || body_str(rq, "proof", &pf) != 0)
		return -1;
	if (has_ttl)
		*ttl_ms = ttl * 1000;
	if (cf != NULL && transfer_parse_confirm(cf, &ce) != 0) {
		http_error(rq, 400, "bad_field", "confirm is none, origin, peers or all");
		return -1;
	}
	if (pf != NULL && transfer_parse_proof(pf, &pe) != 0) {
		http_error(rq, 400, "bad_field", "proof is both or scanner");
		return -1;
	}
	*c = (int)ce;
	*p = (int)pe;
	return 0;
}

/*
 * A push's rotation period (design.md 7.1): "rotate" in seconds, from
 * TRANSFER_ROTATE_MIN_S up to its lifetime. With the server's --rotate off a
 * transfer may turn rotation on (or give 0, off); with it on, a transfer may
 * only make the period shorter, never turn it off. Absent: the server's.
 */
static int
rotate_option(struct req *rq, long long ttl_ms, long long *rotate_ms)
{
	long long server = rq->core->cfg.rotate_ms, r;
	int has;

	*rotate_ms = server;
	if (body_int(rq, "rotate", 0, TRANSFER_MAX_TTL_S, &has, &r) != 0)
		return -1;
	if (!has)
		return 0;
	if (r == 0 && server > 0) {
		http_error(rq, 400, "bad_field", "rotate: this server rotates codes every %lld s "
		    "(--rotate): a transfer may rotate faster, not turn it off", server / 1000);
		return -1;
	}
	if (r != 0 && (r < TRANSFER_ROTATE_MIN_S || r * 1000 > ttl_ms)) {
		http_error(rq, 400, "bad_field", "rotate must be 0 (off) or from %d to the code's "
		    "lifetime (%lld s)", TRANSFER_ROTATE_MIN_S, ttl_ms / 1000);
		return -1;
	}
	if (server > 0 && r * 1000 > server) {
		http_error(rq, 400, "bad_field", "rotate: this server rotates codes every %lld s "
		    "(--rotate): a transfer may only make it shorter", server / 1000);
		return -1;
	}
	*rotate_ms = r * 1000;
	return 0;
}

/* An optional name field: 0 and *out (NULL if absent), or an error sent. */
static int
name_field(struct req *rq, const char *key, const char **out)
{
	const char *v;

	*out = NULL;
	if (body_str(rq, key, &v) != 0)
		return -1;
	if (v == NULL)
		return 0;
	if (!name_valid(v)) {
		http_error(rq, 400, "bad_field", "%s must be a device name", key);
		return -1;
	}
	*out = v;
	return 0;
}

static void
created(void *arg, const struct core_status *st, struct core_xfer *x,
    const struct core_xfer_reply *r)
{
	struct req *rq = arg;
	cJSON *o;

	if (st->err != CE_OK) {
		http_status(rq, st, "cannot create the transfer");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "payload", r->payload);
	core_time_json(o, "expires_at", x->t.expires_at);
	if (r->claim != NULL)
		cJSON_AddStringToObject(o, "claim", r->claim);
	reply_transfer(rq, 201, x, o);
}

/* Push: the origin's channel token asks for a code to show. */
static void
create_push(struct req *rq)
{
	const char *sid, *to;
	struct core_session *s = rq->ch->session;
	long long ttl, rotate;
	int c, p;

	if (body_str(rq, "session", &sid) != 0)
		return;
	if (sid != NULL && strcmp(sid, s->id) != 0) {
		http_error(rq, 403, "forbidden", "the token is not one of session %s", sid);
		return;
	}
	if (name_field(rq, "to", &to) != 0 || create_options(rq, &ttl, &c, &p) != 0 ||
	    rotate_option(rq, ttl, &rotate) != 0)
		return;
	if (s->ended) {
		http_error(rq, 409, "session_ended", "session %s has ended", s->id);
		return;
	}
	if (to != NULL && core_device_channel(s, to) != NULL) {
		http_error(rq, 409, "conflict", "%s already speaks in session %s", to, s->id);
		return;
	}
	core_xfer_push(rq->core, rq->ch, to, ttl, rotate, c, p, created, rq);
}

/* Pull: an unknown device asks for a code for the origin to scan. */
static void
create_pull(struct req *rq)
{
	const char *device, *sid;
	struct core_session *s = NULL;
	long long ttl;
	int c, p;

	if (body_str(rq, "session", &sid) != 0)
		return;
	/*
	 * A device's request never sets the rules (design.md 4.2): the server's
	 * proof and confirm apply, the origin always confirms with the check
	 * code, and the lifetime asked for is capped by --code-ttl.
	 */
	if (cJSON_GetObjectItemCaseSensitive(rq->body, "confirm") != NULL ||
	    cJSON_GetObjectItemCaseSensitive(rq->body, "proof") != NULL ||
	    cJSON_GetObjectItemCaseSensitive(rq->body, "rotate") != NULL) {
		http_error(rq, 400, "bad_field", "a pull offer carries no policy: confirm, proof "
		    "and rotate are the server's");
		return;
	}
	if (name_field(rq, "device", &device) != 0 || create_options(rq, &ttl, &c, &p) != 0)
		return;
	if (ttl > rq->core->cfg.code_ttl_ms)
		ttl = rq->core->cfg.code_ttl_ms;
	if (device == NULL) {
		http_error(rq, 400, "bad_field",
		    "a pull names its device: {\"device\":...} (a push needs the origin's token)");
		return;
	}
	if (sid != NULL && (s = core_session_find(rq->core, sid)) == NULL) {
		http_error(rq, 404, "not_found", "no session %s", sid);
		return;
	}
	if (s != NULL && s->ended) {
		http_error(rq, 409, "session_ended", "session %s has ended", s->id);
		return;
	}
	if (s != NULL && core_device_channel(s, device) != NULL) {
		http_error(rq, 409, "conflict", "%s already speaks in session %s", device, s->id);
		return;
	}
	/* Offers cost nothing to ask for: so many may wait for a scan at once. */
	if (core_xfer_live_offers(rq->core) >= CORE_MAX_OFFERS) {
		evhttp_add_header(evhttp_request_get_output_headers(rq->r), "Retry-After",
		    "10");
		http_error(rq, 429, "rate_limited", "%d pull offers already wait for a scan",
		    CORE_MAX_OFFERS);
		return;
	}
	core_xfer_pull(rq->core, device, s, ttl, rq->core->cfg.rotate_ms, c, p, created, rq);
}

void
api_transfer_create(struct req *rq)
{
	if (rq->ch != NULL)
		create_push(rq);
	else
		create_pull(rq);
}

void
api_transfer_list(struct req *rq)
{
	struct core *c = rq->core;
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
	for (i = 0; i < c->nxfers; i++) {
		struct core_xfer *x = c->xlist[i];
		if ((open_only && transfer_terminal(&x->t)) ||
		    (sid != NULL && strcmp(sid, x->t.session) != 0))
			continue;
		cJSON_AddItemToArray(a, core_xfer_json(c, x));
	}
	http_reply(rq, 200, o);
}

void
api_transfer_show(struct req *rq)
{
	char check[TRANSFER_CHECK_LEN + 1];
	struct core_xfer *x;
	cJSON *o, *t;

	if ((x = path_xfer(rq)) == NULL)
		return;
	core_xfer_touch(rq->core, x);
	o = cJSON_CreateObject();
	t = core_xfer_json(rq->core, x);
	/* The new device of a pull (its claim only) shows its check code for the origin to type. */
	if (rq->claim != NULL && x->t.state == TS_VERIFIED && transfer_check_code(&x->t, check) == 0)
		cJSON_AddStringToObject(t, "check", check);
	cJSON_AddItemToObject(o, "transfer", t);
	http_reply(rq, 200, o);
}

/* After a call: the transfer, or the refusal. */
static void
answered(void *arg, const struct core_status *st, struct core_xfer *x,
    const struct core_xfer_reply *r)
{
	struct req *rq = arg;

	(void)r;
	if (st->err != CE_OK)
		reply_refused(rq, st, x);
	else
		reply_transfer(rq, 200, x, NULL);
}

void
api_transfer_cancel(struct req *rq)
{
	struct core_xfer *x;

	if ((x = path_xfer(rq)) != NULL)
		core_xfer_cancel(rq->core, x, answered, rq);
}

/* Whether a refusal is a failed attempt (counted toward the budget of failed guesses). */
static int
attempt_failed(const struct core_status *st)
{
	return st->err == CE_TRANSFER && (st->te == TE_CODE_MISMATCH || st->te == TE_WRONG_DEVICE ||
	    st->te == TE_MATCH_MISMATCH || st->te == TE_CHECK_MISMATCH || st->te == TE_BURNT ||
	    st->te == TE_ENDED || st->te == TE_EXPIRED || st->te == TE_NO_CODE);
}

/*
 * The transfer of a guessing call's path (image data, confirm): its budget
 * is checked first, and an unknown id is a failed guess. NULL after a reply.
 */
static struct core_xfer *
guessed_xfer(struct req *rq)
{
	struct core_xfer *x = core_xfer_find(rq->core, rq->param);

	if (http_rate_limited(rq, x))
		return NULL;
	if (x == NULL) {
		ratelimit_fail(rq);
		http_error(rq, 404, "not_found", "no transfer %s", rq->param);
	}
	return x;
}

/* The PNG bytes of a base64 field, or NULL with an error sent. */
static unsigned char *
image_png(struct req *rq, const char *b64, size_t *len)
{
	size_t n = strlen(b64);
	unsigned char *png = xmalloc(n / 4 * 3 + 3);
	const char *end;

	if (n == 0 || sodium_base642bin(png, n / 4 * 3 + 3, b64, n, NULL, len, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || *end != '\0') {
		free(png);
		http_error(rq, 400, "bad_field", "image must be base64 (PNG bytes)");
		return NULL;
	}
	return png;
}

/* A secret as rand_base32 makes it: 26 characters of A-Z and 2-7. */
static int
secret_valid(const char *s)
{
	return strlen(s) == PAYLOAD_SECRET_LEN &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == PAYLOAD_SECRET_LEN;
}

static void
imaged(void *arg, const struct core_status *st, struct core_xfer *x,
    const struct core_xfer_reply *r)
{
	struct req *rq = arg;
	cJSON *o;

	if (attempt_failed(st))
		ratelimit_fail(rq);
	if (st->err != CE_OK) {
		reply_refused(rq, st, x);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "role", r->role);
	if (r->match[0] != '\0')
		cJSON_AddStringToObject(o, "match", r->match);
	if (r->claim != NULL)
		cJSON_AddStringToObject(o, "claim", r->claim);
	/* The device this scan would hand the session to, for the scanner to see. */
	if (x->t.claimant[0] != '\0')
		cJSON_AddStringToObject(o, "to", x->t.claimant);
	reply_transfer(rq, 200, x, o);
}

/* An upload while its image decodes (decode.c): what the call needs after. */
struct upload {
	struct req	*rq;
	struct core_actor a;
	enum decode_result result;
};

/* The core's answer to an uploaded image; no code is a failed attempt, said plainly. */
static void
upload_imaged(void *arg, const struct core_status *st, struct core_xfer *x,
    const struct core_xfer_reply *r)
{
	struct upload *u = arg;
	struct req *rq = u->rq;
	struct decode_stats ds;

	if (st->err == CE_TRANSFER && st->te == TE_NO_CODE) {
		ratelimit_fail(rq);
		decode_stats(rq->srv->decode, &ds);
		if (u->result == DR_LIMIT)
			http_error(rq, 400, "no_code",
			    "no code found within the decoding limit (%d s of CPU an image)", ds.cpu_s);
		else if (u->result == DR_DIED)
			http_error(rq, 400, "no_code", "the image's decoder failed: no code read");
		else
			http_error(rq, 400, "no_code", "no code found in the image");
	} else
		imaged(rq, st, x, r);
	free(u);
}

/* 503 with Retry-After: no decoder now (every worker busy, the queue full, or stopping). */
static void
upload_unavailable(struct req *rq, const char *why)
{
	struct decode_stats ds;
	char buf[16];

	decode_stats(rq->srv->decode, &ds);
	snprintf(buf, sizeof buf, "%d", ds.cpu_s);
	evhttp_add_header(evhttp_request_get_output_headers(rq->r), "Retry-After", buf);
	http_error(rq, 503, "unavailable", "%s: try again in %d s", why, ds.cpu_s);
}

/* The worker answered: the transfer engine takes the payload (or its absence) as a scan. */
static void
upload_decoded(void *arg, const struct decode_out *o)
{
	struct upload *u = arg;
	struct req *rq = u->rq;
	struct core_xfer *x;

	u->result = o->result;
	if (o->result == DR_UNAVAILABLE || o->result == DR_BAD_IMAGE) {
		if (o->result == DR_UNAVAILABLE)
			upload_unavailable(rq, o->text);
		else
			http_error(rq, 400, "bad_image", "%s", o->text);
		free(u);
		return;
	}
	if ((x = path_xfer(rq)) == NULL) {
		free(u);
		return;
	}
	core_xfer_image(rq->core, x, &u->a, o->result == DR_CODE ? o->text : NULL,
	    upload_imaged, u);
}

/* The image goes to a decoder; the request is answered when its worker is done. */
static void
image_upload(struct req *rq, const struct core_actor *a, const char *b64)
{
	struct upload *u;
	unsigned char *png;
	size_t len;

	if ((png = image_png(rq, b64, &len)) == NULL)
		return;
	u = xcalloc(1, sizeof *u);
	u->rq = rq;
	u->a = *a;
	if (decode_submit(rq->srv->decode, png, len, upload_decoded, u) != 0) {
		free(u);
		upload_unavailable(rq, "every image decoder is busy and the queue is full");
	}
}

void
api_transfer_image(struct req *rq)
{
	const char *device, *payload, *image, *claim;
	struct core_actor a = { rq->ch, rq->claim, NULL, NULL };
	struct core_xfer *x;

	if ((x = guessed_xfer(rq)) == NULL || name_field(rq, "device", &device) != 0 ||
	    body_str(rq, "payload", &payload) != 0 || body_str(rq, "image", &image) != 0 ||
	    body_str(rq, "claim", &claim) != 0)
		return;
	if (device == NULL || (payload == NULL) == (image == NULL)) {
		http_error(rq, 400, "bad_field",
		    "image data is {\"device\":..., \"payload\":...} or {\"device\":..., \"image\":BASE64-PNG}");
		return;
	}
	if ((rq->ch != NULL && strcmp(device, rq->ch->device) != 0) ||
	    (rq->claim != NULL && strcmp(device, x->t.claimant) != 0)) {
		http_error(rq, 403, "forbidden", "this secret speaks for %s only",
		    rq->ch != NULL ? rq->ch->device : x->t.claimant);
		return;
	}
	if (rq->ch == NULL && rq->claim == NULL) {
		a.device = device;
		if ((a.chosen_claim = claim) != NULL &&
		    !secret_valid(a.chosen_claim)) {
			http_error(rq, 400, "bad_field", "claim is 26 base32 characters");
			return;
		}
	}
	if (image != NULL)
		image_upload(rq, &a, image);
	else
		core_xfer_image(rq->core, x, &a, payload, imaged, rq);
}

static void
confirmed(void *arg, const struct core_status *st, struct core_xfer *x,
    const struct core_xfer_reply *r)
{
	struct req *rq = arg;

	if (attempt_failed(st))
		ratelimit_fail(rq);
	answered(arg, st, x, r);
}

void
api_transfer_confirm(struct req *rq)
{
	const char *match, *check;
	struct core_xfer *x;

	if ((x = guessed_xfer(rq)) == NULL ||
	    body_str(rq, "match", &match) != 0 ||
	    body_str(rq, "check", &check) != 0)
		return;
	core_xfer_confirm(rq->core, x, rq->ch, match, check, confirmed, rq);
}

void
api_transfer_reject(struct req *rq)
{
	struct core_actor a = { rq->ch, rq->claim, NULL, NULL };
	struct core_xfer *x;

	if ((x = path_xfer(rq)) != NULL)
		core_xfer_reject(rq->core, x, &a, answered, rq);
}

void
api_transfer_token(struct req *rq)
{
	struct core_xfer *x = rq->claim;
	struct core_channel *ch;
	struct core_status st;
	char *token = NULL;
	cJSON *o;

	if (core_xfer_token(rq->core, x, rq->bearer, &token, &ch, &st) != 0) {
		if (x->t.state == TS_FAILED)
			http_error(rq, 410, strcmp(x->t.reason, "expired") == 0 ? "expired" : "gone",
			    "transfer %s failed: %s", x->t.id, x->t.reason);
		else
			http_status(rq, &st, x->t.id);
		return;
	}
	/* Repeatable until the new channel is first used: a lost reply strands nobody. */
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "token", token);
	cJSON_AddStringToObject(o, "session", x->t.session);
	cJSON_AddStringToObject(o, "channel", ch->id);
	cJSON_AddStringToObject(o, "device", ch->device);
	explicit_bzero(token, strlen(token));
	free(token);
	http_reply(rq, 200, o);
}

/*
 * The code a displayer shows now (design.md 7.1): the route let only the
 * push's origin or the pull's claim through (anyone else got a 404).
 */
void
api_transfer_code(struct req *rq)
{
	struct core_xfer *x = core_xfer_find(rq->core, rq->param);
	struct core_status st;
	char *payload = NULL;
	cJSON *o;

	if (core_xfer_code(rq->core, x, &payload, &st) != 0) {
		reply_refused(rq, &st, x);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", x->t.id);
	cJSON_AddStringToObject(o, "payload", payload);
	if (x->t.rotate_ms > 0 && x->t.rotates_at < x->t.expires_at)
		core_time_json(o, "rotates_at", x->t.rotates_at);
	else
		cJSON_AddNullToObject(o, "rotates_at");
	core_time_json(o, "expires_at", x->t.expires_at);
	cJSON_AddNumberToObject(o, "rotate", (double)(x->t.rotate_ms / 1000));
	explicit_bzero(payload, strlen(payload));
	free(payload);
	http_reply(rq, 200, o);
}
