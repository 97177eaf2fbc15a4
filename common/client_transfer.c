/* The client side of transfers shared by rtcs-transfer and rtcs-scan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client.h"
#include "client_transfer.h"
#include "exitcode.h"
#include "json.h"
#include "keys.h"
#include "payload.h"
#include "xmalloc.h"

static const char *const transfer_states[] = {
	"issued", "scanned", "verified", "committing", "completed", NULL
};

int
transfer_state_rank(const char *state)
{
	int i;

	for (i = 0; state != NULL && transfer_states[i] != NULL; i++)
		if (strcmp(state, transfer_states[i]) == 0)
			return i;
	return -1;
}

int
transfer_state_terminal(const char *state)
{
	return state != NULL && (strcmp(state, "completed") == 0 || strcmp(state, "failed") == 0);
}

int
transfer_state_reached(const char *state, const char *want)
{
	if (state == NULL)
		return 0;
	if (want == NULL)
		want = "completed";
	if (strcmp(want, "failed") == 0 || strcmp(state, "failed") == 0)
		return strcmp(state, want) == 0;
	return transfer_state_rank(state) >= transfer_state_rank(want) && transfer_state_rank(want) >= 0;
}

const char *
transfer_reason_text(const char *reason)
{
	static const struct { const char *code, *text; } reasons[] = {
		{ "expired", "its code expired" },
		{ "cancelled", "it was cancelled" },
		{ "rejected_by_origin", "the origin device rejected it" },
		{ "rejected_by_peer", "a peer rejected it" },
		{ "code_mismatch", "the image data did not match the code" },
		{ "too_many_attempts", "too many failed attempts burnt its code" },
		{ "session_ended", "the session ended" },
		{ "origin_gone", "the origin device left the session" },
		{ "interrupted", "rtcs-serve stopped before the switch" },
		{ "internal", "rtcs-serve had an internal error" },
	};
	size_t i;

	for (i = 0; reason != NULL && i < sizeof reasons / sizeof reasons[0]; i++)
		if (strcmp(reason, reasons[i].code) == 0)
			return reasons[i].text;
	return reason != NULL ? reason : "";
}

int
transfer_get(struct client *c, const char *id, cJSON **out, struct client_err *err)
{
	return transfer_get_as(c, id, NULL, out, err);
}

int
transfer_get_as(struct client *c, const char *id, const char *secret, cJSON **out,
    struct client_err *err)
{
	char *path = xprintf("/v1/transfers/%s", id);
	cJSON *resp = NULL, *t;
	int rc;

	rc = client_call(c, "GET", path, secret, NULL, &resp, err);
	free(path);
	if (rc != 0)
		return -1;
	if (!cJSON_IsObject(t = cJSON_DetachItemFromObjectCaseSensitive(resp, "transfer"))) {
		cJSON_Delete(t);
		cJSON_Delete(resp);
		client_err_set(err, EXIT_PROTOCOL, "rtcs-serve returned no transfer");
		return -1;
	}
	cJSON_Delete(resp);
	*out = t;
	return 0;
}

int
transfer_get_code(struct client *c, const char *id, const char *secret, cJSON **out,
    struct client_err *err)
{
	char *path = xprintf("/v1/transfers/%s/code", id);
	int rc;

	*out = NULL;
	rc = client_call(c, "GET", path, secret, NULL, out, err);
	free(path);
	if (rc == 0 && json_str(*out, "payload") == NULL) {
		cJSON_Delete(*out);
		*out = NULL;
		client_err_set(err, EXIT_PROTOCOL, "rtcs-serve returned no payload");
		return -1;
	}
	return rc;
}

/* keys_get that treats "no such entry" as an empty answer. */
static int
transfer_key(const char *dir, const char *device, const char *ext, const char *key,
    char **value, struct client_err *err)
{
	char *cause = NULL;
	int why = 0;

	*value = NULL;
	if (keys_get(dir, device, ext, key, value, NULL, &why, &cause) == 0)
		return 0;
	if (why == KEYS_MISSING) {
		free(cause);
		return 0;
	}
	/* With no key, several entries: the caller must name the session. */
	client_err_set(err, why == 0 && key == NULL ? EXIT_DATAERR : keys_exit_code(why), "%s", cause);
	free(cause);
	return -1;
}

