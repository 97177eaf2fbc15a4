/*
 * The transfer engine around the pure state machine (common/transfer.c): the
 * index of transfers, every transition persisted then announced, expiry
 * timers, the switch (make before break) and recovery after a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failpoint.h"
#include "json.h"
#include "log.h"
#include "rand.h"
#include "serve.h"
#include "transfer.h"
#include "xmalloc.h"

/* Failed attempts allowed per peer uid in the sliding window (design.md 8). */
#define RATE_FAILS		10
#define RATE_WINDOW_MS		60000

static const char *const state_failpoints[] = {
	"transfer-issued", "transfer-scanned", "transfer-verified", "transfer-committing",
	NULL, NULL
};

void
xfer_init(struct server *srv)
{
	srv->transfers = strmap_new();
	srv->claims = strmap_new();
	srv->invites = strmap_new();
	srv->owners = strmap_new();
	srv->fails = strmap_new();
	TAILQ_INIT(&srv->xopen);
}

struct xfer *
xfer_find(struct server *srv, const char *id)
{
	return id != NULL ? strmap_get(srv->transfers, id) : NULL;
}

static void
xfer_close(struct server *srv, struct xfer *x)
{
	if (x->open) {
		TAILQ_REMOVE(&srv->xopen, x, entry);
		srv->nopen--;
		x->open = 0;
	}
	if (x->timer != NULL) {
		event_free(x->timer);
		x->timer = NULL;
	}
	if (x->claim != NULL) {
		explicit_bzero(x->claim, strlen(x->claim));
		free(x->claim);
		x->claim = NULL;
	}
}

/* Indexes t (taken over, like claim: the claim secret in clear, or NULL). */
struct xfer *
xfer_add(struct server *srv, struct transfer *t, char *claim)
{
	struct xfer *x = xcalloc(1, sizeof *x);

	x->srv = srv;
	x->t = t;
	x->claim = claim;
	if (srv->nxfers == srv->xcap) {
		srv->xcap = srv->xcap ? srv->xcap * 2 : 64;
		srv->xlist = xreallocarray(srv->xlist, srv->xcap, sizeof *srv->xlist);
	}
	srv->xlist[srv->nxfers++] = x;
	strmap_put(srv->transfers, t->id, x);
	if (t->claim_hash[0] != '\0')
		strmap_put(srv->claims, t->claim_hash, x);
	if (!transfer_terminal(t)) {
		TAILQ_INSERT_TAIL(&srv->xopen, x, entry);
		srv->nopen++;
		x->open = 1;
	}
	return x;
}

int
xfer_save(struct server *srv, struct xfer *x, char **cause)
{
	cJSON *doc = transfer_to_json(x->t, 1);
	int rv;

	rv = server_put_doc(srv, STORE_TRANSFER, x->t->id, &x->rev, doc, NULL, cause);
	cJSON_Delete(doc);
	return rv;
}

static cJSON *
targeted_new(const char *event, const char *id)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "type", "event");
	cJSON_AddStringToObject(o, "event", event);
	cJSON_AddStringToObject(o, "transfer", id);
	json_add_time(o, "ts", now_ms());
	return o;
}

/* One event on every open channel of the session (the origin and the peers). */
static void
xfer_tell_session(struct session *s, cJSON *ev)
{
	size_t i;

	for (i = 0; s != NULL && i < s->nchannels; i++)
		if (s->channels[i]->open)
			stream_send_targeted(s->channels[i], ev);
}

static struct session *
xfer_session(struct server *srv, struct xfer *x)
{
	return x->t->session[0] != '\0' ? session_find(srv, x->t->session) : NULL;
}

/* transfer.confirm to each confirmer still to answer; never the match code. */
static void
xfer_ask_confirm(struct server *srv, struct xfer *x, struct channel *only)
{
	struct transfer *t = x->t;
	struct session *s = xfer_session(srv, x);
	struct channel *ch;
	cJSON *ev;
	int i;

	if (s == NULL || t->state != TS_VERIFIED)
		return;
	for (i = 0; i < t->nrequired; i++) {
		if (t->received[i] || (ch = session_device_channel(s, t->required[i])) == NULL ||
		    (only != NULL && ch != only))
			continue;
		ev = targeted_new("transfer.confirm", t->id);
		cJSON_AddStringToObject(ev, "claimant", t->claimant);
		cJSON_AddStringToObject(ev, "participant", t->participant);
		cJSON_AddStringToObject(ev, "direction", t->dir == TD_PUSH ? "push" : "pull");
		stream_send_targeted(ch, ev);
		cJSON_Delete(ev);
	}
}

