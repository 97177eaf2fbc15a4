/*
 * Invite codes (design.md 4.5): a printed code for a named device; scanning
 * it starts a session between the scanner and that device.
 *
 * The target device is not there when the code is scanned, so its new token
 * waits in the invite record, sealed to the owner secret: the record keeps
 * an X25519 public key derived from the owner secret (never the secret), each
 * token is sealed with a fresh ephemeral key against it, and only the holder
 * of the owner secret can open it (GET .../sessions). Secrets stay hashes at rest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <event2/http.h>

#include "clock.h"

#include "hash.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "payload.h"
#include "rand.h"
#include "serve.h"
#include "xmalloc.h"

#define INVITE_MAX_USES	1024

struct invite_use {
	char	 session[PAYLOAD_ID_LEN + 1];
	char	 eph[65];		/* ephemeral public key, hex */
	char	 box[65];		/* the target's token, sealed, hex */
	int	 taken;
};

struct invite {
	char	 id[PAYLOAD_ID_LEN + 1];
	char	 to[NAME_MAX_LEN + 1];
	char	 name[NAME_MAX_LEN + 1];
	char	 kind[33];
	int64_t	 created_ms;
	char	 secret_hash[HASH_HEX_LEN + 1];
	char	 owner_hash[HASH_HEX_LEN + 1];
	char	 owner_pub[65];
	struct invite_use *uses;
	size_t	 nuses;
	uint64_t rev;			/* its document's revision in the store */
};

