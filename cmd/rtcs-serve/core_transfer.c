/*
 * The transfer engine around the pure state machine (common/transfer.c).
 * Every call runs on a copy of the record: the copy is written, then it
 * becomes the record, then the states it went through are announced. The
 * switch is one session change (new channel open, old one closed, the
 * participant.moved entry): its document is the commit point, and a
 * transfer whose new channel is in its session's document is completed,
 * whatever its own document says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core_int.h"
#include "failpoint.h"
#include "hash.h"
#include "json.h"
#include "log.h"
#include "xmalloc.h"

static const char *const state_failpoints[] = {
	"transfer-issued", "transfer-scanned", "transfer-verified", "transfer-committing",
	NULL, NULL
};

enum xc_kind { XC_CREATE, XC_IMAGE, XC_CONFIRM, XC_REJECT, XC_CANCEL, XC_EXPIRE, XC_FAIL,
	XC_ROTATE };

struct xfer_call {
	struct core_op	 op;
	struct core	*core;
	struct core_xfer *x;
	enum xc_kind	 kind;
	struct core_actor actor;
	char		*decoded, *match, *check, *secret;
	const char	*reason;		/* XC_FAIL */
	struct transfer	 next;
	struct transfer_result r;
	enum transfer_err te;
	struct core_xfer_reply reply;
	enum core_err	 final_err;		/* the answer, whatever the record says (the switch failed) */
	const char	*final_msg;
	int		 heard;			/* run again once all was heard (call_hear) */
	int		 committing;		/* "committing" told */
	core_xfer_cb	 cb;
	void		*arg;
};

static void xfer_arm(struct core *, struct core_xfer *);
static char *xfer_payload(struct core *, const struct core_xfer *, const char *secret);
static void rotor_arm(struct core *, struct core_xfer *, long long at);
static void rotor_stop(struct core_xfer *);
static void xfer_submit(struct core *, struct core_xfer *, enum xc_kind, const char *reason);

struct core_xfer *
core_xfer_find(struct core *c, const char *id)
{
	return id != NULL ? strmap_get(c->transfers, id) : NULL;
}

struct core_xfer *
core_xfer_by_claim(struct core *c, const char *secret)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex(secret, strlen(secret), hex);
	return strmap_get(c->claims, hex);
}

cJSON *
core_xfer_json(struct core *c, const struct core_xfer *x)
{
	cJSON *o = transfer_to_json(&x->t, 0);

	/* Where the event log is now (told, durable or soon): a watcher starts there, not from 0. */
	cJSON_AddNumberToObject(o, "events_seq", (double)c->events_appended);
	return o;
}

static struct core_xfer *
xfer_alloc(struct core *c, const struct transfer *t)
{
	struct core_xfer *x = xcalloc(1, sizeof *x);

	x->core = c;
	x->t = *t;
	lane_init(&x->lane);
	return x;
}

static void
xfer_index(struct core *c, struct core_xfer *x)
{
	if (c->nxfers == c->xcap) {
		c->xcap = c->xcap ? c->xcap * 2 : 64;
		c->xlist = xreallocarray(c->xlist, c->xcap, sizeof *c->xlist);
	}
	c->xlist[c->nxfers++] = x;
	strmap_put(c->transfers, x->t.id, x);
	if (x->t.claim_hash[0] != '\0')
		strmap_put(c->claims, x->t.claim_hash, x);
	if (!transfer_terminal(&x->t)) {
		TAILQ_INSERT_TAIL(&c->xopen, x, entry);
		c->nopen++;
		x->open = 1;
	}
}

/* The code's secret in clear (memory only, for GET .../code): the old one wiped; NULL forgets. */
static void
xfer_secret_set(struct core_xfer *x, char *secret)
{
	if (x->secret != NULL) {
		explicit_bzero(x->secret, strlen(x->secret));
		free(x->secret);
	}
	x->secret = secret;
}

static void
xfer_close(struct core *c, struct core_xfer *x)
{
	if (x->open) {
		TAILQ_REMOVE(&c->xopen, x, entry);
		c->nopen--;
		x->open = 0;
	}
	if (x->timer != NULL) {
		event_free(x->timer);
		x->timer = NULL;
	}
	rotor_stop(x);
	xfer_secret_set(x, NULL);
}

static struct core_session *
xfer_session(struct core *c, const struct core_xfer *x)
{
	return x->t.session[0] != '\0' ? core_session_find(c, x->t.session) : NULL;
}

/* ---- announcing ---- */

static void
tell_session(struct core *c, struct core_session *s, const cJSON *ev)
{
	size_t i;

	for (i = 0; s != NULL && i < s->nchannels; i++)
		if (s->channels[i]->open)
			core_tell(c, s->channels[i], ev);
}

/* transfer.confirm to each confirmer still to answer (only: one channel); never the match. */
static void
ask_confirm(struct core *c, struct core_xfer *x, struct core_channel *only)
{
	struct transfer *t = &x->t;
	struct core_channel *ch;
	cJSON *ev;
	int i;

	if (t->state != TS_VERIFIED)
		return;
	for (i = 0; i < t->nrequired; i++) {
		if (t->received[i] || (ch = strmap_get(c->channels, t->required[i])) == NULL ||
		    !ch->open || (only != NULL && ch != only))
			continue;
		ev = core_targeted_new("transfer.confirm", t->id);
		cJSON_AddStringToObject(ev, "claimant", t->claimant);
		cJSON_AddStringToObject(ev, "participant", t->participant);
		cJSON_AddStringToObject(ev, "direction", t->dir == TD_PUSH ? "push" : "pull");
		core_tell(c, ch, ev);
		cJSON_Delete(ev);
	}
}

void
core_channel_attached(struct core *c, struct core_channel *ch)
{
	struct core_xfer *x;

	TAILQ_FOREACH(x, &c->xopen, entry)
		if (strcmp(x->t.session, ch->session->id) == 0)
			ask_confirm(c, x, ch);
}

/* How a new state is told: by the server that wrote it (logged), or one that follows it. */
enum announce { AN_MINE, AN_MINE_FAILPOINTS, AN_PEER };

