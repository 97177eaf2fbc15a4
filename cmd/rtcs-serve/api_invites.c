/* Endpoints of invite codes (design.md 4.5): create, list, revoke, scan, the target's tokens. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "json.h"
#include "names.h"
#include "xmalloc.h"

static void
invite_made(void *arg, const struct core_status *st, struct core_invite *inv,
    const char *payload, const char *owner)
{
	struct req *rq = arg;
	cJSON *o;

	if (st->err != CE_OK) {
		http_status(rq, st, "cannot create the invite");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "invite", core_invite_json(inv, 0));
	cJSON_AddStringToObject(o, "payload", payload);
	cJSON_AddStringToObject(o, "owner", owner);
	http_reply(rq, 201, o);
}

void
api_invite_create(struct req *rq)
{
	const char *to, *name, *kind;
	long long ttl = 0, uses = 0;
	int has;

	if (body_str(rq, "to", &to) != 0 || body_str(rq, "name", &name) != 0 ||
	    body_str(rq, "kind", &kind) != 0 ||
	    body_int(rq, "ttl", 1, CORE_INVITE_MAX_TTL_MS / 1000, &has, &ttl) != 0 ||
	    body_int(rq, "uses", 1, CORE_INVITE_MAX_USES, &has, &uses) != 0)
		return;
	if (to == NULL || !name_valid(to) || (name != NULL && !name_valid(name)) ||
	    (kind != NULL && !name_kind_valid(kind))) {
		http_error(rq, 400, "bad_field",
		    "an invite is {\"to\":DEVICE, \"name\":PARTICIPANT?, \"kind\":WORD?, "
		    "\"ttl\":SECONDS?, \"uses\":N?}");
		return;
	}
	core_invite_create(rq->core, to, name, kind, ttl * 1000, (size_t)uses,
	    invite_made, rq);
}

/* Every invite, its state and uses; no secret. */
void
api_invite_list(struct req *rq)
{
	cJSON *o = cJSON_CreateObject(), *a;
	size_t i;

	a = cJSON_AddArrayToObject(o, "invites");
	for (i = 0; i < rq->core->ninvites; i++)
		cJSON_AddItemToArray(a, core_invite_json(rq->core->ilist[i], 0));
	http_reply(rq, 200, o);
}

static void
revoked(void *arg, const struct core_status *st)
{
	struct req *rq = arg;
	struct core_invite *inv = core_invite_find(rq->core, rq->param);
	cJSON *o;

	if (st->err != CE_OK) {
		http_status(rq, st, "cannot revoke the invite");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "invite", core_invite_json(inv, 0));
	http_reply(rq, 200, o);
}

/* Later scans of it get 410 gone; the sessions it started go on. */
void
api_invite_revoke(struct req *rq)
{
	struct core_invite *inv = core_invite_find(rq->core, rq->param);

	if (inv == NULL) {
		http_error(rq, 404, "not_found", "no invite %s", rq->param);
		return;
	}
	core_invite_revoke(rq->core, inv, revoked, rq);
}

static void
scanned(void *arg, const struct core_status *st, struct core_session *s, char **tokens)
{
	struct req *rq = arg;
	cJSON *o;

	if (st->err == CE_FORBIDDEN) {
		ratelimit_fail(rq);
		http_error(rq, 403, "code_mismatch", "not the code of invite %s", rq->param);
		return;
	}
	if (st->err == CE_GONE) {
		/* revoked: gone; expired: expired; used_up: used_up. */
		http_error(rq, 410, strcmp(st->msg, "revoked") == 0 ? "gone" : st->msg,
		    "invite %s is %s", rq->param, strcmp(st->msg, "used_up") == 0 ? "used up" :
		    st->msg);
		return;
	}
	if (st->err != CE_OK) {
		http_status(rq, st, "cannot start the session");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "session", core_session_json(s, 1));
	cJSON_AddStringToObject(o, "token", tokens[0]);
	http_reply(rq, 201, o);
}

/* The scanner starts a session with the invite's device; it gets its token now. */
void
api_invite_scan(struct req *rq)
{
	struct core_invite *inv = core_invite_find(rq->core, rq->param);
	const char *device, *name, *payload;

	if (body_str(rq, "device", &device) != 0 || body_str(rq, "name", &name) != 0 ||
	    body_str(rq, "payload", &payload) != 0)
		return;
	if (inv == NULL) {
		http_error(rq, 404, "not_found", "no invite %s", rq->param);
		return;
	}
	if (name == NULL)
		name = device;
	if (device == NULL || !name_valid(device) || !name_valid(name)) {
		http_error(rq, 400, "bad_field",
		    "a scan is {\"payload\":..., \"device\":DEVICE, \"name\":PARTICIPANT?}");
		return;
	}
	if (http_rate_limited(rq, NULL))
		return;
	core_invite_scan(rq->core, inv, payload, device, name, scanned, rq);
}

static void
listed(void *arg, const struct core_status *st, cJSON *sessions)
{
	struct req *rq = arg;
	cJSON *o;

	if (st->err != CE_OK) {
		cJSON_Delete(sessions);
		http_status(rq, st, "invite");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "sessions", sessions);
	http_reply(rq, 200, o);
}

/* The owner collects the target's tokens, until each channel is first used. */
void
api_invite_sessions(struct req *rq)
{
	core_invite_sessions(rq->core, rq->owner, rq->bearer, listed, rq);
}