/* A confirmer's stream (re)starts: it gets the requests still open for it. */
void
xfer_stream_started(struct server *srv, struct channel *ch)
{
	struct xfer *x;

	TAILQ_FOREACH(x, &srv->xopen, entry)
		if (strcmp(x->t->session, ch->session->id) == 0)
			xfer_ask_confirm(srv, x, ch);
}

/* The server event and the targeted event of one state. */
static void
xfer_announce_state(struct server *srv, struct xfer *x, enum transfer_state st)
{
	struct transfer *t = x->t;
	struct session *s = xfer_session(srv, x);
	const char *reason = st == TS_FAILED ? t->reason : NULL;
	cJSON *extra = cJSON_CreateObject(), *ev;
	char *cause = NULL;

	cJSON_AddStringToObject(extra, "transfer", t->id);
	if (s == NULL)
		cJSON_AddNullToObject(extra, "session");
	cJSON_AddStringToObject(extra, "state", transfer_state_name(st));
	if (reason != NULL)
		cJSON_AddStringToObject(extra, "reason", reason);
	else
		cJSON_AddNullToObject(extra, "reason");
	if (server_event(srv, "transfer.state", s, extra, &cause) != 0) {
		log_warnx("transfer %s: %s", t->id, cause);
		free(cause);
	}
	ev = targeted_new("transfer.state", t->id);
	cJSON_AddStringToObject(ev, "state", transfer_state_name(st));
	if (reason != NULL)
		cJSON_AddStringToObject(ev, "reason", reason);
	xfer_tell_session(s, ev);
	cJSON_Delete(ev);
	log_info("transfer %s %s%s%s", t->id, transfer_state_name(st), reason ? ": " : "",
	    reason ? reason : "");
}

/*
 * After a call: a record that changed is saved (durable before the reply),
 * then every state it went through is announced; a terminal one is closed.
 */
int
xfer_settle(struct server *srv, struct xfer *x, int prev_state, int prev_attempts,
    char **cause)
{
	struct transfer *t = x->t;
	int st;

	if ((int)t->state == prev_state && t->attempts_left == prev_attempts)
		return 0;
	if (xfer_save(srv, x, cause) != 0)
		return -1;
	if ((int)t->state == prev_state)
		return 0;
	for (st = prev_state + 1; st <= (int)t->state && t->state != TS_FAILED; st++)
		if (state_failpoints[st] != NULL)
			failpoint(state_failpoints[st]);
	if (t->state == TS_FAILED)
		xfer_announce_state(srv, x, TS_FAILED);
	else
		for (st = prev_state + 1; st <= (int)t->state; st++)
			xfer_announce_state(srv, x, (enum transfer_state)st);
	if (t->state == TS_VERIFIED)
		xfer_ask_confirm(srv, x, NULL);
	if (transfer_terminal(t))
		xfer_close(srv, x);
	return 0;
}

/* transfer.alert: on the origin's stream and in the server events. */
void
xfer_alert(struct server *srv, struct xfer *x, const char *reason, const char *device)
{
	struct channel *origin = strmap_get(srv->channels, x->t->origin_channel);
	cJSON *ev = targeted_new("transfer.alert", x->t->id), *extra;
	char *cause = NULL;

	cJSON_AddStringToObject(ev, "reason", reason);
	if (device != NULL)
		cJSON_AddStringToObject(ev, "device", device);
	if (origin != NULL && origin->open)
		stream_send_targeted(origin, ev);
	cJSON_Delete(ev);
	extra = cJSON_CreateObject();
	cJSON_AddStringToObject(extra, "transfer", x->t->id);
	cJSON_AddStringToObject(extra, "reason", reason);
	if (device != NULL)
		cJSON_AddStringToObject(extra, "device", device);
	if (server_event(srv, "transfer.alert", xfer_session(srv, x), extra, &cause) != 0) {
		log_warnx("transfer %s: %s", x->t->id, cause);
		free(cause);
	}
	log_warnx("transfer %s: alert %s (%s)", x->t->id, reason, device ? device : "?");
}

static void
xfer_fail_now(struct server *srv, struct xfer *x, const char *reason)
{
	struct transfer *t = x->t;
	int prev = (int)t->state;
	char *cause = NULL;

	transfer_fail(t, reason, now_ms());
	t->token_box[0] = '\0';
	if (xfer_settle(srv, x, prev, t->attempts_left, &cause) != 0) {
		log_warnx("transfer %s: %s", t->id, cause);
		free(cause);
		xfer_close(srv, x);
	}
}