static void
announce_state(struct core *c, struct core_xfer *x, enum transfer_state st, enum announce how)
{
	struct transfer *t = &x->t;
	struct core_session *s = xfer_session(c, x);
	const char *reason = st == TS_FAILED ? t->reason : NULL;
	cJSON *extra = cJSON_CreateObject(), *ev;

	cJSON_AddStringToObject(extra, "transfer", t->id);
	if (s == NULL)
		cJSON_AddNullToObject(extra, "session");
	cJSON_AddStringToObject(extra, "state", transfer_state_name(st));
	if (reason != NULL)
		cJSON_AddStringToObject(extra, "reason", reason);
	else
		cJSON_AddNullToObject(extra, "reason");
	/* The event log has it once: from the server that made the change. */
	if (how != AN_PEER)
		core_event(c, "transfer.state", s, extra);
	else
		cJSON_Delete(extra);
	ev = core_targeted_new("transfer.state", t->id);
	cJSON_AddStringToObject(ev, "state", transfer_state_name(st));
	if (reason != NULL)
		cJSON_AddStringToObject(ev, "reason", reason);
	tell_session(c, s, ev);
	cJSON_Delete(ev);
	log_info("transfer %s %s%s%s", t->id, transfer_state_name(st), reason ? ": " : "",
	    reason ? reason : "");
}

/*
 * A new secret is in force: transfer.code (its id and when it rotates next,
 * never the secret) to the push origin's streams and in the event log.
 */
static void
announce_code(struct core *c, struct core_xfer *x)
{
	struct core_channel *origin = strmap_get(c->channels, x->t.origin_channel);
	cJSON *extra = cJSON_CreateObject(), *ev;

	cJSON_AddStringToObject(extra, "transfer", x->t.id);
	core_time_json(extra, "rotates_at", x->t.rotates_at);
	core_event(c, "transfer.code", xfer_session(c, x), extra);
	if (x->t.dir == TD_PUSH && origin != NULL && origin->open) {
		ev = core_targeted_new("transfer.code", x->t.id);
		core_time_json(ev, "rotates_at", x->t.rotates_at);
		core_tell(c, origin, ev);
		cJSON_Delete(ev);
	}
	log_info("transfer %s: new code, next at +%lld ms", x->t.id,
	    x->t.rotates_at - core_now_ms());
}

/* The crash tests' failpoints of every state after prev up to last. */
static void
state_failpoints_from(int prev, int last)
{
	int st;

	for (st = prev + 1; st <= last; st++)
		if (state_failpoints[st] != NULL && st != TS_COMMITTING)
			failpoint(state_failpoints[st]);
}

/* Every state from prev (exclusive) to the current one, or the failure. */
static void
announce_from(struct core *c, struct core_xfer *x, int prev, enum announce how)
{
	int st;

	if ((int)x->t.state == prev)
		return;
	if (how == AN_MINE_FAILPOINTS && x->t.state != TS_FAILED)
		state_failpoints_from(prev, (int)x->t.state);
	if (x->t.state == TS_FAILED)
		announce_state(c, x, TS_FAILED, how);
	else
		for (st = prev + 1; st <= (int)x->t.state; st++)
			if (st != TS_COMMITTING || how == AN_PEER)	/* told as the switch begins */
				announce_state(c, x, (enum transfer_state)st, how);
	if (x->t.state == TS_VERIFIED)
		ask_confirm(c, x, NULL);
	if (x->t.state != TS_ISSUED) {
		rotor_stop(x);		/* a code that was scanned is not shown any more */
		xfer_secret_set(x, NULL);
	}
	if (transfer_terminal(&x->t))
		xfer_close(c, x);
}

/*
 * Alerts are coalesced per transfer: at most one in CORE_ALERT_WINDOW_MS is
 * told and written to the event log; the next one says how many came since
 * ("repeated"), so a flood of scans costs no write each.
 */
void
core_xfer_alert(struct core *c, struct core_xfer *x, const char *reason, const char *device)
{
	struct core_channel *origin = strmap_get(c->channels, x->t.origin_channel);
	int64_t now = core_now_ms();
	cJSON *ev, *extra;

	if (x->alert_at != 0 && now - x->alert_at < CORE_ALERT_WINDOW_MS) {
		x->alert_more++;
		return;
	}
	ev = core_targeted_new("transfer.alert", x->t.id);
	cJSON_AddStringToObject(ev, "reason", reason);
	if (device != NULL)
		cJSON_AddStringToObject(ev, "device", device);
	if (x->alert_more > 0)
		cJSON_AddNumberToObject(ev, "repeated", x->alert_more);
	core_tell(c, origin, ev);
	cJSON_Delete(ev);
	extra = cJSON_CreateObject();
	cJSON_AddStringToObject(extra, "transfer", x->t.id);
	cJSON_AddStringToObject(extra, "reason", reason);
	if (device != NULL)
		cJSON_AddStringToObject(extra, "device", device);
	if (x->alert_more > 0)
		cJSON_AddNumberToObject(extra, "repeated", x->alert_more);
	x->alert_at = now;
	x->alert_more = 0;
	core_event(c, "transfer.alert", xfer_session(c, x), extra);
	log_warnx("transfer %s: alert %s (%s)", x->t.id, reason, device ? device : "?");
}

/* ---- a call's turn ---- */

static void
call_free(struct xfer_call *xc)
{
	free(xc->decoded);
	if (xc->match != NULL)
		explicit_bzero(xc->match, strlen(xc->match));
	free(xc->match);
	if (xc->check != NULL)
		explicit_bzero(xc->check, strlen(xc->check));
	free(xc->check);
	if (xc->secret != NULL)
		explicit_bzero(xc->secret, strlen(xc->secret));
	free(xc->secret);
	free(xc->r.claim);
	if (xc->kind == XC_CREATE)
		free(xc->reply.claim);
	free(xc->reply.payload);
	free(xc);
}

/* Answers the caller (if any), frees the call, frees the lane. */
static void
call_finish(struct xfer_call *xc, const struct core_status *st)
{
	struct core_xfer *x = xc->x;
	int created = xc->kind != XC_CREATE || st->err == CE_OK;

	if (xc->cb != NULL)
		xc->cb(xc->arg, st, created ? x : NULL, &xc->reply);
	call_free(xc);
	if (created)
		lane_done(&x->lane);
	else
		free(x);
}

