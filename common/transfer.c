/*
 * The transfer state machine (design.md 3.1, 4): pure logic, no I/O.
 *
 * issued -> scanned -> verified -> committing -> completed, or failed with a
 * reason. The server resolves the caller into a transfer_actor, calls in here,
 * persists the record and performs the switch when a result says commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "hash.h"
#include "json.h"
#include "opt.h"
#include "rand.h"
#include "seal.h"
#include "transfer.h"
#include "xmalloc.h"

/* The key of the match codes' keyed hash (the server keeps it in its store). */
static unsigned char match_key[32];
/* The server's public key: a signed code must carry its good signature. */
static unsigned char sign_pk[PAYLOAD_PK_BYTES];
static int have_sign_pk;

void
transfer_set_sign_key(const unsigned char pk[PAYLOAD_PK_BYTES])
{
	memcpy(sign_pk, pk, sizeof sign_pk);
	have_sign_pk = 1;
}

void
transfer_set_match_key(const unsigned char key[32])
{
	memcpy(match_key, key, sizeof match_key);
}

/* The secretbox key of a token sealed with a claim secret (128 random bits: no stretching needed). */
static void
transfer_seal_key(const char *claim, unsigned char key[crypto_secretbox_KEYBYTES])
{
	static const char ctx[] = "rtcs-token-seal";

	crypto_generichash(key, crypto_secretbox_KEYBYTES, (const unsigned char *)claim,
	    strlen(claim), (const unsigned char *)ctx, sizeof ctx - 1);
}

/*
 * The key pair a claim secret derives (seal.h): its public half is in the
 * record, so that the server that makes the switch needs no secret to seal
 * the new channel's token; only the claim's holder opens it.
 */
#define CLAIM_SEAL_CTX	"rtcs-token-box"

static void
transfer_claim_pub(const char *claim, char hex[65])
{
	seal_pub(claim, CLAIM_SEAL_CTX, hex);
}

/* The key of the pull check code, kept sealed in the record under the server's own key. */
static void
transfer_check_key(unsigned char key[crypto_secretbox_KEYBYTES])
{
	static const char ctx[] = "rtcs-check-seal";

	crypto_generichash(key, crypto_secretbox_KEYBYTES, match_key, sizeof match_key,
	    (const unsigned char *)ctx, sizeof ctx - 1);
}

/* hex(nonce || secretbox(text)): authenticated, so a changed box never opens. */
static char *
seal_with(const unsigned char key[crypto_secretbox_KEYBYTES], const char *text)
{
	unsigned char *buf;
	size_t len = strlen(text), n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	char *box;

	buf = xmalloc(n);
	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, (const unsigned char *)text, len,
	    buf, key);
	box = xmalloc(2 * n + 1);
	hash_hex_bytes(buf, n, box);
	free(buf);
	return box;
}

static char *
open_with(const unsigned char key[crypto_secretbox_KEYBYTES], const char *box)
{
	unsigned char *buf;
	size_t n = strlen(box) / 2, len;
	char *text;

	if (n <= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES ||
	    n > crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + TRANSFER_TOKEN_MAX)
		return NULL;
	buf = xmalloc(n);
	if (hash_unhex(box, buf, n) != 0) {
		free(buf);
		return NULL;
	}
	len = n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	text = xmalloc(len + 1);
	if (crypto_secretbox_open_easy((unsigned char *)text, buf + crypto_secretbox_NONCEBYTES,
	    n - crypto_secretbox_NONCEBYTES, buf, key) != 0) {
		free(text);
		text = NULL;
	} else
		text[len] = '\0';
	free(buf);
	return text;
}

static const char *const state_names[] = {
	"issued", "scanned", "verified", "committing", "completed", "failed", NULL
};
static const char *const proof_names[] = { "both", "scanner", NULL };
static const char *const confirm_names[] = { "none", "origin", "peers", "all", NULL };

static void
copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}
#define COPY(dst, src) copy_field((dst), sizeof(dst), (src))

