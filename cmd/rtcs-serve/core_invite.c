/*
 * Invite codes (design.md 4.5): a printed code for a named device; scanning
 * it starts a session between the scanner and that device. The target is
 * not there when the code is scanned: its channel keeps its token sealed to
 * the invite owner's key (libsodium's crypto_box_seal; the store keeps only
 * the public key, never the owner secret), in the
 * session's own document, so the session and its collectable token are one
 * write; the owner collects it until the channel is first used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "core_int.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "payload.h"
#include "rand.h"
#include "seal.h"
#include "xmalloc.h"

/* The token sealed to the owner's key pair, derived from its secret (128 random bits). */
#define OWNER_SEAL_CTX	"rtcs-invite-key"

static char *
invite_seal(const struct core_invite *inv, const char *token)
{
	return seal_to(inv->owner_pub, token);
}

static char *
invite_unseal(const char *owner, const char *sealed)
{
	return seal_open(owner, OWNER_SEAL_CTX, sealed);
}

struct core_invite *
core_invite_find(struct core *c, const char *id)
{
	return id != NULL ? strmap_get(c->invites, id) : NULL;
}

struct core_invite *
core_invite_by_owner(struct core *c, const char *secret)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex(secret, strlen(secret), hex);
	return strmap_get(c->owners, hex);
}

/* The channels an invite opened for its target, scanning every session's. */
static size_t
invite_channels(struct core *c, const struct core_invite *inv, struct core_channel **out,
    size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < c->nsessions; i++)
		for (j = 0; j < c->slist[i]->nchannels; j++) {
			struct core_channel *ch = c->slist[i]->channels[j];
			if (ch->opened_by != NULL && strcmp(ch->opened_by, inv->id) == 0) {
				if (out != NULL && n < max)
					out[n] = ch;
				n++;
			}
		}
	return n;
}

cJSON *
core_invite_json(const struct core_invite *inv, int with_secrets)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", inv->id);
	cJSON_AddStringToObject(o, "to", inv->to);
	cJSON_AddStringToObject(o, "name", inv->name);
	cJSON_AddStringToObject(o, "kind", inv->kind);
	core_time_json(o, "created_at", inv->created_ms);
	core_time_json(o, "expires_at", inv->expires_ms);
	core_time_json(o, "revoked_at", inv->revoked_ms);
	if (inv->max_uses > 0)
		cJSON_AddNumberToObject(o, "max_uses", (double)inv->max_uses);
	else
		cJSON_AddNullToObject(o, "max_uses");
	if (!with_secrets) {
		cJSON_AddNumberToObject(o, "uses", (double)inv->nuses);
		cJSON_AddStringToObject(o, "state", core_invite_state(inv));
	}
	if (with_secrets) {
		cJSON_AddStringToObject(o, "secret_hash", inv->secret_hash);
		cJSON_AddStringToObject(o, "owner_hash", inv->owner_hash);
		cJSON_AddStringToObject(o, "owner_pub", inv->owner_pub);
	}
	return o;
}

const char *
core_invite_state(const struct core_invite *inv)
{
	if (inv->revoked_ms >= 0)
		return "revoked";
	if (inv->expires_ms >= 0 && core_now_ms() >= inv->expires_ms)
		return "expired";
	if (inv->nuses >= CORE_INVITE_MAX_USES ||
	    (inv->max_uses > 0 && inv->nuses >= inv->max_uses))
		return "used_up";
	return "active";
}

/* 0 if a scan may start a session now, else -1 with CE_GONE and the reason as msg. */
static int
invite_usable(const struct core_invite *inv, struct core_status *st)
{
	const char *why = core_invite_state(inv);

	if (strcmp(why, "active") == 0)
		return 0;
	status_set(st, CE_GONE, why);
	return -1;
}

static void
invite_index(struct core *c, struct core_invite *inv)
{
	if (c->ninvites == c->icap) {
		c->icap = c->icap ? c->icap * 2 : 16;
		c->ilist = xreallocarray(c->ilist, c->icap, sizeof *c->ilist);
	}
	c->ilist[c->ninvites++] = inv;
	strmap_put(c->invites, inv->id, inv);
	strmap_put(c->owners, inv->owner_hash, inv);
}

/* ---- create ---- */

struct invite_call {
	struct core	*core;
	struct core_invite *inv;
	char		*payload, *owner;
	core_invite_cb	 cb;
	void		*arg;
};