static void
call_refused(struct xfer_call *xc)
{
	struct core_status st;

	if (xc->final_err != CE_OK)
		status_set(&st, xc->final_err, xc->final_msg);
	else if (xc->te == TE_OK)
		status_set(&st, CE_OK, NULL);
	else {
		status_set(&st, CE_TRANSFER, transfer_err_code(xc->te));
		st.te = xc->te;
	}
	call_finish(xc, &st);
}

/* What the state machine needs of the session; peers point into s. */
static void
ctx_fill(struct core *c, struct transfer_ctx *ctx, const char **pch, const char **pdev,
    const struct core_xfer *x, const struct core_actor *a)
{
	struct core_session *s = xfer_session(c, x);
	const char *participant = x->t.participant[0] ? x->t.participant :
	    (a->ch != NULL ? a->ch->participant : NULL);
	const char *claimant = x->t.dir == TD_PUSH && a->ch == NULL && a->claim == NULL ?
	    a->device : x->t.claimant;
	size_t i;

	if (s == NULL && a->ch != NULL)
		s = a->ch->session;
	memset(ctx, 0, sizeof *ctx);
	ctx->peer_channels = pch;
	ctx->peer_devices = pdev;
	if (s == NULL)
		return;
	for (i = 0; i < s->nparticipants && ctx->npeers < TRANSFER_MAX_CONFIRM; i++) {
		if (participant != NULL && strcmp(s->participants[i].name, participant) == 0)
			continue;
		pch[ctx->npeers] = s->participants[i].channel->id;
		pdev[ctx->npeers++] = s->participants[i].channel->device;
	}
	ctx->claimant_in_session = claimant != NULL && claimant[0] != '\0' &&
	    core_device_channel(s, claimant) != NULL;
}

static void
actor_fill(struct transfer_actor *ta, const struct core_actor *a, const struct core_xfer *x)
{
	memset(ta, 0, sizeof *ta);
	if (a->ch != NULL) {
		ta->kind = TA_CHANNEL;
		ta->device = a->ch->device;
		ta->session = a->ch->session->id;
		ta->participant = a->ch->participant;
		ta->channel = a->ch->id;
	} else if (a->claim != NULL) {
		ta->kind = TA_CLAIMANT;
		ta->device = x->t.claimant;
	} else {
		ta->kind = TA_ANON;
		ta->device = a->device;
		ta->claim = a->chosen_claim;
	}
}

static void xfer_commit(struct xfer_call *);
static void call_run(struct core_op *);

/* After store_barrier: a device's call runs again on what memory now holds. */
static void
call_again(void *arg, enum store_err err, const char *cause)
{
	struct xfer_call *xc = arg;
	struct core_status st;

	if (err != STORE_OK) {
		status_set(&st, CE_CONFLICT, "another server's change of the transfer came first, "
		    "and this one has not heard it yet: try again");
		log_debug("transfer %s: a call not run again: %s", xc->x->t.id, cause);
		call_finish(xc, &st);
		return;
	}
	free(xc->r.claim);
	xc->r.claim = xc->reply.claim = NULL;
	xc->reply.role[0] = xc->reply.match[0] = '\0';
	xc->final_err = CE_OK;
	xc->final_msg = NULL;
	call_run(&xc->op);
}

/*
 * A shared store refused a device's call: another server changed the
 * transfer first (cancelled it, took its scan). Once this server has heard
 * that change, the call is decided again on it, once: the caller hears
 * what a call made after that change would (cancelled, already claimed),
 * not a conflict. 1 if so.
 */
static int
call_hear(struct xfer_call *xc, enum store_err err)
{
	if (err != STORE_CONFLICT || xc->heard || !store_shared(xc->core->store) ||
	    (xc->kind != XC_IMAGE && xc->kind != XC_CONFIRM && xc->kind != XC_REJECT &&
	    xc->kind != XC_CANCEL))
		return 0;
	xc->heard = 1;
	store_barrier(xc->core->store, call_again, xc);
	return 1;
}

/* The copy is durable: it is the record now; announce, alert, switch or answer. */
static void
call_written(void *arg, enum store_err err, uint64_t rev, const char *cause)
{
	struct xfer_call *xc = arg;
	struct core *c = xc->core;
	struct core_xfer *x = xc->x;
	struct core_status st;
	int prev = (int)x->t.state;

	if (call_hear(xc, err))
		return;
	if (err != STORE_OK) {
		status_set(&st, err == STORE_CONFLICT ? CE_CONFLICT : core_store_err(c), cause);
		if (xc->kind == XC_ROTATE) {
			/* The old secret stays in force; the next try is a period away. */
			log_warnx("transfer %s: its new code was not saved: %s", x->t.id, cause);
			rotor_arm(c, x, core_now_ms() + x->t.rotate_ms);
		}
		call_finish(xc, &st);
		return;
	}
	/* Another server's later change, seen first, holds this one already (a shared store). */
	if (rev > x->rev || xc->kind == XC_CREATE) {
		x->t = xc->next;
		x->rev = rev;
	}
	if (xc->kind == XC_CREATE || xc->kind == XC_ROTATE) {
		xfer_secret_set(x, xc->secret);	/* in clear in memory only, for GET .../code */
		xc->secret = NULL;
		rotor_arm(c, x, x->t.rotates_at);
	}
	if (xc->kind == XC_ROTATE)
		announce_code(c, x);
	if (xc->kind == XC_CREATE) {
		prev = -1;
		x->claim = xc->reply.claim != NULL ? xstrdup(xc->reply.claim) : NULL;
		xfer_index(c, x);
		xfer_arm(c, x);
	}
	if (xc->r.claim != NULL && xc->te == TE_OK) {
		free(x->claim);
		x->claim = xstrdup(xc->r.claim);
		strmap_put(c->claims, x->t.claim_hash, x);
	}
	announce_from(c, x, prev, AN_MINE_FAILPOINTS);
	if (xc->r.alert)
		core_xfer_alert(c, x, xc->te == TE_ALREADY_CLAIMED ? "already_claimed" :
		    "wrong_device", xc->actor.ch ? xc->actor.ch->device : xc->actor.device);
	if (xc->te == TE_OK && xc->r.commit) {
		xfer_commit(xc);
		return;
	}
	call_refused(xc);
}