static int
name_index(const char *const *names, const char *s)
{
	int i;

	for (i = 0; s != NULL && names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

const char *
transfer_state_name(enum transfer_state s)
{
	return state_names[s];
}

const char *
transfer_proof_name(enum transfer_proof p)
{
	return proof_names[p];
}

const char *
transfer_confirm_name(enum transfer_confirm c)
{
	return confirm_names[c];
}

int
transfer_parse_proof(const char *s, enum transfer_proof *p)
{
	int i = name_index(proof_names, s);

	if (i < 0)
		return -1;
	*p = (enum transfer_proof)i;
	return 0;
}

int
transfer_parse_confirm(const char *s, enum transfer_confirm *c)
{
	int i = name_index(confirm_names, s);

	if (i < 0)
		return -1;
	*c = (enum transfer_confirm)i;
	return 0;
}

int
transfer_parse_rotate(const char *s, long long *secs, char **cause)
{
	if (opt_number(s, 0, 86400, secs, cause) != 0)
		return -1;
	if (*secs > 0 && *secs < TRANSFER_ROTATE_MIN_S) {
		*cause = xprintf("%lld is under %d seconds (0 turns rotation off)", *secs,
		    TRANSFER_ROTATE_MIN_S);
		return -1;
	}
	return 0;
}

const char *
transfer_err_code(enum transfer_err e)
{
	switch (e) {
	case TE_OK:			return "ok";
	case TE_ENDED:			return "transfer_ended";
	case TE_EXPIRED:		return "expired";
	case TE_ALREADY_CLAIMED:	return "already_claimed";
	case TE_CODE_MISMATCH:		return "code_mismatch";
	case TE_WRONG_DEVICE:		return "wrong_device";
	case TE_MATCH_MISMATCH:		return "match_mismatch";
	case TE_FORBIDDEN:		return "forbidden";
	case TE_BAD_STATE:		return "bad_state";
	case TE_BURNT:			return "too_many_attempts";
	case TE_CONFLICT:		return "conflict";
	case TE_CHECK_MISMATCH:		return "check_mismatch";
	case TE_NO_CODE:		return "no_code";
	case TE_CODE_ROTATED:		return "code_rotated";
	}
	return "internal";
}

int
transfer_err_status(enum transfer_err e)
{
	switch (e) {
	case TE_OK:			return 200;
	case TE_ENDED:			return 409;
	case TE_EXPIRED:		return 410;
	case TE_ALREADY_CLAIMED:	return 409;
	case TE_CODE_MISMATCH:		return 403;
	case TE_WRONG_DEVICE:		return 403;
	case TE_MATCH_MISMATCH:		return 403;
	case TE_FORBIDDEN:		return 403;
	case TE_BAD_STATE:		return 409;
	case TE_BURNT:			return 410;
	case TE_CONFLICT:		return 409;
	case TE_CHECK_MISMATCH:		return 403;
	case TE_NO_CODE:		return 400;
	case TE_CODE_ROTATED:		return 410;
	}
	return 500;
}

static struct transfer *
transfer_alloc(enum transfer_proof proof, enum transfer_confirm confirm, long long now,
    long long ttl_ms, char **secret)
{
	struct transfer *t = xcalloc(1, sizeof *t);
	char *id = rand_id('T'), *h;

	COPY(t->id, id);
	free(id);
	t->proof = proof;
	t->confirm = confirm;
	t->state = TS_ISSUED;
	t->attempts_left = TRANSFER_ATTEMPTS;
	t->created_at = now;
	t->expires_at = now + ttl_ms;
	*secret = payload_new_secret();
	h = hash_secret(*secret);
	COPY(t->secret_hash, h);
	free(h);
	return t;
}

/* A claim secret: the one the claimant chose (kept before it asked), else a new one. */
static char *
transfer_new_claim(struct transfer *t, const char *chosen)
{
	char *claim = chosen != NULL ? xstrdup(chosen) : payload_new_secret();
	char *h = hash_secret(claim);

	COPY(t->claim_hash, h);
	free(h);
	transfer_claim_pub(claim, t->claim_pub);
	return claim;
}

struct transfer *
transfer_new_push(const struct transfer_actor *origin, const char *target,
    enum transfer_proof proof, enum transfer_confirm confirm, long long now,
    long long ttl_ms, char **secret)
{
	struct transfer *t = transfer_alloc(proof, confirm, now, ttl_ms, secret);

	t->dir = TD_PUSH;
	COPY(t->session, origin->session);
	COPY(t->participant, origin->participant);
	COPY(t->origin_device, origin->device);
	COPY(t->origin_channel, origin->channel);
	COPY(t->target, target);
	return t;
}

struct transfer *
transfer_new_pull(const char *device, const char *session, enum transfer_proof proof,
    enum transfer_confirm confirm, long long now, long long ttl_ms, char **secret, char **claim)
{
	struct transfer *t;

	/* A pull never waives the origin's confirmation: none is origin, peers is all. */
	if (confirm == TC_NONE)
		confirm = TC_ORIGIN;
	else if (confirm == TC_PEERS)
		confirm = TC_ALL;
	t = transfer_alloc(proof, confirm, now, ttl_ms, secret);
	t->dir = TD_PULL;
	COPY(t->session, session);
	COPY(t->target, device);
	COPY(t->claimant, device);
	*claim = transfer_new_claim(t, NULL);
	return t;
}

char *
transfer_payload(const struct transfer *t, const char *secret)
{
	struct payload p;

	memset(&p, 0, sizeof p);
	p.kind = PAYLOAD_TRANSFER;
	COPY(p.id, t->id);
	COPY(p.secret, secret);
	return payload_format(&p);
}

void
transfer_set_rotation(struct transfer *t, long long period_ms, long long now)
{
	t->rotate_ms = period_ms > 0 ? period_ms : 0;
	t->rotates_at = period_ms > 0 ? now + period_ms : 0;
}

int
transfer_rotation_due(const struct transfer *t, long long now)
{
	return t->state == TS_ISSUED && t->rotate_ms > 0 && t->rotates_at > 0 &&
	    now >= t->rotates_at && now < t->expires_at;
}

int
transfer_rotate(struct transfer *t, long long now, char **secret)
{
	char *h;

	if (t->state != TS_ISSUED || t->rotate_ms <= 0)
		return -1;
	memmove(t->past_hash[1], t->past_hash[0],
	    (TRANSFER_PAST_SECRETS - 1) * sizeof t->past_hash[0]);
	COPY(t->past_hash[0], t->secret_hash);
	if (t->npast < TRANSFER_PAST_SECRETS)
		t->npast++;
	*secret = payload_new_secret();
	h = hash_secret(*secret);
	COPY(t->secret_hash, h);
	free(h);
	t->rotated_at = now;
	t->rotates_at = now + t->rotate_ms;
	return 0;
}

int
transfer_terminal(const struct transfer *t)
{
	return t->state == TS_COMPLETED || t->state == TS_FAILED;
}

void
transfer_fail(struct transfer *t, const char *reason, long long now)
{
	if (transfer_terminal(t))
		return;
	t->state = TS_FAILED;
	COPY(t->reason, reason);
	t->failed_at = now;
}

/* A code's lifetime ends its usefulness before commit, never during. */
int
transfer_expire(struct transfer *t, long long now)
{
	if (t->state >= TS_COMMITTING || now < t->expires_at)
		return 0;
	transfer_fail(t, "expired", now);
	return 1;
}

/* Common entry check: terminal, expired or committing transfers take no calls. */
static enum transfer_err
transfer_open(struct transfer *t, long long now, struct transfer_result *r)
{
	if (transfer_expire(t, now)) {
		if (r != NULL)
			r->state_changed = 1;
		return TE_EXPIRED;
	}
	if (t->state == TS_FAILED)
		return strcmp(t->reason, "expired") == 0 ? TE_EXPIRED : TE_ENDED;
	if (t->state >= TS_COMMITTING)
		return TE_ENDED;
	return TE_OK;
}

/* A failed attempt: burns the code when none are left. */
static enum transfer_err
transfer_attempt_failed(struct transfer *t, enum transfer_err e, long long now,
    struct transfer_result *r)
{
	if (--t->attempts_left <= 0) {
		t->attempts_left = 0;
		transfer_fail(t, "too_many_attempts", now);
		r->state_changed = 1;
		return TE_BURNT;
	}
	return e;
}

enum secret_check { SECRET_NEVER, SECRET_VALID, SECRET_ROTATED };

/*
 * Whether decoded carries a secret of t valid now: the current one, or the
 * previous one within its grace. A past one (of the last
 * TRANSFER_PAST_SECRETS) was valid once: rotated, not a guess. *canon gets
 * what identifies the code: its transfer, whichever valid secret it carries.
 */
static enum secret_check
transfer_secret_ok(const struct transfer *t, const char *decoded, long long now, char **canon)
{
	struct payload p;
	char *cause = NULL;
	int i;

	if (payload_parse(decoded, &p, &cause) != 0) {
		free(cause);
		return SECRET_NEVER;
	}
	if (p.kind != PAYLOAD_TRANSFER || strcmp(p.id, t->id) != 0)
		return SECRET_NEVER;
	/* What a code says it does is the server's word: altered, the code is a wrong one. */
	if (p.signed_ && (!have_sign_pk || !payload_verify(decoded, &p, sign_pk)))
		return SECRET_NEVER;
	if (!hash_secret_matches(p.secret, t->secret_hash) &&
	    !(t->npast > 0 && now < t->rotated_at + TRANSFER_ROTATE_GRACE_MS &&
	    hash_secret_matches(p.secret, t->past_hash[0]))) {
		for (i = 0; i < t->npast; i++)
			if (hash_secret_matches(p.secret, t->past_hash[i]))
				return SECRET_ROTATED;
		return SECRET_NEVER;
	}
	*canon = xprintf("RTCS:T:%s", p.id);
	return SECRET_VALID;
}

static void
transfer_require(struct transfer *t, const char *channel, const char *device)
{
	int i;

	for (i = 0; i < t->nrequired; i++)
		if (strcmp(t->required[i], channel) == 0)
			return;
	if (t->nrequired < TRANSFER_MAX_CONFIRM) {
		COPY(t->required_device[t->nrequired], device);
		COPY(t->required[t->nrequired++], channel);
	}
}

/* Once the proof policy is met: verified, and who must confirm. */
static void
transfer_verify_if_proven(struct transfer *t, const struct transfer_ctx *ctx, long long now,
    struct transfer_result *r)
{
	size_t i;

	if (t->state != TS_SCANNED || !t->proof_scanner ||
	    (t->proof == TP_BOTH && !t->proof_displayer))
		return;
	t->state = TS_VERIFIED;
	t->verified_at = now;
	r->state_changed = 1;
	t->nrequired = 0;
	/* A pull always waits for its origin, with the check code: no policy removes it. */
	if (t->confirm == TC_ORIGIN || t->confirm == TC_ALL || t->dir == TD_PULL)
		transfer_require(t, t->origin_channel, t->origin_device);
	if (t->confirm == TC_PEERS || t->confirm == TC_ALL)
		for (i = 0; i < ctx->npeers; i++)
			transfer_require(t, ctx->peer_channels[i], ctx->peer_devices[i]);
	if (t->nrequired == 0)
		r->commit = 1;
}

/*
 * Both images must decode to the issued code, and so to each other: the same
 * transfer with a valid secret (after a rotation the displayer's and the
 * scanner's images may carry different ones), not the same raw text.
 */
static int
transfer_same_image(struct transfer *t, const char *canon)
{
	char h[HASH_HEX_LEN + 1];

	hash_hex(canon, strlen(canon), h);
	if (t->image_hash[0] == '\0') {
		COPY(t->image_hash, h);
		return 1;
	}
	return ct_equal(h, t->image_hash, HASH_HEX_LEN);
}

static void
transfer_scanned(struct transfer *t, long long now, struct transfer_result *r)
{
	t->state = TS_SCANNED;
	t->scanned_at = now;
	t->proof_scanner = 1;
	r->state_changed = 1;
}

/* Push: the origin shows the code, an unknown device scans it. */
static enum transfer_err
transfer_image_push(struct transfer *t, const struct transfer_actor *a,
    const struct transfer_ctx *ctx, long long now, struct transfer_result *r)
{
	char h[HASH_HEX_LEN + 1];

	if (a->kind == TA_CHANNEL) {
		if (strcmp(a->channel, t->origin_channel) != 0)
			return TE_FORBIDDEN;
		COPY(r->role, "displayer");
		t->proof_displayer = 1;
		return TE_OK;
	}
	COPY(r->role, "claimant");
	if (t->claimant[0] != '\0') {
		if (a->kind == TA_CLAIMANT && strcmp(a->device, t->claimant) == 0)
			return TE_OK;
		r->alert = 1;
		return TE_ALREADY_CLAIMED;
	}
	if (a->kind != TA_ANON)
		return TE_FORBIDDEN;
	if (ctx->claimant_in_session)
		return TE_CONFLICT;
	if (t->target[0] != '\0' && strcmp(t->target, a->device) != 0) {
		r->alert = 1;
		return transfer_attempt_failed(t, TE_WRONG_DEVICE, now, r);
	}
	COPY(t->claimant, a->device);
	r->claim = transfer_new_claim(t, a->claim);
	snprintf(r->match, sizeof r->match, "%06u", (unsigned)rand_uniform(1000000));
	hash_keyed_hex(match_key, r->match, strlen(r->match), h);
	COPY(t->match_hash, h);
	transfer_scanned(t, now, r);
	return TE_OK;
}

/* Pull: the new device shows the code, the origin's scan binds it. */
static enum transfer_err
transfer_image_pull(struct transfer *t, const struct transfer_actor *a,
    const struct transfer_ctx *ctx, long long now, struct transfer_result *r)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	char h[HASH_HEX_LEN + 1], *box;

	if (a->kind == TA_CLAIMANT) {
		COPY(r->role, "displayer");
		t->proof_displayer = 1;
		return TE_OK;
	}
	if (a->kind != TA_CHANNEL)
		return TE_FORBIDDEN;
	COPY(r->role, "origin");
	if (t->origin_channel[0] != '\0') {
		if (strcmp(a->channel, t->origin_channel) == 0)
			return TE_OK;
		r->alert = 1;
		return TE_ALREADY_CLAIMED;
	}
	if (t->session[0] != '\0' && strcmp(t->session, a->session) != 0)
		return transfer_attempt_failed(t, TE_WRONG_DEVICE, now, r);
	if (ctx->claimant_in_session)
		return TE_CONFLICT;
	COPY(t->session, a->session);
	COPY(t->participant, a->participant);
	COPY(t->origin_device, a->device);
	COPY(t->origin_channel, a->channel);
	snprintf(r->check, sizeof r->check, "%02u", (unsigned)rand_uniform(100));
	hash_keyed_hex(match_key, r->check, strlen(r->check), h);
	COPY(t->check_hash, h);
	transfer_check_key(key);
	box = seal_with(key, r->check);
	sodium_memzero(key, sizeof key);
	COPY(t->check_box, box);
	free(box);
	transfer_scanned(t, now, r);
	return TE_OK;
}

enum transfer_err
transfer_image(struct transfer *t, const struct transfer_actor *a,
    const struct transfer_ctx *ctx, const char *decoded, long long now,
    struct transfer_result *r)
{
	enum transfer_err e;
	char *canon = NULL;

	memset(r, 0, sizeof *r);
	if ((e = transfer_open(t, now, r)) != TE_OK)
		return e;
	if (t->state >= TS_VERIFIED && !(a->kind == TA_CLAIMANT && strcmp(a->device, t->claimant) == 0)) {
		/* A second scanner: the unknown device of a push, another channel of a pull. */
		r->alert = a->kind == TA_ANON || (t->dir == TD_PULL && a->kind == TA_CHANNEL &&
		    strcmp(a->channel, t->origin_channel) != 0);
		return r->alert ? TE_ALREADY_CLAIMED : TE_BAD_STATE;
	}
	if (decoded == NULL)
		return transfer_attempt_failed(t, TE_NO_CODE, now, r);
	switch (transfer_secret_ok(t, decoded, now, &canon)) {
	case SECRET_NEVER:
		return transfer_attempt_failed(t, TE_CODE_MISMATCH, now, r);
	case SECRET_ROTATED:
		return TE_CODE_ROTATED;	/* it was valid once: not a guess */
	case SECRET_VALID:
		break;
	}
	if (!transfer_same_image(t, canon)) {
		free(canon);
		return transfer_attempt_failed(t, TE_CODE_MISMATCH, now, r);
	}
	free(canon);
	e = t->dir == TD_PUSH ? transfer_image_push(t, a, ctx, now, r)
	    : transfer_image_pull(t, a, ctx, now, r);
	if (e == TE_OK)
		transfer_verify_if_proven(t, ctx, now, r);
	return e;
}

static int
transfer_required_index(const struct transfer *t, const char *channel)
{
	int i;

	for (i = 0; i < t->nrequired; i++)
		if (strcmp(t->required[i], channel) == 0)
			return i;
	return -1;
}

/* Whether a code typed by the origin is the one kept (as a keyed hash), in constant time. */
static int
transfer_code_ok(const char *typed, size_t len, const char *stored)
{
	char h[HASH_HEX_LEN + 1];

	if (typed == NULL || strlen(typed) != len || strspn(typed, "0123456789") != len)
		return 0;
	hash_keyed_hex(match_key, typed, len, h);
	return ct_equal(h, stored, HASH_HEX_LEN);
}

enum transfer_err
transfer_confirm(struct transfer *t, const struct transfer_actor *a, const char *match,
    const char *check, long long now, struct transfer_result *r)
{
	enum transfer_err e;
	int i, all = 1;

	memset(r, 0, sizeof *r);
	if ((e = transfer_open(t, now, r)) != TE_OK)
		return e;
	if (a->kind != TA_CHANNEL || strcmp(a->session, t->session) != 0 ||
	    (i = transfer_required_index(t, a->channel)) < 0)
		return t->state == TS_VERIFIED ? TE_FORBIDDEN : TE_BAD_STATE;
	if (t->state != TS_VERIFIED)
		return TE_BAD_STATE;
	if (t->dir == TD_PUSH && strcmp(a->channel, t->origin_channel) == 0 &&
	    !transfer_code_ok(match, TRANSFER_MATCH_LEN, t->match_hash))
		return transfer_attempt_failed(t, TE_MATCH_MISMATCH, now, r);
	if (t->dir == TD_PULL && strcmp(a->channel, t->origin_channel) == 0 &&
	    !transfer_code_ok(check, TRANSFER_CHECK_LEN, t->check_hash))
		return transfer_attempt_failed(t, TE_CHECK_MISMATCH, now, r);
	t->received[i] = 1;
	for (i = 0; i < t->nrequired; i++)
		all &= t->received[i];
	r->commit = all;
	return TE_OK;
}

enum transfer_err
transfer_reject(struct transfer *t, const struct transfer_actor *a, long long now)
{
	enum transfer_err e;

	if ((e = transfer_open(t, now, NULL)) != TE_OK)
		return e;
	if (a->kind == TA_CLAIMANT && strcmp(a->device, t->claimant) == 0)
		transfer_fail(t, "cancelled", now);
	else if (a->kind == TA_CHANNEL && strcmp(a->channel, t->origin_channel) == 0)
		transfer_fail(t, "rejected_by_origin", now);
	else if (a->kind == TA_CHANNEL && strcmp(a->session, t->session) == 0)
		transfer_fail(t, "rejected_by_peer", now);
	else
		return TE_FORBIDDEN;
	return TE_OK;
}

enum transfer_err
transfer_cancel(struct transfer *t, long long now)
{
	enum transfer_err e;

	if ((e = transfer_open(t, now, NULL)) != TE_OK)
		return e;
	transfer_fail(t, "cancelled", now);
	return TE_OK;
}

int
transfer_is_claim(const struct transfer *t, const char *claim_secret)
{
	return t->claim_hash[0] != '\0' && hash_secret_matches(claim_secret, t->claim_hash);
}

int
transfer_involves(const struct transfer *t, const char *channel)
{
	return strcmp(t->origin_channel, channel) == 0 || strcmp(t->new_channel, channel) == 0 ||
	    transfer_required_index(t, channel) >= 0;
}

void
transfer_begin_commit(struct transfer *t, long long now)
{
	t->state = TS_COMMITTING;
	t->committing_at = now;
}

void
transfer_finish(struct transfer *t, const char *new_channel, long long now)
{
	COPY(t->new_channel, new_channel);
	t->state = TS_COMPLETED;
	t->completed_at = now;
}

/* A sealed box's text: "p" and hex(crypto_box_seal(token)) to the claim's public key. */
#define SEALED_MARK	'p'

char *
transfer_seal_to(const char *claim_pub, const char *token)
{
	char *box, *hex;

	if (strlen(token) > TRANSFER_TOKEN_MAX || (hex = seal_to(claim_pub, token)) == NULL)
		return NULL;
	box = xprintf("%c%s", SEALED_MARK, hex);
	free(hex);
	return box;
}

char *
transfer_seal(const char *claim_secret, const char *token)
{
	char pub[65];

	transfer_claim_pub(claim_secret, pub);
	return transfer_seal_to(pub, token);
}

char *
transfer_unseal(const char *claim_secret, const char *box)
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	char *token;

	if (box[0] == SEALED_MARK)
		return seal_open(claim_secret, CLAIM_SEAL_CTX, box + 1);
	/* A box from before sealed boxes: the secret box the claim's key closed. */
	transfer_seal_key(claim_secret, key);
	token = open_with(key, box);
	sodium_memzero(key, sizeof key);
	return token;
}

int
transfer_check_code(const struct transfer *t, char code[TRANSFER_CHECK_LEN + 1])
{
	unsigned char key[crypto_secretbox_KEYBYTES];
	char *c;
	int ok;

	if (t->check_box[0] == '\0')
		return -1;
	transfer_check_key(key);
	c = open_with(key, t->check_box);
	sodium_memzero(key, sizeof key);
	ok = c != NULL && strlen(c) == TRANSFER_CHECK_LEN;
	if (ok)
		memcpy(code, c, TRANSFER_CHECK_LEN + 1);
	free(c);
	return ok ? 0 : -1;
}

void
transfer_free(struct transfer *t)
{
	free(t);
}
