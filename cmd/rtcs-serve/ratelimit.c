/* The rate limit on failed attempts: per peer uid, a sliding window (design.md 8). */
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