/*
 * A shared store: a transfer is failed (cancelled, rejected, expired,
 * refused) only behind a fence, a rewrite of its session's document, so that
 * a switch another server may be writing for it fails its compare instead of
 * landing beside the failure; a switch the fence finds wins. Once per
 * revision of the session.
 */
struct fence {
	struct session_change chg;
	struct core_xfer *x;
	struct xfer_call *xc;		/* a call's failure waits for it; NULL: the deadline's */
};

/* The fence itself: its session's document again, with no entry. */
static void
fence_submit(struct core_xfer *x, struct xfer_call *xc,
    void (*done)(struct session_change *, const struct core_status *))
{
	struct fence *f = xcalloc(1, sizeof *f);

	f->x = x;
	f->xc = xc;
	session_change_init(&f->chg, x->core, xfer_session(x->core, x));
	f->chg.entry_type = NULL;
	f->chg.done = done;
	session_change_submit(&f->chg);
}

static void	call_persist(struct xfer_call *);

static int
call_needs_fence(const struct xfer_call *xc)
{
	struct core_session *s = xfer_session(xc->core, xc->x);

	return store_shared(xc->core->store) && xc->next.state == TS_FAILED &&
	    xc->x->t.state != TS_FAILED && s != NULL && !s->ended && xc->x->fenced_rev != s->rev;
}

static void
call_fenced(struct session_change *chg, const struct core_status *st)
{
	struct fence *f = (struct fence *)chg;
	struct xfer_call *xc = f->xc;
	struct core_session *s = chg->s;
	struct core_status cs;

	session_change_free(chg);
	free(f);
	if ((st->err == CE_OK || st->err == CE_SESSION_ENDED) &&
	    core_xfer_switched(xc->core, xc->x) == NULL) {
		xc->x->fenced_rev = s->rev;
		call_persist(xc);
		return;
	}
	if ((st->err == CE_OK || st->err == CE_CONFLICT) && call_hear(xc, STORE_CONFLICT))
		return;
	status_set(&cs, st->err == CE_OK || st->err == CE_CONFLICT ? CE_CONFLICT : st->err,
	    "another server's switch, or change of the session, came first");
	call_finish(xc, &cs);
}

static void
call_fence(struct xfer_call *xc)
{
	fence_submit(xc->x, xc, call_fenced);
}

/* Writes the copy if it differs from the record; else answers at once. */
static void
call_persist(struct xfer_call *xc)
{
	struct core_xfer *x = xc->x;
	cJSON *doc;
	char *json;

	/*
	 * Every condition met: the switch is the next write, and its session
	 * document commits the transfer too (a crash before it: interrupted).
	 */
	if (xc->kind != XC_CREATE && xc->te == TE_OK && xc->r.commit) {
		xfer_commit(xc);
		return;
	}
	if (xc->kind != XC_CREATE && memcmp(&xc->next, &x->t, sizeof x->t) == 0) {
		if (xc->r.alert)
			core_xfer_alert(xc->core, x, xc->te == TE_ALREADY_CLAIMED ?
			    "already_claimed" : "wrong_device",
			    xc->actor.ch ? xc->actor.ch->device : xc->actor.device);
		if (xc->te == TE_OK && xc->r.commit) {
			xfer_commit(xc);
			return;
		}
		call_refused(xc);
		return;
	}
	if (call_needs_fence(xc)) {
		call_fence(xc);
		return;
	}
	doc = transfer_to_json(&xc->next, 1);
	json = json_print(doc);
	cJSON_Delete(doc);
	store_put(xc->core->store, STORE_TRANSFER, x->t.id,
	    xc->kind == XC_CREATE ? STORE_REV_CREATE : x->rev, json, strlen(json), NULL,
	    call_written, xc);
	free(json);
}

static void
call_run(struct core_op *op)
{
	struct xfer_call *xc = (struct xfer_call *)op;
	struct core *c = xc->core;
	struct core_xfer *x = xc->x;
	const char *pch[TRANSFER_MAX_CONFIRM], *pdev[TRANSFER_MAX_CONFIRM];
	struct transfer_actor ta;
	struct transfer_ctx ctx;
	long long now = core_now_ms();

	xc->next = x->t;
	memset(&xc->r, 0, sizeof xc->r);
	actor_fill(&ta, &xc->actor, x);
	switch (xc->kind) {
	case XC_CREATE:
		break;
	case XC_IMAGE:
		ctx_fill(c, &ctx, pch, pdev, x, &xc->actor);
		xc->te = transfer_image(&xc->next, &ta, &ctx, xc->decoded, now, &xc->r);
		if (xc->te == TE_OK) {
			snprintf(xc->reply.role, sizeof xc->reply.role, "%s", xc->r.role);
			snprintf(xc->reply.match, sizeof xc->reply.match, "%s", xc->r.match);
			if (xc->r.claim != NULL)
				xc->reply.claim = xc->r.claim;
		}
		break;
	case XC_CONFIRM:
		xc->te = transfer_confirm(&xc->next, &ta, xc->match, xc->check, now, &xc->r);
		break;
	case XC_REJECT:
		xc->te = transfer_reject(&xc->next, &ta, now);
		break;
	case XC_CANCEL:
		xc->te = transfer_cancel(&xc->next, now);
		break;
	case XC_EXPIRE:
		if (!transfer_expire(&xc->next, now) && !transfer_terminal(&x->t))
			xfer_arm(c, x);	/* woke a little early */
		break;
	case XC_FAIL:
		transfer_fail(&xc->next, xc->reason, now);
		break;
	case XC_ROTATE:
		/* Computed here, written next, in force (and told) once written. */
		if (!transfer_rotation_due(&x->t, now) ||
		    transfer_rotate(&xc->next, now, &xc->secret) != 0)
			rotor_arm(c, x, x->t.rotates_at);	/* early, or nothing to do */
		break;
	}
	call_persist(xc);
}