static void
invite_written(void *arg, enum store_err err, uint64_t rev, const char *cause)
{
	struct invite_call *ic = arg;
	struct core_status st;
	cJSON *x;

	if (err != STORE_OK) {
		status_set(&st, err == STORE_CONFLICT ? CE_CONFLICT : core_store_err(ic->core), cause);
		ic->cb(ic->arg, &st, NULL, NULL, NULL);
		free(ic->inv);
	} else {
		ic->inv->rev = rev;
		invite_index(ic->core, ic->inv);
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "invite", ic->inv->id);
		cJSON_AddStringToObject(x, "to", ic->inv->to);
		core_event(ic->core, "invite.created", NULL, x);
		status_set(&st, CE_OK, NULL);
		ic->cb(ic->arg, &st, ic->inv, ic->payload, ic->owner);
	}
	explicit_bzero(ic->owner, strlen(ic->owner));
	free(ic->owner);
	free(ic->payload);
	free(ic);
}

void
core_invite_create(struct core *c, const char *to, const char *name, const char *kind,
    long long ttl_ms, size_t max_uses, core_invite_cb cb, void *arg)
{
	struct invite_call *ic = xcalloc(1, sizeof *ic);
	struct core_invite *inv = xcalloc(1, sizeof *inv);
	struct payload p;
	char *secret, *h, *id, *json;
	cJSON *doc;

	id = rand_id('I');
	snprintf(inv->id, sizeof inv->id, "%s", id);
	free(id);
	snprintf(inv->to, sizeof inv->to, "%s", to);
	snprintf(inv->name, sizeof inv->name, "%s", name != NULL ? name : to);
	snprintf(inv->kind, sizeof inv->kind, "%s", kind != NULL ? kind : "chat");
	inv->created_ms = core_now_ms();
	inv->expires_ms = inv->created_ms + (ttl_ms > 0 ? ttl_ms : CORE_INVITE_TTL_MS);
	inv->revoked_ms = -1;
	inv->max_uses = max_uses;
	lane_init(&inv->lane);
	secret = payload_new_secret();
	ic->owner = payload_new_secret();
	h = hash_secret(secret);
	snprintf(inv->secret_hash, sizeof inv->secret_hash, "%s", h);
	free(h);
	h = hash_secret(ic->owner);
	snprintf(inv->owner_hash, sizeof inv->owner_hash, "%s", h);
	free(h);
	seal_pub(ic->owner, OWNER_SEAL_CTX, inv->owner_pub);
	memset(&p, 0, sizeof p);
	p.kind = PAYLOAD_INVITE;
	snprintf(p.id, sizeof p.id, "%s", inv->id);
	snprintf(p.secret, sizeof p.secret, "%s", secret);
	ic->payload = payload_format(&p);
	explicit_bzero(secret, strlen(secret));
	free(secret);
	ic->core = c;
	ic->inv = inv;
	ic->cb = cb;
	ic->arg = arg;
	doc = core_invite_json(inv, 1);
	json = json_print(doc);
	cJSON_Delete(doc);
	/* Indexed once durable: the callback below runs before store_put returns or after. */
	store_put(c->store, STORE_INVITE, inv->id, STORE_REV_CREATE, json, strlen(json), NULL,
	    invite_written, ic);
	free(json);
}

/* ---- scan: a session with the invite's device ---- */

/* Whether payload is this invite's code (the secret compared in constant time). */
static int
invite_code_ok(const struct core_invite *inv, const char *payload)
{
	struct payload p;
	char *cause = NULL;

	if (payload == NULL || payload_parse(payload, &p, &cause) != 0) {
		free(cause);
		return 0;
	}
	return p.kind == PAYLOAD_INVITE && strcmp(p.id, inv->id) == 0 &&
	    hash_secret_matches(p.secret, inv->secret_hash);
}

struct scan_call {
	struct session_change chg;
	struct core_invite *inv;
	core_created_cb	 cb;
	void		*arg;
};

static int
scan_prepare(struct session_change *chg, cJSON *entry, struct core_status *st)
{
	struct scan_call *sc = (struct scan_call *)chg;
	cJSON *plist, *p;
	size_t i;

	/* Checked again in its turn: a revoke or another scan may have come first. */
	if (invite_usable(sc->inv, st) != 0)
		return -1;
	cJSON_AddStringToObject(entry, "event", "session.created");
	cJSON_AddStringToObject(entry, "kind", chg->s->kind);
	cJSON_AddStringToObject(entry, "invite", sc->inv->id);
	plist = cJSON_AddArrayToObject(entry, "participants");
	for (i = 0; i < chg->nopen; i++) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", chg->open[i].participant);
		cJSON_AddStringToObject(p, "device", chg->open[i].device);
		cJSON_AddStringToObject(p, "channel", chg->open[i].id);
		cJSON_AddItemToArray(plist, p);
	}
	return 0;
}