int
transfer_device_secret(struct client *c, const char *keys_dir, const char *device,
    const char *session, const char *id, char **secret, const char **kind, struct client_err *err)
{
	cJSON *t = NULL;
	const char *sid = session != NULL && *session != '\0' ? session : NULL;
	int rc = 0;

	*secret = NULL;
	*kind = "none";
	if (sid == NULL && transfer_get(c, id, &t, err) == 0)
		sid = json_str(t, "session");
	else if (sid == NULL)
		client_err_clear(err);	/* the server will say what is wrong with id */
	if (transfer_key(keys_dir, device, "token", sid, secret, err) != 0)
		rc = -1;
	else if (*secret != NULL)
		*kind = "token";
	else if (transfer_key(keys_dir, device, "claim", id, secret, err) != 0)
		rc = -1;
	else if (*secret != NULL)
		*kind = "claim";
	cJSON_Delete(t);
	return rc;
}

static char *
transfer_base64(const void *data, size_t len)
{
	char *out;

	if (len > 64 * 1024 * 1024)
		return NULL;
	out = xmalloc(sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL));
	sodium_bin2base64(out, sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL),
	    data, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

int
transfer_submit_image(struct client *c, const char *keys_dir, const char *device,
    const char *id, const char *secret, const char *payload, const void *png, size_t pnglen,
    cJSON **out, struct client_err *err)
{
	cJSON *req = cJSON_CreateObject(), *resp = NULL, *t;
	char *path = xprintf("/v1/transfers/%s/image", id), *b64, *cause = NULL, *chosen = NULL;
	const char *claim;
	int rc = -1;

	cJSON_AddStringToObject(req, "device", device);
	/*
	 * A device with no secret for the transfer may become its claimant: it
	 * chooses its claim secret and keeps it before asking, so that it can
	 * collect its token even if the answer is lost (the server crashed
	 * right after the switch).
	 */
	if (secret == NULL) {
		chosen = payload_new_secret();
		if (keys_put(keys_dir, device, "claim", id, chosen, &cause) != 0) {
			client_err_set(err, EXIT_IOERR, "cannot keep the claim of %s: %s", device, cause);
			free(cause);
			goto out;
		}
		cJSON_AddStringToObject(req, "claim", chosen);
	}
	if (png != NULL) {
		if ((b64 = transfer_base64(png, pnglen)) == NULL) {
			client_err_set(err, EXIT_DATAERR, "image too large");
			goto out;
		}
		cJSON_AddStringToObject(req, "image", b64);
		free(b64);
	} else
		cJSON_AddStringToObject(req, "payload", payload);
	if (client_call(c, "POST", path, secret, req, &resp, err) != 0) {
		/* Refused: no claim. Lost on the way: the claim may hold, keep it. */
		if (chosen != NULL && err->status != 0 && keys_put(keys_dir, device, "claim", id,
		    NULL, &cause) != 0)
			free(cause);
		goto out;
	}
	if (!cJSON_IsObject(t = cJSON_GetObjectItemCaseSensitive(resp, "transfer"))) {
		client_err_set(err, EXIT_PROTOCOL, "rtcs-serve returned no transfer");
		goto out;
	}
	if ((claim = json_str(resp, "claim")) != NULL &&
	    keys_put(keys_dir, device, "claim", id, claim, &cause) != 0) {
		client_err_set(err, EXIT_IOERR, "cannot keep the claim of %s: %s", device, cause);
		free(cause);
		goto out;
	}
	*out = resp;
	resp = NULL;
	rc = 0;
out:
	cJSON_Delete(req);
	cJSON_Delete(resp);
	free(chosen);
	free(path);
	return rc;
}

/*
 * A bound pull's check code, told once: read with the claim, on a connection
 * of its own (the stream may hold the other). A failed look is no error: the
 * wait goes on.
 */