static struct xfer_call *
call_new(struct core *c, struct core_xfer *x, enum xc_kind kind, core_xfer_cb cb, void *arg)
{
	struct xfer_call *xc = xcalloc(1, sizeof *xc);

	xc->op.run = call_run;
	xc->core = c;
	xc->x = x;
	xc->kind = kind;
	xc->cb = cb;
	xc->arg = arg;
	return xc;
}

static void
xfer_submit(struct core *c, struct core_xfer *x, enum xc_kind kind, const char *reason)
{
	struct xfer_call *xc = call_new(c, x, kind, NULL, NULL);

	xc->reason = reason;
	lane_submit(&x->lane, &xc->op);
}

/* ---- the switch ---- */

struct switch_change {
	struct session_change chg;
	struct xfer_call *xc;
	struct core_channel *old;
};

/* Its turn: the origin still speaks, the new device has no channel in the session yet. */
static int
switch_prepare(struct session_change *chg, cJSON *entry, struct core_status *st)
{
	struct switch_change *sw = (struct switch_change *)chg;
	struct transfer *t = &sw->xc->next;
	struct core_channel *old = sw->old;

	if (!old->open) {
		status_set(st, CE_GONE, "origin_gone");
		return -1;
	}
	if (core_device_channel(chg->s, t->claimant) != NULL) {
		status_set(st, CE_CONFLICT, "device_in_use");
		return -1;
	}
	/* The new device goes on right after the last entry the old one was delivered. */
	chg->open[0].start_seq = (old->delivered_seq > old->start_seq - 1 ? old->delivered_seq :
	    old->start_seq - 1) + 1;
	cJSON_AddStringToObject(entry, "event", "participant.moved");
	cJSON_AddStringToObject(entry, "participant", old->participant);
	cJSON_AddStringToObject(entry, "from", old->device);
	cJSON_AddStringToObject(entry, "to", t->claimant);
	cJSON_AddStringToObject(entry, "transfer", t->id);
	return 0;
}

static void
completed_written(void *arg, enum store_err err, uint64_t rev, const char *cause)
{
	struct core_xfer *x = arg;

	/* The session's document says completed already: a restart reads it so. */
	if (err != STORE_OK)
		log_warnx("transfer %s: completed, but its document says not yet: %s", x->t.id,
		    cause);
	else
		x->rev = rev;
}

/*
 * The switch is made: the record follows, every other code of the origin
 * fails. (recovered: found made at start, its events told before the crash.)
 */
static void
switch_made(struct core *c, struct core_xfer *x, const struct transfer *computed,
    struct core_channel *old, const char *new_id, int recovered)
{
	struct transfer next = *computed;
	struct core_xfer *y, *ny;
	cJSON *doc, *extra;
	char *json;
	int prev = (int)x->t.state;

	transfer_finish(&next, new_id, core_now_ms());
	x->t = next;
	failpoint("transfer-completed-doc");
	doc = transfer_to_json(&next, 1);
	json = json_print(doc);
	cJSON_Delete(doc);
	/* Derived from the session's document: nobody waits for it to be durable. */
	store_put_later(c->store, STORE_TRANSFER, x->t.id, x->rev, json, strlen(json),
	    completed_written, x);
	free(json);
	if (!recovered) {
		extra = cJSON_CreateObject();
		cJSON_AddStringToObject(extra, "participant", old->participant);
		cJSON_AddStringToObject(extra, "from", old->device);
		cJSON_AddStringToObject(extra, "to", x->t.claimant);
		cJSON_AddStringToObject(extra, "transfer", x->t.id);
		core_event(c, "participant.moved", old->session, extra);
	}
	announce_from(c, x, prev, AN_MINE);
	for (y = TAILQ_FIRST(&c->xopen); y != NULL; y = ny) {
		ny = TAILQ_NEXT(y, entry);
		if (y != x && strcmp(y->t.origin_channel, old->id) == 0)
			xfer_submit(c, y, XC_FAIL, "origin_gone");
	}
}

/* Fails the transfer whose lane xc holds, then answers with it. */
static void
commit_refused(struct xfer_call *xc, const char *reason)
{
	struct core_status st;

	/*
	 * A shared store: another server's switch came first (its session shows
	 * it), or the session moved on meanwhile. Failing the transfer could
	 * undo what that switch did: nothing is written, the caller hears so.
	 */
	if (store_shared(xc->core->store) &&
	    (core_xfer_switched(xc->core, xc->x) != NULL || strcmp(reason, "conflict") == 0)) {
		if (call_hear(xc, STORE_CONFLICT))
			return;
		status_set(&st, CE_CONFLICT, "another device's scan, or another server's change of "
		    "the session, came first");
		call_finish(xc, &st);
		return;
	}
	transfer_fail(&xc->next, reason, core_now_ms());
	xc->te = TE_OK;
	xc->r.commit = 0;
	xc->r.alert = 0;
	call_persist(xc);
}

static void
switch_done(struct session_change *chg, const struct core_status *st)
{
	struct switch_change *sw = (struct switch_change *)chg;
	struct xfer_call *xc = sw->xc;
	struct core_channel *old = sw->old;
	struct core_status ok;
	char new_id[PAYLOAD_ID_LEN + 1];

	snprintf(new_id, sizeof new_id, "%s", chg->open[0].id);
	session_change_free(chg);
	free(sw);
	if (st->err == CE_OK) {
		failpoint("handover-saved");
		if (xc->r.claim != NULL && xc->x->claim == NULL) {
			xc->x->claim = xstrdup(xc->r.claim);
			strmap_put(xc->core->claims, xc->next.claim_hash, xc->x);
		}
		switch_made(xc->core, xc->x, &xc->next, old, new_id, 0);
		status_set(&ok, CE_OK, NULL);
		call_finish(xc, &ok);
		return;
	}
	if (st->err == CE_STORE || st->err == CE_UNAVAILABLE) {
		log_warnx("transfer %s: the switch was not written: %s", xc->x->t.id, st->msg);
		xc->final_err = st->err;
		xc->final_msg = "the switch could not be written";
		commit_refused(xc, "internal");
		return;
	}
	commit_refused(xc, st->msg != NULL && strcmp(st->msg, "device_in_use") == 0 ?
	    "device_in_use" : st->err == CE_SESSION_ENDED ? "session_ended" :
	    st->err == CE_CONFLICT && store_shared(xc->core->store) ? "conflict" : "origin_gone");
}