static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hex_decode(const char *in, unsigned char *out, size_t len)
{
	unsigned int v;
	size_t i;

	if (strlen(in) != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		if (sscanf(in + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* The owner's X25519 key, derived from its secret. */
static EVP_PKEY *
owner_key(const char *owner)
{
	unsigned char sk[32];
	char *m = xprintf("rtcs-invite-key:%s", owner);
	EVP_PKEY *k;

	hash_sha256(m, strlen(m), sk);
	free(m);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, sk, sizeof sk);
	explicit_bzero(sk, sizeof sk);
	return k;
}

/* key = SHA-256 of the X25519 agreement of mine with the peer's public key. */
static int
agree(EVP_PKEY *mine, const unsigned char pub[32], unsigned char key[32])
{
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
	EVP_PKEY_CTX *c = peer ? EVP_PKEY_CTX_new(mine, NULL) : NULL;
	unsigned char shared[32];
	size_t n = sizeof shared;
	int ok;

	ok = c != NULL && EVP_PKEY_derive_init(c) > 0 && EVP_PKEY_derive_set_peer(c, peer) > 0 &&
	    EVP_PKEY_derive(c, shared, &n) > 0 && n == sizeof shared;
	if (ok)
		hash_sha256(shared, sizeof shared, key);
	explicit_bzero(shared, sizeof shared);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(peer);
	return ok ? 0 : -1;
}

/* Seals token (26 characters) to the owner's public key. */
static int
invite_seal(const struct invite *inv, const char *token, struct invite_use *u)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL);
	EVP_PKEY *eph = NULL;
	unsigned char pub[32], key[32], box[32];
	size_t i, n = sizeof pub, len = strlen(token);
	int rv = -1;

	if (len > sizeof box || hex_decode(inv->owner_pub, pub, sizeof pub) != 0)
		goto out;
	if (c == NULL || EVP_PKEY_keygen_init(c) <= 0 || EVP_PKEY_keygen(c, &eph) <= 0 ||
	    agree(eph, pub, key) != 0 || EVP_PKEY_get_raw_public_key(eph, pub, &n) <= 0)
		goto out;
	for (i = 0; i < len; i++)
		box[i] = (unsigned char)token[i] ^ key[i];
	hex_encode(pub, sizeof pub, u->eph);
	hex_encode(box, len, u->box);
	rv = 0;
out:
	explicit_bzero(key, sizeof key);
	EVP_PKEY_free(eph);
	EVP_PKEY_CTX_free(c);
	return rv;
}

static char *
invite_unseal(const char *owner, const struct invite_use *u)
{
	EVP_PKEY *k = owner_key(owner);
	unsigned char pub[32], key[32], box[32];
	size_t i, len = strlen(u->box) / 2;
	char *token = NULL;

	if (k != NULL && len <= sizeof box && hex_decode(u->eph, pub, sizeof pub) == 0 &&
	    hex_decode(u->box, box, len) == 0 && agree(k, pub, key) == 0) {
		token = xmalloc(len + 1);
		for (i = 0; i < len; i++)
			token[i] = (char)(box[i] ^ key[i]);
		token[len] = '\0';
	}
	explicit_bzero(key, sizeof key);
	EVP_PKEY_free(k);
	return token;
}

static cJSON *
invite_json(const struct invite *inv, int with_secrets)
{
	cJSON *o = cJSON_CreateObject(), *a, *u;
	size_t i;

	cJSON_AddStringToObject(o, "id", inv->id);
	cJSON_AddStringToObject(o, "to", inv->to);
	cJSON_AddStringToObject(o, "name", inv->name);
	cJSON_AddStringToObject(o, "kind", inv->kind);
	json_add_time(o, "created_at", inv->created_ms);
	cJSON_AddNumberToObject(o, "uses", (double)inv->nuses);
	if (!with_secrets)
		return o;
	cJSON_AddStringToObject(o, "secret_hash", inv->secret_hash);
	cJSON_AddStringToObject(o, "owner_hash", inv->owner_hash);
	cJSON_AddStringToObject(o, "owner_pub", inv->owner_pub);
	a = cJSON_AddArrayToObject(o, "sessions");
	for (i = 0; i < inv->nuses; i++) {
		u = cJSON_CreateObject();
		cJSON_AddStringToObject(u, "session", inv->uses[i].session);
		cJSON_AddStringToObject(u, "eph", inv->uses[i].eph);
		cJSON_AddStringToObject(u, "box", inv->uses[i].box);
		cJSON_AddBoolToObject(u, "taken", inv->uses[i].taken);
		cJSON_AddItemToArray(a, u);
	}
	return o;
}

static int
invite_save(struct server *srv, struct invite *inv, char **cause)
{
	cJSON *doc = invite_json(inv, 1);
	int rv = server_put_doc(srv, STORE_INVITE, inv->id, &inv->rev, doc, NULL, cause);

	cJSON_Delete(doc);
	return rv;
}

static void
invite_index(struct server *srv, struct invite *inv)
{
	if (srv->ninvites == srv->icap) {
		srv->icap = srv->icap ? srv->icap * 2 : 16;
		srv->ilist = xreallocarray(srv->ilist, srv->icap, sizeof *srv->ilist);
	}
	srv->ilist[srv->ninvites++] = inv;
	strmap_put(srv->invites, inv->id, inv);
	strmap_put(srv->owners, inv->owner_hash, inv);
}

static void
invite_free(struct invite *inv)
{
	free(inv->uses);
	free(inv);
}

static void
reply_internal(struct req *rq, char *cause)
{
	log_warnx("%s", cause);
	http_error(rq, 500, "internal", "%s", cause);
	free(cause);
}

/* Copies a string field of at most size-1 bytes; "" if absent. */
static int
copy_str(const cJSON *o, const char *key, char *dst, size_t size)
{
	const char *v = json_str(o, key);

	if (v == NULL || strlen(v) >= size)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

void
api_invite_create(struct req *rq)
{
	struct server *srv = rq->srv;
	const char *to = json_str(rq->body, "to"), *name = json_str(rq->body, "name");
	const char *kind = json_str(rq->body, "kind");
	struct invite *inv;
	struct payload p;
	EVP_PKEY *k;
	unsigned char pub[32];
	size_t n = sizeof pub;
	char *secret, *owner, *h, *id, *payload, *cause = NULL;
	cJSON *o, *x;

	if (to == NULL || !name_valid(to) || (name != NULL && !name_valid(name)) ||
	    (kind != NULL && !name_kind_valid(kind))) {
		http_error(rq, 400, "bad_field",
		    "an invite is {\"to\":DEVICE, \"name\":PARTICIPANT?, \"kind\":WORD?}");
		return;
	}
	inv = xcalloc(1, sizeof *inv);
	id = rand_id('I');
	snprintf(inv->id, sizeof inv->id, "%s", id);
	free(id);
	snprintf(inv->to, sizeof inv->to, "%s", to);
	snprintf(inv->name, sizeof inv->name, "%s", name != NULL ? name : to);
	snprintf(inv->kind, sizeof inv->kind, "%s", kind != NULL ? kind : "chat");
	inv->created_ms = now_ms();
	secret = payload_new_secret();
	owner = payload_new_secret();
	h = hash_secret(secret);
	snprintf(inv->secret_hash, sizeof inv->secret_hash, "%s", h);
	free(h);
	h = hash_secret(owner);
	snprintf(inv->owner_hash, sizeof inv->owner_hash, "%s", h);
	free(h);
	if ((k = owner_key(owner)) == NULL || EVP_PKEY_get_raw_public_key(k, pub, &n) <= 0)
		fatalx("X25519 is not available");
	EVP_PKEY_free(k);
	hex_encode(pub, sizeof pub, inv->owner_pub);
	if (invite_save(srv, inv, &cause) != 0) {
		free(secret);
		free(owner);
		invite_free(inv);
		reply_internal(rq, cause);
		return;
	}
	invite_index(srv, inv);
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "invite", inv->id);
	cJSON_AddStringToObject(x, "to", inv->to);
	if (server_event(srv, "invite.created", NULL, x, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
	}
	memset(&p, 0, sizeof p);
	p.kind = PAYLOAD_INVITE;
	snprintf(p.id, sizeof p.id, "%s", inv->id);
	snprintf(p.secret, sizeof p.secret, "%s", secret);
	payload = payload_format(&p);
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "invite", invite_json(inv, 0));
	cJSON_AddStringToObject(o, "payload", payload);
	cJSON_AddStringToObject(o, "owner", owner);
	explicit_bzero(secret, strlen(secret));
	explicit_bzero(owner, strlen(owner));
	free(payload);
	free(secret);
	free(owner);
	http_reply(rq, 201, o);
}

/* Whether payload is this invite's code (the secret compared in constant time). */
static int
invite_code_ok(const struct invite *inv, const char *payload)
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

/* The scanner starts a session with the invite's device; it gets its token now. */
void
api_invite_scan(struct req *rq)
{
	struct server *srv = rq->srv;
	struct invite *inv = strmap_get(srv->invites, rq->param);
	const char *device = json_str(rq->body, "device"), *name = json_str(rq->body, "name");
	const char *names[2], *devices[2];
	char *tokens[2], *cause = NULL;
	struct invite_use *u;
	struct session *s;
	cJSON *o, *x;

	if (inv == NULL) {
		http_error(rq, 404, "not_found", "no invite %s", rq->param);
		return;
	}
	if (rq->ch != NULL || rq->claim != NULL || rq->owner != NULL) {
		http_error(rq, 403, "forbidden", "an invite is scanned without a token");
		return;
	}
	if (name == NULL)
		name = device;
	if (device == NULL || !name_valid(device) || !name_valid(name)) {
		http_error(rq, 400, "bad_field",
		    "a scan is {\"payload\":..., \"device\":DEVICE, \"name\":PARTICIPANT?}");
		return;
	}
	if (http_rate_limited(rq))
		return;
	if (!invite_code_ok(inv, json_str(rq->body, "payload"))) {
		ratelimit_fail(srv, rq->uid);
		http_error(rq, 403, "code_mismatch", "not the code of invite %s", inv->id);
		return;
	}
	if (strcmp(device, inv->to) == 0 || strcmp(name, inv->name) == 0) {
		http_error(rq, 409, "conflict", "%s is the invite's own device or name", device);
		return;
	}
	if (inv->nuses >= INVITE_MAX_USES) {
		http_error(rq, 409, "conflict", "invite %s has been used %d times", inv->id,
		    INVITE_MAX_USES);
		return;
	}
	names[0] = name;
	devices[0] = device;
	names[1] = inv->name;
	devices[1] = inv->to;
	if ((s = session_create(srv, inv->kind, 2, names, devices, tokens, &cause)) == NULL) {
		reply_internal(rq, cause);
		return;
	}
	inv->uses = xreallocarray(inv->uses, inv->nuses + 1, sizeof *inv->uses);
	u = &inv->uses[inv->nuses];
	memset(u, 0, sizeof *u);
	snprintf(u->session, sizeof u->session, "%s", s->id);
	if (invite_seal(inv, tokens[1], u) != 0)
		fatalx("cannot seal a token with X25519");
	inv->nuses++;
	explicit_bzero(tokens[1], strlen(tokens[1]));
	free(tokens[1]);
	if (invite_save(srv, inv, &cause) != 0) {
		/* The session exists; its second device cannot collect its token. */
		log_warnx("invite %s: %s", inv->id, cause);
		free(cause);
		cause = NULL;
	}
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "invite", inv->id);
	cJSON_AddStringToObject(x, "device", device);
	if (server_event(srv, "invite.used", s, x, &cause) != 0) {
		log_warnx("%s", cause);
		free(cause);
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "session", session_json(s, 1, 0));
	cJSON_AddStringToObject(o, "token", tokens[0]);
	free(tokens[0]);
	http_reply(rq, 201, o);
}

