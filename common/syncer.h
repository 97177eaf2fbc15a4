/*
 * Syncs files on a thread of its own, so the event loop reads and writes the
 * next requests while the disk makes the last ones durable (the group
 * commit, as a database's log writer does). A job is a list of syncs; one
 * job runs at a time, and its callback runs on the loop when it is done. A
 * job can also be run on the caller's thread (sync_job_run).
 */
#ifndef RTCS_SYNCER_H
#define RTCS_SYNCER_H
#include <stddef.h>

struct event_base;
struct syncer;

/* In order: fdatasync of each fd, then each rename, then fsync of each directory. */
struct sync_job {
	int		*fds;		/* closed after where owned[i] */
	int		*owned;
	char		**names;	/* for messages */
	size_t		 nfds;
	char		**from, **to;
	size_t		 nrenames;
	char		**dirs;
	size_t		 ndirs;
	int		 err;		/* 0, or the errno of the first step that failed */
	char		*what;		/* the file it failed on */
};

/* An empty job for at most n fds, n renames and n directories. */
struct sync_job *sync_job_new(size_t n);
void	 sync_job_add_fd(struct sync_job *, int fd, int owned, const char *name);
/* A file to sync by its name (opened, synced, closed on the thread): no descriptor held. */
void	 sync_job_add_path(struct sync_job *, const char *path);
void	 sync_job_add_rename(struct sync_job *, const char *from, const char *to);
/* A directory to sync, once however often it is added. */
void	 sync_job_add_dir(struct sync_job *, const char *dir);
/* Runs every step, stopping at the first failure (owned fds are closed all the same). */
void	 sync_job_run(struct sync_job *);
void	 sync_job_free(struct sync_job *);

/* The job is done (job->err tells how); it is freed after the callback. */
typedef void (*syncer_done_cb)(void *arg, struct sync_job *);

/* NULL with *cause if the thread or its wake-up cannot be made. */
struct syncer *syncer_new(struct event_base *, syncer_done_cb, void *arg, char **cause);
/* Starts a job on the thread (it takes the job). -1 if one is running. */
int	 syncer_start(struct syncer *, struct sync_job *);
int	 syncer_busy(const struct syncer *);
/* Blocks until the running job is done, then runs its callback (nothing if idle). */
void	 syncer_wait(struct syncer *);
/* Waits for the running job (its callback runs), stops the thread. */
void	 syncer_free(struct syncer *);
#endif
