/*
 * Image decoding off the event loop (design.md 8.1): a forked worker per
 * image, at most N at once, a bounded queue behind them, a CPU limit each.
 * The result comes back on the loop through a callback; nothing here knows
 * HTTP or the core.
 */
#ifndef RTCS_SERVE_DECODE_H
#define RTCS_SERVE_DECODE_H
#include <stddef.h>

struct event_base;
struct decode_pool;

enum decode_result {
	DR_CODE,		/* text: the code's payload */
	DR_NONE,		/* no code in the image */
	DR_BAD_IMAGE,		/* text: why the PNG was refused */
	DR_LIMIT,		/* the worker ran over its CPU limit */
	DR_DIED,		/* the worker died otherwise (a crash in a decoder) */
	DR_UNAVAILABLE,		/* no worker could start, or the server is stopping */
};

struct decode_out {
	enum decode_result result;
	const char	*text;		/* valid during the callback */
};

typedef void (*decode_cb)(void *arg, const struct decode_out *);

struct decode_stats {
	int		 workers, busy, queue, queued, cpu_s;
};

struct decode_pool *decode_new(struct event_base *, int workers, int queue, int cpu_s);
/*
 * Decodes png (taken over, freed here); cb is called on the loop, never from
 * within this call. -1 (png freed, cb never called) when every worker is busy
 * and the queue is full.
 */
int	 decode_submit(struct decode_pool *, unsigned char *png, size_t len, decode_cb, void *arg);
void	 decode_stats(const struct decode_pool *, struct decode_stats *);
/* Stopping: every worker killed, every job answered DR_UNAVAILABLE. */
void	 decode_stop(struct decode_pool *);
void	 decode_free(struct decode_pool *);
#endif