static void
xfer_timer(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;
	struct transfer *t = x->t;
	int prev = (int)t->state;
	char *cause = NULL;

	(void)fd;
	(void)what;
	if (!transfer_expire(t, now_ms())) {
		if (!transfer_terminal(t))
			xfer_arm(x->srv, x);	/* woke a little early */
		return;
	}
	if (xfer_settle(x->srv, x, prev, t->attempts_left, &cause) != 0) {
		log_warnx("transfer %s: %s", t->id, cause);
		free(cause);
	}
}

/* Expiry: a timer at expires_at (calls check lazily as well). */
void
xfer_arm(struct server *srv, struct xfer *x)
{
	long long left = x->t->expires_at - now_ms();
	struct timeval tv;

	if (srv->base == NULL)
		return;
	if (left < 0)
		left = 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000 + 1000;
	if (x->timer == NULL)
		x->timer = evtimer_new(srv->base, xfer_timer, x);
	evtimer_add(x->timer, &tv);
}

/*
 * The switch, once every condition is met: committing (with the new
 * channel's id and its token sealed under the claim secret) is durable
 * first, then channel_handover saves the session document (the commit
 * point), then completed. A crash in between is settled by xfer_recover.
 */
int
xfer_commit(struct server *srv, struct xfer *x, char **cause)
{
	struct transfer *t = x->t;
	struct channel *old = strmap_get(srv->channels, t->origin_channel), *ch;
	int prev = (int)t->state;
	char *id, *token;
	cJSON *extra;
	struct xfer *y, *next;

	if (old == NULL || !old->open) {
		xfer_fail_now(srv, x, "origin_gone");
		return 0;
	}
	if (x->claim == NULL) {
		xfer_fail_now(srv, x, "internal");
		return 0;
	}
	transfer_begin_commit(t, now_ms());
	id = rand_id('C');
	token = rand_base32(16);
	transfer_seal_token(t, id, token, x->claim);
	if (xfer_settle(srv, x, prev, t->attempts_left, cause) != 0) {
		free(id);
		free(token);
		xfer_fail_now(srv, x, "internal");
		return -1;
	}
	ch = channel_handover_as(srv, old, t->claimant, t->id, id, token, cause);
	explicit_bzero(token, strlen(token));
	free(token);
	free(id);
	if (ch == NULL) {
		t->new_channel[0] = '\0';
		xfer_fail_now(srv, x, "internal");
		return -1;
	}
	extra = cJSON_CreateObject();
	cJSON_AddStringToObject(extra, "participant", ch->participant);
	cJSON_AddStringToObject(extra, "from", old->device);
	cJSON_AddStringToObject(extra, "to", ch->device);
	cJSON_AddStringToObject(extra, "transfer", t->id);
	if (server_event(srv, "participant.moved", ch->session, extra, cause) != 0) {
		log_warnx("transfer %s: %s", t->id, *cause);
		free(*cause);
		*cause = NULL;
	}
	failpoint("transfer-completed-doc");
	prev = (int)t->state;
	transfer_finish(t, now_ms());
	if (xfer_settle(srv, x, prev, t->attempts_left, cause) != 0) {
		/* The switch is made; the record catches up at the next start. */
		log_warnx("transfer %s: %s", t->id, *cause);
		free(*cause);
		*cause = NULL;
		xfer_close(srv, x);
	}
	/* Other codes of the same origin channel have nothing left to move. */
	TAILQ_FOREACH_SAFE(y, &srv->xopen, entry, next)
		if (strcmp(y->t->origin_channel, old->id) == 0)
			xfer_fail_now(srv, y, "origin_gone");
	return 0;
}

/* A session's end fails its open transfers. */
void
xfer_session_ended(struct server *srv, struct session *s)
{
	struct xfer *x, *next;

	TAILQ_FOREACH_SAFE(x, &srv->xopen, entry, next)
		if (strcmp(x->t->session, s->id) == 0)
			xfer_fail_now(srv, x, "session_ended");
}

/* ---- loading, checking, recovery ---- */

int
xfer_load(struct server *srv, const cJSON *doc, uint64_t rev, char **cause)
{
	struct transfer *t;

	if ((t = transfer_from_json(doc, cause)) == NULL)
		return -1;
	if (xfer_find(srv, t->id) != NULL) {
		*cause = xprintf("duplicate transfer %s", t->id);
		transfer_free(t);
		return -1;
	}
	xfer_add(srv, t, NULL)->rev = rev;
	return 0;
}