/* Every condition is met: one session change moves the participant. */
static void
xfer_commit(struct xfer_call *xc)
{
	struct core *c = xc->core;
	struct core_xfer *x = xc->x;
	struct transfer *t = &xc->next;
	struct core_channel *old = strmap_get(c->channels, t->origin_channel);
	const char *claim = x->claim != NULL ? x->claim : xc->r.claim;
	struct switch_change *sw;

	state_failpoints_from((int)x->t.state, TS_VERIFIED);
	if (old == NULL || !old->open) {
		commit_refused(xc, "origin_gone");
		return;
	}
	/* The claim's public key seals the token: any server can make the switch. */
	if (claim == NULL && t->claim_pub[0] == '\0') {
		commit_refused(xc, "internal");
		return;
	}
	if (!xc->committing) {		/* once, though the call may run again (call_hear) */
		xc->committing = 1;
		announce_state(c, x, TS_COMMITTING, AN_MINE);
		failpoint("transfer-committing");
	}
	sw = xcalloc(1, sizeof *sw);
	sw->xc = xc;
	sw->old = old;
	session_change_init(&sw->chg, c, old->session);
	sw->chg.open = xcalloc(1, sizeof *sw->chg.open);
	sw->chg.nopen = 1;
	chan_new_fill(&sw->chg.open[0], old->participant, t->claimant);
	sw->chg.open[0].opened_by = t->id;
	sw->chg.open[0].claim_hash = t->claim_hash;
	sw->chg.open[0].token_box = t->claim_pub[0] != '\0' ?
	    transfer_seal_to(t->claim_pub, sw->chg.open[0].token) :
	    transfer_seal(claim, sw->chg.open[0].token);
	if (sw->chg.open[0].token_box == NULL) {
		/* A claim key that seals nothing (a damaged record): no switch the claimant could not use. */
		session_change_free(&sw->chg);
		free(sw);
		commit_refused(xc, "internal");
		return;
	}
	sw->chg.close = old;
	sw->chg.close_reason = "transferred";
	sw->chg.close_to = t->claimant;
	sw->chg.prepare = switch_prepare;
	sw->chg.done = switch_done;
	session_change_submit(&sw->chg);
}

/* ---- expiry ---- */

/*
 * A shared store, a transfer's deadline: the server that took its last step
 * may be writing the switch right now, in the session's document, or may
 * have died after it and before the record said so. The session's document
 * is written again first (a fence: the same document, the next revision), so
 * a switch still on its way fails its compare; then the switch, if the
 * document has it, completes the transfer, else the deadline fails it.
 */
static void
fence_done(struct session_change *chg, const struct core_status *st)
{
	struct fence *f = (struct fence *)chg;
	struct core_xfer *x = f->x;
	struct core *c = x->core;
	struct core_channel *sw;
	struct timeval tv = { 0, 50 * 1000 };

	session_change_free(chg);
	free(f);
	if (transfer_terminal(&x->t))
		return;
	if (st->err == CE_OK)
		x->fenced_rev = xfer_session(c, x)->rev;	/* the failure below needs no other */
	if ((sw = core_xfer_switched(c, x)) != NULL)
		xfer_recover_one(c, x, sw);
	else if (st->err == CE_OK || st->err == CE_SESSION_ENDED)
		xfer_submit(c, x, x->t.state == TS_COMMITTING ? XC_FAIL : XC_EXPIRE,
		    x->t.state == TS_COMMITTING ? "interrupted" : NULL);
	else if (x->timer != NULL)
		evtimer_add(x->timer, &tv);	/* the document moved on: again once it is seen */
}

static void
xfer_fence(struct core_xfer *x)
{
	fence_submit(x, NULL, fence_done);
}

static void
xfer_timer(evutil_socket_t fd, short what, void *arg)
{
	struct core_xfer *x = arg;

	(void)fd;
	(void)what;
	if (transfer_terminal(&x->t))
		return;
	if (store_shared(x->core->store) && xfer_session(x->core, x) != NULL)
		xfer_fence(x);
	else
		xfer_submit(x->core, x, XC_EXPIRE, NULL);
}

/* One of a transfer's timers (*ev, made on first use) set to fire at `at`, ms since the epoch. */
static void
xfer_timer_at(struct core *c, struct core_xfer *x, struct event **ev, event_callback_fn cb,
    long long at)
{
	long long left = at - core_now_ms();
	struct timeval tv;

	if (left < 0)
		left = 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000 + 1000;
	if (*ev == NULL)
		*ev = evtimer_new(c->base, cb, x);
	evtimer_add(*ev, &tv);
}

static void
xfer_arm(struct core *c, struct core_xfer *x)
{
	if (c->base == NULL || transfer_terminal(&x->t))
		return;
	xfer_timer_at(c, x, &x->timer, xfer_timer, x->t.expires_at);
}

/* ---- rotation ---- */

static void
rotor_fire(evutil_socket_t fd, short what, void *arg)
{
	struct core_xfer *x = arg;

	(void)fd;
	(void)what;
	if (x->t.state == TS_ISSUED)
		xfer_submit(x->core, x, XC_ROTATE, NULL);
}

/* The next rotation at `at` (ms since the epoch), while the code is issued and lives. */
static void
rotor_arm(struct core *c, struct core_xfer *x, long long at)
{
	if (c->base == NULL || x->t.state != TS_ISSUED || x->t.rotate_ms <= 0 ||
	    at >= x->t.expires_at)
		return;
	xfer_timer_at(c, x, &x->rotor, rotor_fire, at);
}

static void
rotor_stop(struct core_xfer *x)
{
	if (x->rotor != NULL) {
		event_free(x->rotor);
		x->rotor = NULL;
	}
}