static void
transfer_wait_check(struct transfer_wait *w)
{
	struct client_err e = { 0 };
	struct client *look;
	cJSON *own = NULL;
	const char *check;
	int rc;

	if (w->claim == NULL || w->check[0] != '\0' || strcmp(w->state, "verified") != 0)
		return;
	look = client_new(client_socket(w->client), 5000);
	rc = look != NULL ? transfer_get_as(look, w->id, w->claim, &own, &e) : -1;
	client_free(look);
	client_err_clear(&e);
	if (rc == 0 && (check = json_str(own, "check")) != NULL) {
		snprintf(w->check, sizeof w->check, "%s", check);
		if (w->on_check != NULL)
			w->on_check(w->check, w->arg);
	}
	cJSON_Delete(own);
}

/* One line of /v1/events: keeps the state of our transfer, stops when it is settled. */
static int
transfer_wait_line(cJSON *ev, void *arg)
{
	struct transfer_wait *w = arg;
	const char *name = json_str(ev, "event"), *id = json_str(ev, "transfer");
	const char *state = json_str(ev, "state"), *reason = json_str(ev, "reason");

	if (name != NULL && id != NULL && strcmp(name, "transfer.code") == 0 &&
	    strcmp(id, w->id) == 0 && w->on_code != NULL) {
		w->on_code(ev, w->code_arg);
		return 0;
	}
	if (name == NULL || id == NULL || state == NULL || strcmp(name, "transfer.state") != 0 ||
	    strcmp(id, w->id) != 0)
		return 0;
	snprintf(w->state, sizeof w->state, "%s", state);
	snprintf(w->reason, sizeof w->reason, "%s", reason ? reason : "");
	if (w->on_event != NULL)
		w->on_event(ev, w->arg);
	transfer_wait_check(w);
	if (transfer_state_reached(state, w->want))
		return 1;
	if (transfer_state_terminal(state))
		return 2;
	return 0;
}

cJSON *
transfer_now_event(const char *id, const cJSON *t, long long *events_seq)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(t, "events_seq");
	const char *state = json_str(t, "state"), *reason = json_str(t, "reason");
	cJSON *ev = cJSON_CreateObject();

	*events_seq = cJSON_IsNumber(seq) && seq->valuedouble >= 0 ? (long long)seq->valuedouble : 0;
	cJSON_AddStringToObject(ev, "event", "transfer.state");
	cJSON_AddStringToObject(ev, "transfer", id);
	cJSON_AddStringToObject(ev, "state", state ? state : "");
	if (reason != NULL)
		cJSON_AddStringToObject(ev, "reason", reason);
	return ev;
}

/* Where the transfer stands now; 0 reached, 1 over, 2 still going. */
static int
transfer_wait_now(struct client *c, struct transfer_wait *w, struct client_err *err)
{
	cJSON *t, *ev;
	const char *reason;

	if (transfer_get(c, w->id, &t, err) != 0)
		return -1;
	ev = transfer_now_event(w->id, t, &w->events_seq);
	cJSON_Delete(t);
	reason = json_str(ev, "reason");
	snprintf(w->state, sizeof w->state, "%s", json_str(ev, "state"));
	snprintf(w->reason, sizeof w->reason, "%s", reason ? reason : "");
	/* The state it is in now, told as its event would be; then each change. */
	if (w->on_event != NULL && w->state[0] != '\0')
		w->on_event(ev, w->arg);
	cJSON_Delete(ev);
	transfer_wait_check(w);
	if (transfer_state_reached(w->state, w->want))
		return 0;
	return transfer_state_terminal(w->state) ? 1 : 2;
}

int
transfer_wait(struct client *c, struct transfer_wait *w, struct client_err *err)
{
	char *path;
	int rc;

	w->client = c;
	if ((rc = transfer_wait_now(c, w, err)) != 2)
		return rc;
	/*
	 * The durable event log from the seq the look above was taken at:
	 * every later transition of this transfer is after it, so nothing
	 * between the look and the stream's start is missed, and nothing
	 * older is replayed.
	 */
	path = xprintf("/v1/events?since=%lld&follow=1", w->events_seq);
	rc = client_stream(c, path, NULL, w->timeout_ms, transfer_wait_line, w, err);
	free(path);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		client_err_set(err, EXIT_UNAVAILABLE, "the event stream of rtcs-serve ended");
		return -1;
	}
	return rc == 1 ? 0 : 1;
}

