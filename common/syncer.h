/*
 * Syncs files on a thread of its own, so the event loop reads and writes the
 * next requests while the disk makes the last ones durable (the group
 * commit's fdatasync, as a database's log writer does). One job at a time:
 * the descriptors it is given are its own (dup'ed by the caller) and closed
 * when it is done; then its callback runs on the loop.
 */
#ifndef RTCS_SYNCER_H
#define RTCS_SYNCER_H
#include <stddef.h>

struct event_base;
struct syncer;

/* err: 0, or the errno of the first sync that failed (what names the file). */
typedef void (*syncer_done_cb)(void *arg, int err, const char *what);

/* NULL with *cause if the thread or its wake-up cannot be made. */
struct syncer *syncer_new(struct event_base *, syncer_done_cb, void *arg, char **cause);
/*
 * Starts a job: fdatasync of each fds[i] (named names[i]), then fsync of each
 * directory dirs[j]. Takes the descriptors and every string. -1 if busy.
 */
int	 syncer_start(struct syncer *, int *fds, char **names, size_t nfds, char **dirs,
	    size_t ndirs);
int	 syncer_busy(const struct syncer *);
/* Blocks until the running job is done, then runs its callback (nothing if idle). */
void	 syncer_wait(struct syncer *);
/* Waits for the running job (its callback runs), stops the thread. */
void	 syncer_free(struct syncer *);
#endif
