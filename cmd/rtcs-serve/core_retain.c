/*
 * Retention (--retain, a store that can remove: etcd): a session ended, and
 * a transfer settled, longer ago than --retain leave the store and memory,
 * so that etcd does not hold every session ever made. A sweep runs every
 * minute (or every --retain, if shorter) on each node; the removal is one
 * conditional transaction (the document at the revision this node knows,
 * with its whole log), so among nodes sweeping together one removes it and
 * the others hear of it through their watch. A session goes first; its
 * transfers, once it is gone, at the next sweep. Kept: a session an invite
 * still in force opened (its uses are counted from its sessions), and any
 * session or transfer a change is running on.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core_int.h"
#include "log.h"
#include "xmalloc.h"

#define RETAIN_SWEEP_MAX	64		/* removals one sweep begins */
#define RETAIN_SWEEP_MS		60000

struct removal {
	struct core	*core;
	enum store_kind	 kind;
	char		*id;
};

static int64_t
settled_at(const struct transfer *t)
{
	return t->state == TS_COMPLETED ? t->completed_at : t->failed_at;
}

static void
removed(void *arg, enum store_err err, const char *cause)
{
	struct removal *r = arg;
	struct core *c = r->core;
	struct core_session *s;
	struct core_xfer *x;

	if (err == STORE_OK) {
		log_info("retention: %s %s removed", r->kind == STORE_SESSION ? "session" : "transfer",
		    r->id);
		/* Another server's removal, heard first, may have taken it out already. */
		if (r->kind == STORE_SESSION && (s = core_session_find(c, r->id)) != NULL)
			session_forget(c, s);
		else if (r->kind == STORE_TRANSFER && (x = core_xfer_find(c, r->id)) != NULL)
			xfer_forget(c, x);
	} else if (err != STORE_CONFLICT)
		log_warnx("retention: %s: %s", r->id, cause);
	free(r->id);
	free(r);
}

static void
remove_one(struct core *c, enum store_kind kind, const char *id, uint64_t rev, const char *log)
{
	struct removal *r = xcalloc(1, sizeof *r);

	r->core = c;
	r->kind = kind;
	r->id = xstrdup(id);
	store_remove(c->store, kind, id, rev, log, removed, r);
}

/* Whether an invite still in force opened s (its uses count its sessions). */
static int
invite_holds(struct core *c, const struct core_session *s, int64_t now)
{
	const struct core_invite *inv;
	size_t i;

	for (i = 0; i < s->nchannels; i++)
		if (s->channels[i]->opened_by != NULL &&
		    (inv = core_invite_find(c, s->channels[i]->opened_by)) != NULL &&
		    inv->revoked_ms < 0 && (inv->expires_ms < 0 || inv->expires_ms > now))
			return 1;
	return 0;
}

static int
session_due(struct core *c, const struct core_session *s, int64_t now)
{
	const struct core_xfer *x;
	size_t i;

	if (!s->ended || s->ended_ms + c->cfg.retain_ms > now || s->lane.busy ||
	    !TAILQ_EMPTY(&s->lane.q) || invite_holds(c, s, now))
		return 0;
	for (i = 0; i < c->nxfers; i++) {
		x = c->xlist[i];
		if (strcmp(x->t.session, s->id) == 0 && (!transfer_terminal(&x->t) ||
		    settled_at(&x->t) + c->cfg.retain_ms > now))
			return 0;
	}
	return 1;
}

static void
sweep(evutil_socket_t fd, short what, void *arg)
{
	struct core *c = arg;
	int64_t now = core_now_ms();
	long long every = c->cfg.retain_ms < RETAIN_SWEEP_MS ? c->cfg.retain_ms : RETAIN_SWEEP_MS;
	struct timeval tv = { every / 1000, (every % 1000) * 1000 };
	struct core_xfer *x;
	size_t i, n = 0;

	(void)fd;
	(void)what;
	if (store_available(c->store)) {
		for (i = 0; i < c->nsessions && n < RETAIN_SWEEP_MAX; i++)
			if (session_due(c, c->slist[i], now)) {
				remove_one(c, STORE_SESSION, c->slist[i]->id, c->slist[i]->rev,
				    c->slist[i]->id);
				n++;
			}
		for (i = 0; i < c->nxfers && n < RETAIN_SWEEP_MAX; i++) {
			x = c->xlist[i];
			if (transfer_terminal(&x->t) && settled_at(&x->t) + c->cfg.retain_ms <= now &&
			    !x->lane.busy && core_session_find(c, x->t.session) == NULL) {
				remove_one(c, STORE_TRANSFER, x->t.id, x->rev, NULL);
				n++;
			}
		}
	}
	evtimer_add(c->retain_ev, &tv);
}

void
core_retain_start(struct core *c)
{
	struct timeval tv = { 0, 0 };

	if (c->cfg.retain_ms <= 0 || c->readonly || c->base == NULL ||
	    !store_can_remove(c->store) || c->retain_ev != NULL)
		return;
	c->retain_ev = evtimer_new(c->base, sweep, c);
	evtimer_add(c->retain_ev, &tv);
}