/* Whether the session document shows the switch of t: its new channel exists there. */
static struct channel *
xfer_switched(struct server *srv, const struct transfer *t)
{
	struct channel *ch;

	if (t->new_channel[0] == '\0' || (ch = strmap_get(srv->channels, t->new_channel)) == NULL)
		return NULL;
	return strcmp(ch->session->id, t->session) == 0 ? ch : NULL;
}

/* References a transfer record makes that the store must hold (fsck). */
int
xfer_check(struct server *srv, void (*problem)(void *, const char *, const char *, int))
{
	size_t i;
	int problems = 0;
	char *path;
	const char *what;

	for (i = 0; i < srv->nxfers; i++) {
		struct transfer *t = srv->xlist[i]->t;
		what = NULL;
		if (t->session[0] != '\0' && session_find(srv, t->session) == NULL)
			what = "transfer of a session that does not exist";
		else if (t->state == TS_COMPLETED && xfer_switched(srv, t) == NULL)
			what = "completed transfer whose new channel is not in its session";
		if (what == NULL)
			continue;
		path = xprintf("%s/transfers/%s.json", srv->cfg->store_path, t->id);
		problem(srv, path, what, 0);
		free(path);
		problems++;
	}
	return problems;
}

/*
 * After a restart no transfer is left half-way (design.md 3.1): one whose
 * switch is in the session document is completed, every other one that
 * was not completed fails with reason "interrupted" (the session is still
 * on the origin device).
 */
int
xfer_recover(struct server *srv, char **cause)
{
	struct xfer *x, *next;
	struct channel *ch;
	int prev;

	TAILQ_FOREACH_SAFE(x, &srv->xopen, entry, next) {
		struct transfer *t = x->t;
		prev = (int)t->state;
		/*
		 * The switch is in the session document; the participant.moved
		 * entry it carried is in the log (the store appends it at load).
		 */
		if ((ch = xfer_switched(srv, t)) != NULL)
			transfer_finish(t, now_ms());
		else {
			transfer_fail(t, "interrupted", now_ms());
			t->token_box[0] = '\0';
			t->new_channel[0] = '\0';
		}
		if (xfer_settle(srv, x, prev, t->attempts_left, cause) != 0)
			return -1;
	}
	return 0;
}

void
xfer_free_all(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->nxfers; i++) {
		xfer_close(srv, srv->xlist[i]);
		transfer_free(srv->xlist[i]->t);
		free(srv->xlist[i]);
	}
	free(srv->xlist);
	srv->xlist = NULL;
	srv->nxfers = 0;
	strmap_free(srv->transfers, NULL);
	strmap_free(srv->claims, NULL);
	strmap_free(srv->fails, free);
	srv->transfers = srv->claims = srv->fails = NULL;
}

/* ---- the rate limit on failed attempts ---- */

struct fails {
	int64_t	 at[RATE_FAILS];	/* ring of the last failures' times */
	int	 next;
};

/* 0 if uid may try again; else -1 and the seconds until it may. */
int
ratelimit_check(struct server *srv, unsigned int uid, int *retry_after)
{
	char key[16];
	struct fails *f;
	int64_t oldest, now = now_ms();

	snprintf(key, sizeof key, "%u", uid);
	if ((f = strmap_get(srv->fails, key)) == NULL)
		return 0;
	oldest = f->at[f->next];	/* the RATE_FAILS-th failure back */
	if (oldest == 0 || now - oldest >= RATE_WINDOW_MS)
		return 0;
	*retry_after = (int)((RATE_WINDOW_MS - (now - oldest) + 999) / 1000);
	return -1;
}

/* 0 if uid may try again, else 1 after answering 429 with Retry-After. */
int
http_rate_limited(struct req *rq)
{
	char buf[16];
	int retry;

	if (ratelimit_check(rq->srv, rq->uid, &retry) == 0)
		return 0;
	snprintf(buf, sizeof buf, "%d", retry);
	evhttp_add_header(evhttp_request_get_output_headers(rq->r), "Retry-After", buf);
	http_error(rq, 429, "rate_limited", "too many failed attempts: try again in %d s", retry);
	return 1;
}

void
ratelimit_fail(struct server *srv, unsigned int uid)
{
	char key[16];
	struct fails *f;

	snprintf(key, sizeof key, "%u", uid);
	if ((f = strmap_get(srv->fails, key)) == NULL) {
		f = xcalloc(1, sizeof *f);
		strmap_put(srv->fails, key, f);
	}
	f->at[f->next] = now_ms();
	f->next = (f->next + 1) % RATE_FAILS;
}