int
core_xfer_code(struct core *c, struct core_xfer *x, char **payload, struct core_status *st)
{
	core_xfer_touch(c, x);
	if (transfer_terminal(&x->t)) {
		status_set(st, CE_TRANSFER, transfer_state_name(x->t.state));
		st->te = strcmp(x->t.reason, "expired") == 0 ? TE_EXPIRED : TE_ENDED;
		return -1;
	}
	/* Past its lifetime, before the expiry is settled in the store: over all the same. */
	if (x->t.state < TS_COMMITTING && x->t.expires_at <= core_now_ms()) {
		status_set(st, CE_TRANSFER, "the code expired");
		st->te = TE_EXPIRED;
		return -1;
	}
	if (x->t.state != TS_ISSUED) {
		status_set(st, CE_TRANSFER, "the code was scanned: it is not shown any more");
		st->te = TE_BAD_STATE;
		return -1;
	}
	if (x->secret == NULL) {
		status_set(st, CE_TRANSFER, "the server no longer holds this code (it started again "
		    "since): ask for a new one");
		st->te = TE_BAD_STATE;
		return -1;
	}
	*payload = xfer_payload(c, x, x->secret);
	status_set(st, CE_OK, NULL);
	return 0;
}

void
core_xfer_touch(struct core *c, struct core_xfer *x)
{
	if (!transfer_terminal(&x->t) && x->t.state < TS_COMMITTING &&
	    core_now_ms() >= x->t.expires_at)
		xfer_submit(c, x, XC_EXPIRE, NULL);
}

/* A session's end fails its open transfers. */
static void
xfer_session_ended(struct core *c, struct core_session *s)
{
	struct core_xfer *x, *nx;

	for (x = TAILQ_FIRST(&c->xopen); x != NULL; x = nx) {
		nx = TAILQ_NEXT(x, entry);
		if (strcmp(x->t.session, s->id) == 0)
			xfer_submit(c, x, XC_FAIL, "session_ended");
	}
}

void
core_xfer_init(struct core *c)
{
	c->session_ended = xfer_session_ended;
}

/* ---- the calls ---- */

/*
 * The payload a transfer's code carries for this secret: every code is built
 * here. Signed (design.md 7.1): it says what it will do, the server vouches.
 */
static char *
xfer_payload(struct core *c, const struct core_xfer *x, const char *secret)
{
	const struct transfer *t = &x->t;
	struct core_session *s = xfer_session(c, x);
	struct payload p;
	char *out;

	if (!c->have_sign)
		return transfer_payload(t, secret);
	memset(&p, 0, sizeof p);
	p.kind = PAYLOAD_TRANSFER;
	snprintf(p.id, sizeof p.id, "%s", t->id);
	snprintf(p.secret, sizeof p.secret, "%s", secret);
	snprintf(p.desc.dir, sizeof p.desc.dir, "%s", t->dir == TD_PULL ? "pull" : "push");
	if (s != NULL && strlen(s->kind) <= PAYLOAD_KIND_MAX)
		snprintf(p.desc.kind, sizeof p.desc.kind, "%s", s->kind);
	if (t->dir == TD_PUSH) {
		payload_desc_name(p.desc.participant, t->participant);
		payload_desc_name(p.desc.device, t->origin_device);
	} else
		payload_desc_name(p.desc.device, t->target);
	payload_desc_name(p.desc.server, c->name);
	p.desc.expires = t->expires_at / 1000;
	payload_sign(&p, c->sign_sk);
	out = payload_format(&p);
	explicit_bzero(&p, sizeof p);
	return out;
}

static void
create_submit(struct core *c, struct transfer *t, char *secret, char *claim, core_xfer_cb cb,
    void *arg)
{
	struct core_xfer *x = xfer_alloc(c, t);
	struct xfer_call *xc = call_new(c, x, XC_CREATE, cb, arg);

	xc->secret = secret;		/* kept in memory once the record is written */
	xc->reply.payload = xfer_payload(c, x, secret);
	xc->reply.claim = claim;	/* freed with the call */
	transfer_free(t);
	lane_submit(&x->lane, &xc->op);
}

void
core_xfer_push(struct core *c, struct core_channel *origin, const char *to, long long ttl_ms,
    long long rotate_ms, int confirm, int proof, core_xfer_cb cb, void *arg)
{
	struct transfer_actor ta;
	struct core_actor a = { origin, NULL, NULL, NULL };
	struct transfer *t;
	char *secret;

	actor_fill(&ta, &a, NULL);
	t = transfer_new_push(&ta, to, (enum transfer_proof)proof, (enum transfer_confirm)confirm,
	    core_now_ms(), ttl_ms, &secret);
	transfer_set_rotation(t, rotate_ms, t->created_at);
	create_submit(c, t, secret, NULL, cb, arg);
}

size_t
core_xfer_live_offers(const struct core *c)
{
	const struct core_xfer *x;
	size_t n = 0;

	TAILQ_FOREACH(x, &c->xopen, entry)
		if (x->t.dir == TD_PULL && x->t.state == TS_ISSUED)
			n++;
	return n;
}

void
core_xfer_pull(struct core *c, const char *device, struct core_session *s, long long ttl_ms,
    long long rotate_ms, int confirm, int proof, core_xfer_cb cb, void *arg)
{
	struct transfer *t;
	char *secret, *claim;

	t = transfer_new_pull(device, s != NULL ? s->id : NULL, (enum transfer_proof)proof,
	    (enum transfer_confirm)confirm, core_now_ms(), ttl_ms, &secret, &claim);
	transfer_set_rotation(t, rotate_ms, t->created_at);
	create_submit(c, t, secret, claim, cb, arg);
}

void
core_xfer_image(struct core *c, struct core_xfer *x, const struct core_actor *a,
    const char *decoded, core_xfer_cb cb, void *arg)
{
	struct xfer_call *xc = call_new(c, x, XC_IMAGE, cb, arg);

	xc->actor = *a;
	xc->decoded = decoded != NULL ? xstrdup(decoded) : NULL;
	lane_submit(&x->lane, &xc->op);
}

void
core_xfer_confirm(struct core *c, struct core_xfer *x, struct core_channel *ch,
    const char *match, const char *check, core_xfer_cb cb, void *arg)
{
	struct xfer_call *xc = call_new(c, x, XC_CONFIRM, cb, arg);

	xc->actor.ch = ch;
	xc->match = match != NULL ? xstrdup(match) : NULL;
	xc->check = check != NULL ? xstrdup(check) : NULL;
	lane_submit(&x->lane, &xc->op);
}