static void
scan_done(struct session_change *chg, const struct core_status *st)
{
	struct scan_call *sc = (struct scan_call *)chg;
	char *tokens[2] = { chg->open[0].token, NULL };
	cJSON *x;

	if (st->err == CE_OK) {
		sc->inv->nuses++;
		core_event(chg->core, "session.created", chg->s, NULL);
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "invite", sc->inv->id);
		cJSON_AddStringToObject(x, "device", chg->open[0].device);
		core_event(chg->core, "invite.used", chg->s, x);
		sc->cb(sc->arg, st, chg->s, tokens);
	} else {
		sc->cb(sc->arg, st, NULL, tokens);
		session_free(chg->s);
	}
	session_change_free(chg);
	free(sc);
}

void
core_invite_scan(struct core *c, struct core_invite *inv, const char *payload,
    const char *device, const char *name, core_created_cb cb, void *arg)
{
	struct scan_call *sc;
	struct core_status st;

	if (!invite_code_ok(inv, payload)) {
		status_set(&st, CE_FORBIDDEN, "code_mismatch");
		cb(arg, &st, NULL, NULL);
		return;
	}
	/* After the code: only its holder learns that the invite is over. */
	if (invite_usable(inv, &st) != 0) {
		cb(arg, &st, NULL, NULL);
		return;
	}
	if (strcmp(device, inv->to) == 0 || strcmp(name, inv->name) == 0) {
		status_set(&st, CE_CONFLICT, "the scanner is the invite's own device or name");
		cb(arg, &st, NULL, NULL);
		return;
	}
	sc = xcalloc(1, sizeof *sc);
	sc->inv = inv;
	sc->cb = cb;
	sc->arg = arg;
	session_change_init(&sc->chg, c, session_alloc(c, NULL, inv->kind));
	sc->chg.create = 1;
	sc->chg.open = xcalloc(2, sizeof *sc->chg.open);
	sc->chg.nopen = 2;
	chan_new_fill(&sc->chg.open[0], name, device);
	chan_new_fill(&sc->chg.open[1], inv->name, inv->to);
	sc->chg.open[1].opened_by = inv->id;
	if ((sc->chg.open[1].token_box = invite_seal(inv, sc->chg.open[1].token)) == NULL)
		fatalx("cannot seal a token to invite %s's owner", inv->id);
	sc->chg.prepare = scan_prepare;
	sc->chg.done = scan_done;
	session_change_submit(&sc->chg);
}

/* ---- revoke: persisted, then applied; later scans get 410 ---- */

struct revoke_call {
	struct core_op	 op;
	struct core	*core;
	struct core_invite *inv;
	int64_t		 at;
	core_done_cb	 cb;
	void		*arg;
};

static void
revoke_written(void *arg, enum store_err err, uint64_t rev, const char *cause)
{
	struct revoke_call *rc = arg;
	struct core_invite *inv = rc->inv;
	struct core_status st;
	cJSON *x;

	if (err != STORE_OK)
		status_set(&st, err == STORE_CONFLICT ? CE_CONFLICT : core_store_err(rc->core), cause);
	else {
		inv->rev = rev;
		inv->revoked_ms = rc->at;
		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "invite", inv->id);
		cJSON_AddStringToObject(x, "to", inv->to);
		core_event(rc->core, "invite.revoked", NULL, x);
		log_info("invite %s revoked", inv->id);
		status_set(&st, CE_OK, NULL);
	}
	rc->cb(rc->arg, &st);
	free(rc);
	lane_done(&inv->lane);
}

static void
revoke_run(struct core_op *op)
{
	struct revoke_call *rc = (struct revoke_call *)op;
	struct core_invite next = *rc->inv;
	struct core_status st;
	cJSON *doc;
	char *json;

	if (rc->inv->revoked_ms >= 0) {
		status_set(&st, CE_GONE, "the invite is revoked already");
		rc->cb(rc->arg, &st);
		lane_done(&rc->inv->lane);
		free(rc);
		return;
	}
	/* The document as it will be: memory changes once it is durable. */
	rc->at = core_now_ms();
	next.revoked_ms = rc->at;
	doc = core_invite_json(&next, 1);
	json = json_print(doc);
	cJSON_Delete(doc);
	store_put(rc->core->store, STORE_INVITE, rc->inv->id, rc->inv->rev, json, strlen(json),
	    NULL, revoke_written, rc);
	free(json);
}

void
core_invite_revoke(struct core *c, struct core_invite *inv, core_done_cb cb, void *arg)
{
	struct revoke_call *rc = xcalloc(1, sizeof *rc);

	rc->op.run = revoke_run;
	rc->core = c;
	rc->inv = inv;
	rc->cb = cb;
	rc->arg = arg;
	lane_submit(&inv->lane, &rc->op);
}