int
transfer_store_token(const char *keys_dir, const char *device, const char *sid,
    const char *token, char **lost, struct client_err *err)
{
	char *cause = NULL;

	if (keys_put(keys_dir, device, "token", sid, token, &cause) == 0)
		return 0;
	client_err_set(err, EXIT_IOERR, "cannot store the token of %s: %s; "
	    "it is printed once on standard output instead, keep it", device, cause);
	*lost = xstrdup(token);
	free(cause);
	return -1;
}

int
invite_collect_tokens(struct client *c, const char *keys_dir, const char *device,
    const char *id, cJSON **sessions, struct client_err *err)
{
	char *owner = NULL, *path, *lost;
	cJSON *resp = NULL, *e, *out, *one;
	const char *token, *sid;
	int rc = 0;

	*sessions = NULL;
	if (transfer_key(keys_dir, device, "invite", id, &owner, err) != 0)
		return -1;
	if (owner == NULL) {
		client_err_set(err, EXIT_NOINPUT, "device %s holds no owner secret of invite %s in %s",
		    device, id, keys_dir);
		return -1;
	}
	path = xprintf("/v1/invites/%s/sessions", id);
	if (client_call(c, "GET", path, owner, NULL, &resp, err) != 0) {
		rc = -1;
		goto out;
	}
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(resp, "sessions")) {
		if ((token = json_str(e, "token")) == NULL || (sid = json_str(e, "session")) == NULL)
			continue;
		/* One that cannot be stored is kept in the answer, to be printed: the rest go on. */
		lost = NULL;
		if (transfer_store_token(keys_dir, device, sid, token, &lost, err) != 0)
			rc = -1;
		one = cJSON_CreateObject();
		cJSON_AddStringToObject(one, "session", sid);
		if (lost != NULL) {
			cJSON_AddStringToObject(one, "token", lost);
			explicit_bzero(lost, strlen(lost));
			free(lost);
		}
		cJSON_AddItemToArray(out, one);
	}
	*sessions = out;
out:
	free(path);
	if (owner != NULL)
		explicit_bzero(owner, strlen(owner));
	free(owner);
	cJSON_Delete(resp);
	return rc;
}

int
transfer_collect_token(struct client *c, const char *keys_dir, const char *device,
    const char *id, char **session_out, char **lost, struct client_err *err)
{
	char *claim = NULL, *path, *cause = NULL;
	cJSON *resp = NULL;
	const char *token, *sid;
	int rc = -1;

	if (transfer_key(keys_dir, device, "claim", id, &claim, err) != 0)
		return -1;
	if (claim == NULL) {
		client_err_set(err, EXIT_NOINPUT, "device %s holds no claim on transfer %s in %s",
		    device, id, keys_dir);
		return -1;
	}
	path = xprintf("/v1/transfers/%s/token", id);
	if (client_call(c, "GET", path, claim, NULL, &resp, err) != 0)
		goto out;
	if ((token = json_str(resp, "token")) == NULL || (sid = json_str(resp, "session")) == NULL) {
		client_err_set(err, EXIT_PROTOCOL, "rtcs-serve returned no token");
		goto out;
	}
	*lost = NULL;
	if (transfer_store_token(keys_dir, device, sid, token, lost, err) != 0)
		rc = -1;
	else if (keys_put(keys_dir, device, "claim", id, NULL, &cause) != 0)
		client_err_set(err, EXIT_IOERR, "token of %s stored, but its claim stays: %s",
		    device, cause);
	else
		rc = 0;
	free(cause);
	if (session_out != NULL && (rc == 0 || *lost != NULL))
		*session_out = xstrdup(sid);
out:
	free(path);
	free(claim);
	cJSON_Delete(resp);
	return rc;
}
