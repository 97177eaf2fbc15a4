/*
 * The budget of failed guesses (design.md 8.1). Failures are kept per holder
 * of a secret (a channel, a claim) and in one budget shared by every call
 * that carries none, never per uid: every caller may be an untrusted device
 * on the same socket. A spent budget answers 429 to calls that would only
 * guess (an unknown or settled id, no attempts left); a live transfer that
 * has attempts left is still judged by its own budget (5 attempts), so one
 * client's guesses never lock another out of a valid scan.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/http.h>

#include "api.h"
#include "xmalloc.h"

#define RATE_FAILS		10
#define RATE_WINDOW_MS		60000

struct fails {
	int64_t	 at[RATE_FAILS];	/* ring of the last failures' times */
	int	 next;
};

/* Whose budget a call spends: its channel's, its claim's, or the anonymous one. */
static const char *
ratelimit_key(const struct req *rq, char *buf, size_t len)
{
	if (rq->ch != NULL)
		snprintf(buf, len, "channel %s", rq->ch->id);
	else if (rq->claim != NULL)
		snprintf(buf, len, "claim %s", rq->claim->t.id);
	else
		snprintf(buf, len, "anonymous");
	return buf;
}

/* 0 if the budget has room; else -1 and the seconds until it has. */
static int
ratelimit_check(struct server *srv, const char *key, int *retry_after)
{
	struct fails *f;
	int64_t oldest, now = now_ms();

	if ((f = strmap_get(srv->fails, key)) == NULL)
		return 0;
	oldest = f->at[f->next];	/* the RATE_FAILS-th failure back */
	if (oldest == 0 || now - oldest >= RATE_WINDOW_MS)
		return 0;
	*retry_after = (int)((RATE_WINDOW_MS - (now - oldest) + 999) / 1000);
	return -1;
}

int
http_rate_limited(struct req *rq, const struct core_xfer *x)
{
	char buf[16], key[64];
	int retry;

	if (ratelimit_check(rq->srv, ratelimit_key(rq, key, sizeof key), &retry) == 0)
		return 0;
	/* A live transfer with attempts left is guarded by its own budget. */
	if (x != NULL && x->t.state != TS_COMPLETED && x->t.state != TS_FAILED &&
	    x->t.attempts_left > 0)
		return 0;
	snprintf(buf, sizeof buf, "%d", retry);
	evhttp_add_header(evhttp_request_get_output_headers(rq->r), "Retry-After", buf);
	http_error(rq, 429, "rate_limited", "too many failed attempts: try again in %d s", retry);
	return 1;
}

void
ratelimit_fail(struct req *rq)
{
	char key[64];
	struct fails *f;

	ratelimit_key(rq, key, sizeof key);
	if ((f = strmap_get(rq->srv->fails, key)) == NULL) {
		f = xcalloc(1, sizeof *f);
		strmap_put(rq->srv->fails, key, f);
	}
	f->at[f->next] = now_ms();
	f->next = (f->next + 1) % RATE_FAILS;
}