/* The target's tokens, for the owner, as long as each channel has not been used. */
void
core_invite_sessions(struct core *c, struct core_invite *inv, const char *owner,
    core_json_cb cb, void *arg)
{
	struct core_channel *chs[CORE_INVITE_MAX_USES];
	struct core_status st;
	cJSON *a = cJSON_CreateArray(), *e;
	size_t i, n = invite_channels(c, inv, chs, CORE_INVITE_MAX_USES);
	char *token;

	for (i = 0; i < n && i < CORE_INVITE_MAX_USES; i++) {
		if (!chs[i]->open || chs[i]->token_box == NULL ||
		    (token = invite_unseal(owner, chs[i]->token_box)) == NULL)
			continue;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "session", chs[i]->session->id);
		cJSON_AddStringToObject(e, "device", chs[i]->device);
		cJSON_AddStringToObject(e, "channel", chs[i]->id);
		cJSON_AddStringToObject(e, "token", token);
		cJSON_AddItemToArray(a, e);
		explicit_bzero(token, strlen(token));
		free(token);
	}
	status_set(&st, CE_OK, NULL);
	cb(arg, &st, a);
}

/* ---- loading ---- */

static int
copy_str(const cJSON *o, const char *key, char *dst, size_t size)
{
	const char *v = json_str(o, key);

	if (v == NULL || strlen(v) >= size)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

int
invite_from_doc(struct core *c, const cJSON *doc, uint64_t rev, char **cause)
{
	struct core_invite *inv = xcalloc(1, sizeof *inv);
	const cJSON *mu;
	int bad = 0;

	bad |= copy_str(doc, "id", inv->id, sizeof inv->id);
	bad |= copy_str(doc, "to", inv->to, sizeof inv->to);
	bad |= copy_str(doc, "name", inv->name, sizeof inv->name);
	bad |= copy_str(doc, "kind", inv->kind, sizeof inv->kind);
	bad |= copy_str(doc, "secret_hash", inv->secret_hash, sizeof inv->secret_hash);
	bad |= copy_str(doc, "owner_hash", inv->owner_hash, sizeof inv->owner_hash);
	bad |= copy_str(doc, "owner_pub", inv->owner_pub, sizeof inv->owner_pub);
	inv->created_ms = json_str(doc, "created_at") ?
	    clock_parse_ms(json_str(doc, "created_at")) : -1;
	/* Invites written before expiries and revocation have neither. */
	inv->expires_ms = json_str(doc, "expires_at") ?
	    clock_parse_ms(json_str(doc, "expires_at")) : -1;
	inv->revoked_ms = json_str(doc, "revoked_at") ?
	    clock_parse_ms(json_str(doc, "revoked_at")) : -1;
	mu = cJSON_GetObjectItemCaseSensitive(doc, "max_uses");
	if (cJSON_IsNumber(mu) && mu->valuedouble >= 1 && mu->valuedouble <= CORE_INVITE_MAX_USES)
		inv->max_uses = (size_t)mu->valuedouble;
	else if (mu != NULL && !cJSON_IsNull(mu))
		bad = 1;
	if (bad || strmap_get(c->invites, inv->id) != NULL) {
		*cause = xprintf("malformed invite record %s", inv->id);
		free(inv);
		return -1;
	}
	inv->rev = rev;
	lane_init(&inv->lane);
	invite_index(c, inv);
	return 0;
}

/*
 * Another server's invite record (a shared store): a new invite is indexed
 * with the uses its sessions show; a newer record brings its revocation.
 */
int
invite_follow_doc(struct core *c, const cJSON *doc, uint64_t rev, char **cause)
{
	const char *id = json_str(doc, "id"), *ra = json_str(doc, "revoked_at");
	struct core_invite *inv;

	if (id == NULL || (inv = strmap_get(c->invites, id)) == NULL) {
		if (invite_from_doc(c, doc, rev, cause) != 0)
			return -1;
		if ((inv = strmap_get(c->invites, id)) != NULL)
			inv->nuses = invite_channels(c, inv, NULL, 0);
		return 0;
	}
	if (rev <= inv->rev)
		return 0;
	inv->revoked_ms = ra != NULL ? clock_parse_ms(ra) : -1;
	inv->rev = rev;
	return 0;
}

/* After loading, each invite's use count is the sessions it opened. */
void
invite_count_uses(struct core *c)
{
	size_t i;

	for (i = 0; i < c->ninvites; i++)
		c->ilist[i]->nuses = invite_channels(c, c->ilist[i], NULL, 0);
}