/* The owner collects the tokens of the sessions started since (each once). */
void
api_invite_sessions(struct req *rq)
{
	struct server *srv = rq->srv;
	struct invite *inv = strmap_get(srv->invites, rq->param);
	cJSON *o, *a, *e;
	char *token, *cause = NULL;
	size_t i;

	if (inv == NULL) {
		http_error(rq, 404, "not_found", "no invite %s", rq->param);
		return;
	}
	if (rq->owner != inv) {
		http_error(rq, rq->owner || rq->ch || rq->claim ? 403 : 401,
		    rq->owner || rq->ch || rq->claim ? "forbidden" : "unauthorized",
		    "the sessions of an invite go to its owner secret only");
		return;
	}
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "sessions");
	for (i = 0; i < inv->nuses; i++) {
		struct invite_use *u = &inv->uses[i];
		if (u->taken || (token = invite_unseal(rq->bearer, u)) == NULL)
			continue;
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "session", u->session);
		cJSON_AddStringToObject(e, "device", inv->to);
		cJSON_AddStringToObject(e, "token", token);
		cJSON_AddItemToArray(a, e);
		explicit_bzero(token, strlen(token));
		free(token);
		u->taken = 1;
		u->box[0] = '\0';
	}
	/* Taken is durable before the tokens leave. */
	if (cJSON_GetArraySize(a) > 0 && invite_save(srv, inv, &cause) != 0) {
		cJSON_Delete(o);
		reply_internal(rq, cause);
		return;
	}
	http_reply(rq, 200, o);
}