void
core_xfer_reject(struct core *c, struct core_xfer *x, const struct core_actor *a,
    core_xfer_cb cb, void *arg)
{
	struct xfer_call *xc = call_new(c, x, XC_REJECT, cb, arg);

	xc->actor = *a;
	lane_submit(&x->lane, &xc->op);
}

void
core_xfer_cancel(struct core *c, struct core_xfer *x, core_xfer_cb cb, void *arg)
{
	lane_submit(&x->lane, &call_new(c, x, XC_CANCEL, cb, arg)->op);
}

int
core_xfer_token(struct core *c, struct core_xfer *x, const char *claim, char **token,
    struct core_channel **out, struct core_status *st)
{
	struct core_channel *ch;

	if (!transfer_is_claim(&x->t, claim)) {
		status_set(st, CE_FORBIDDEN, "not the claim secret of this transfer");
		return -1;
	}
	if (x->t.state != TS_COMPLETED) {
		status_set(st, CE_TRANSFER, transfer_state_name(x->t.state));
		st->te = x->t.state == TS_FAILED ? TE_ENDED : TE_BAD_STATE;
		return -1;
	}
	ch = strmap_get(c->channels, x->t.new_channel);
	if (ch == NULL || !ch->open || ch->token_box == NULL) {
		status_set(st, CE_GONE, "the new channel's token was collected and used already");
		return -1;
	}
	if ((*token = transfer_unseal(claim, ch->token_box)) == NULL) {
		status_set(st, CE_STORE, "the sealed token cannot be opened");
		return -1;
	}
	*out = ch;
	status_set(st, CE_OK, NULL);
	return 0;
}

/* ---- loading and recovery ---- */

int
xfer_from_doc(struct core *c, const cJSON *doc, uint64_t rev, char **cause)
{
	struct transfer *t;
	struct core_xfer *x;

	if ((t = transfer_from_json(doc, cause)) == NULL)
		return -1;
	if (core_xfer_find(c, t->id) != NULL) {
		*cause = xprintf("duplicate transfer %s", t->id);
		transfer_free(t);
		return -1;
	}
	x = xfer_alloc(c, t);
	x->rev = rev;
	transfer_free(t);
	xfer_index(c, x);
	return 0;
}

/*
 * An open transfer after a restart: completed if its switch is in the session
 * document (switched: its new channel), else failed "interrupted".
 */
void
xfer_recover_one(struct core *c, struct core_xfer *x, struct core_channel *switched)
{
	struct core_channel *old = strmap_get(c->channels, x->t.origin_channel);

	if (switched == NULL || old == NULL) {
		xfer_submit(c, x, XC_FAIL, "interrupted");
		return;
	}
	/* The switch's document knows the claimant and its claim when the record does not. */
	if (x->t.claim_hash[0] == '\0' && switched->claim_hash != NULL) {
		snprintf(x->t.claim_hash, sizeof x->t.claim_hash, "%s", switched->claim_hash);
		strmap_put(c->claims, x->t.claim_hash, x);
	}
	if (x->t.claimant[0] == '\0')
		snprintf(x->t.claimant, sizeof x->t.claimant, "%s", switched->device);
	x->lane.busy = 1;
	switch_made(c, x, &x->t, old, switched->id, 1);
	lane_done(&x->lane);
}

struct core_channel *
core_xfer_switched(struct core *c, const struct core_xfer *x)
{
	struct core_session *s = core_session_find(c, x->t.session);
	size_t i;

	for (i = 0; s != NULL && i < s->nchannels; i++)
		if (s->channels[i]->opened_by != NULL &&
		    strcmp(s->channels[i]->opened_by, x->t.id) == 0)
			return s->channels[i];
	return NULL;
}

/*
 * Another server's record of a transfer (a shared store): a new one is
 * indexed and its deadline armed; a newer one replaces the record in memory
 * and its new states are told to this server's streams (not logged again).
 */
int
xfer_follow_doc(struct core *c, const cJSON *doc, uint64_t rev, char **cause)
{
	struct transfer *t;
	struct core_xfer *x;
	int prev;

	if ((t = transfer_from_json(doc, cause)) == NULL)
		return -1;
	if ((x = core_xfer_find(c, t->id)) == NULL) {
		x = xfer_alloc(c, t);
		x->rev = rev;
		xfer_index(c, x);
		xfer_arm(c, x);
		prev = -1;
	} else if (rev > x->rev) {
		prev = (int)x->t.state;
		x->t = *t;
		x->rev = rev;
		if (x->t.claim_hash[0] != '\0')
			strmap_put(c->claims, x->t.claim_hash, x);
		xfer_arm(c, x);
	} else {
		transfer_free(t);
		return 0;
	}
	transfer_free(t);
	announce_from(c, x, prev, AN_PEER);
	return 0;
}

void
xfer_free(struct core_xfer *x)
{
	if (x->timer != NULL)
		event_free(x->timer);
	if (x->rotor != NULL)
		event_free(x->rotor);
	if (x->secret != NULL) {
		explicit_bzero(x->secret, strlen(x->secret));
		free(x->secret);
	}
	if (x->claim != NULL) {
		explicit_bzero(x->claim, strlen(x->claim));
		free(x->claim);
	}
	free(x);
}

/*
 * A settled transfer removed from the store (retention, here or by another
 * server): gone from memory too. -1 if it is not settled or a call is on it.
 */
int
xfer_forget(struct core *c, struct core_xfer *x)
{
	size_t i;

	if (!transfer_terminal(&x->t) || x->lane.busy || !TAILQ_EMPTY(&x->lane.q))
		return -1;
	for (i = 0; i < c->nxfers; i++)
		if (c->xlist[i] == x) {
			memmove(&c->xlist[i], &c->xlist[i + 1], (c->nxfers - i - 1) * sizeof *c->xlist);
			c->nxfers--;
			break;
		}
	strmap_del(c->transfers, x->t.id);
	if (x->t.claim_hash[0] != '\0' && strmap_get(c->claims, x->t.claim_hash) == x)
		strmap_del(c->claims, x->t.claim_hash);
	xfer_close(c, x);
	xfer_free(x);
	return 0;
}