int
invite_load(struct server *srv, const cJSON *doc, uint64_t rev, char **cause)
{
	struct invite *inv = xcalloc(1, sizeof *inv);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "sessions"), *u;
	int bad = 0;

	bad |= copy_str(doc, "id", inv->id, sizeof inv->id);
	bad |= copy_str(doc, "to", inv->to, sizeof inv->to);
	bad |= copy_str(doc, "name", inv->name, sizeof inv->name);
	bad |= copy_str(doc, "kind", inv->kind, sizeof inv->kind);
	bad |= copy_str(doc, "secret_hash", inv->secret_hash, sizeof inv->secret_hash);
	bad |= copy_str(doc, "owner_hash", inv->owner_hash, sizeof inv->owner_hash);
	bad |= copy_str(doc, "owner_pub", inv->owner_pub, sizeof inv->owner_pub);
	inv->created_ms = json_str(doc, "created_at") ? clock_parse_ms(json_str(doc, "created_at")) : -1;
	cJSON_ArrayForEach(u, a) {
		struct invite_use *x;
		if (inv->nuses >= INVITE_MAX_USES)
			break;
		inv->uses = xreallocarray(inv->uses, inv->nuses + 1, sizeof *inv->uses);
		x = &inv->uses[inv->nuses++];
		memset(x, 0, sizeof *x);
		bad |= copy_str(u, "session", x->session, sizeof x->session);
		bad |= copy_str(u, "eph", x->eph, sizeof x->eph);
		bad |= copy_str(u, "box", x->box, sizeof x->box);
		x->taken = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(u, "taken"));
	}
	if (bad || strmap_get(srv->invites, inv->id) != NULL) {
		*cause = xprintf("malformed invite record %s", inv->id);
		invite_free(inv);
		return -1;
	}
	inv->rev = rev;
	invite_index(srv, inv);
	return 0;
}

void
invite_free_all(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->ninvites; i++)
		invite_free(srv->ilist[i]);
	free(srv->ilist);
	srv->ilist = NULL;
	srv->ninvites = 0;
	strmap_free(srv->invites, NULL);
	strmap_free(srv->owners, NULL);
	srv->invites = srv->owners = NULL;
}
