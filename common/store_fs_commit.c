/*
 * The flat-file store's group commit: the writes that wait for it (appends
 * under --sync batch, the event log's appends, the records puts carry,
 * documents put later and the files of the journal's checkpoint) are
 * made durable together, one fdatasync per file, then the renames of the
 * documents, then one fsync per directory, and each is told how it went,
 * in order. On the sync thread (syncer.c) while the loop goes on; on the
 * loop when something must be durable now (fs_commit). A failed sync fails
 * the group and breaks the store. It knows the writes only by their files:
 * what a write does once durable is its own done function. A group that
 * follows one of several writes waits for as many (they are the writers the
 * last group told, writing again), for the last sync's time at most.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "failpoint.h"
#include "log.h"
#include "store_fs.h"
#include "syncer.h"
#include "xmalloc.h"

static void fs_commit_async(struct fs *);

/* A group waits for its writers one sync's time at most, and never longer than this. */
#define FS_GROUP_WAIT_MAX_US	10000

static void
fs_commit_ev(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fs_commit_async(arg);
}

/* At the end of this loop turn (or at want_until, while the group waits for its writes). */
static void
fs_commit_soon(struct fs *fs)
{
	static const struct timeval zero = { 0, 0 };

	if (fs->commit_ev == NULL && fs->st->base != NULL)
		fs->commit_ev = evtimer_new(fs->st->base, fs_commit_ev, fs);
	if (fs->commit_ev != NULL && (!evtimer_pending(fs->commit_ev, NULL) ||
	    (fs->want > 0 && fs->npend >= fs->want)))
		evtimer_add(fs->commit_ev, &zero);
}

void
fs_pend(struct fs *fs, const struct fs_pending *w, const char *json, size_t len)
{
	struct fs_pending *p;

	if (fs->npend == fs->pendcap) {
		fs->pendcap = fs->pendcap ? fs->pendcap * 2 : 16;
		fs->pend = xreallocarray(fs->pend, fs->pendcap, sizeof *fs->pend);
	}
	p = &fs->pend[fs->npend++];
	*p = *w;
	p->json = xmalloc(len);
	memcpy(p->json, json, len);
	p->len = len;
	fs_commit_soon(fs);
}

static int
doc_is(const struct fs_pending *p, size_t n, enum store_kind kind, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].id != NULL && !p[i].ckpt && p[i].kind == kind && strcmp(p[i].id, id) == 0)
			return 1;
	return 0;
}

int
fs_doc_waiting(const struct fs *fs, enum store_kind kind, const char *id)
{
	return doc_is(fs->pend, fs->npend, kind, id) || doc_is(fs->flight, fs->nflight, kind, id);
}

void
fs_quiet(struct fs *fs)
{
	size_t i;

	for (i = 0; i < fs->npend; i++) {
		fs->pend[i].acb = NULL;
		fs->pend[i].pcb = NULL;
	}
	for (i = 0; i < fs->nflight; i++) {
		fs->flight[i].acb = NULL;
		fs->flight[i].pcb = NULL;
	}
}

/*
 * The group's job: each log written once (by its name on the thread), its
 * directory if the log is new; each document's new file, its rename, its
 * directory. A failpoint is a failed job.
 */
static struct sync_job *
fs_job(struct fs *fs, struct fs_pending *p, size_t n, int dup_fds)
{
	struct sync_job *j = sync_job_new(n);
	struct fs_log *lf;
	size_t i;
	int e;

	fs->group++;
	for (i = 0; i < n; i++) {
		if ((lf = p[i].lf) == NULL || lf->group == fs->group)
			continue;
		lf->group = fs->group;
		if (lf->dirty && (e = failpoint_errno("store-fsync-log")) != 0) {
			j->err = e;
			j->what = xstrdup(lf->path);
			break;
		}
		/*
		 * On the thread a log is synced by its name (the loop may close its
		 * descriptor meanwhile, and a group holds none of its own: a burst of
		 * new logs costs no descriptors); on the loop by its descriptor if open.
		 */
		if (lf->dirty && (dup_fds || lf->fd < 0))
			sync_job_add_path(j, lf->path);
		else if (lf->dirty)
			sync_job_add_fd(j, lf->fd, 0, lf->path);
		if (lf->created)
			sync_job_add_dir(j, lf->dir);
	}
	if (j->err != 0)
		return j;
	for (i = 0; i < n; i++) {
		if (p[i].lf != NULL) {
			p[i].lf->dirty = p[i].lf->created = 0;
			continue;
		}
		/* A checkpoint's file: closed once written, synced by its name (--sync none: not). */
		if (fs->opt.sync != STORE_SYNC_NONE)
			sync_job_add_path(j, p[i].tmp);
		sync_job_add_rename(j, p[i].tmp, p[i].dst);
		if (fs->opt.sync != STORE_SYNC_NONE)
			sync_job_add_dir(j, p[i].dir);
	}
	fs->stats.syncs += j->nfds + j->ndirs;
	return j;
}

/*
 * Each write of the group is told, in order, then forgotten. Returns why the
 * group failed (the caller frees it), or NULL.
 */
static char *
fs_group_finish(struct fs *fs, struct fs_pending *p, size_t n, const struct sync_job *j)
{
	char *cause = NULL;
	size_t i;

	if (j->err != 0) {
		fs->broken = 1;		/* what reached the disk is unknown */
		cause = xprintf("cannot sync %s: %s", j->what, strerror(j->err));
	} else if (fs->broken)
		cause = xstrdup("an earlier sync failed");
	for (i = 0; i < n; i++) {
		p[i].done(fs, &p[i], cause == NULL ? STORE_OK : STORE_IO, cause);
		if (p[i].fd >= 0)
			close(p[i].fd);
		free(p[i].json);
		free(p[i].id);
		free(p[i].tmp);
		free(p[i].dst);
		free(p[i].dir);
	}
	free(p);
	return cause;
}

/* The group the thread held is done. */
static void
fs_synced(void *arg, struct sync_job *j)
{
	struct fs *fs = arg;
	struct fs_pending *p = fs->flight;
	size_t n = fs->nflight;
	int64_t now;

	fs->flight = NULL;
	fs->nflight = 0;
	/*
	 * Writers that waited for this group write again as they are told: the
	 * next group waits for as many writes as this one held, one sync's time
	 * at most, rather than start with those that came meanwhile and leave
	 * the rest to a group of their own.
	 */
	now = clock_mono_us();
	fs->want = n > 1 ? n : 0;
	fs->want_until = now + (now - fs->flight_t0 < FS_GROUP_WAIT_MAX_US ?
	    now - fs->flight_t0 : FS_GROUP_WAIT_MAX_US);
	free(fs_group_finish(fs, p, n, j));
	if (fs->npend > 0)
		fs_commit_soon(fs);
}

int
fs_commit(struct fs *fs, char **cause)
{
	struct fs_pending *p;
	struct sync_job *j;
	char *why;
	size_t n;

	if (fs->syncer != NULL)
		syncer_wait(fs->syncer);
	if ((n = fs->npend) == 0)
		return fs->broken ? -1 : 0;
	p = fs->pend;
	fs->pend = NULL;
	fs->npend = fs->pendcap = 0;
	if (fs->commit_ev != NULL)
		evtimer_del(fs->commit_ev);
	j = fs_job(fs, p, n, 0);
	if (j->err == 0 && !fs->broken)
		sync_job_run(j);
	why = fs_group_finish(fs, p, n, j);
	sync_job_free(j);
	if (why == NULL)
		return 0;
	if (*cause == NULL)
		*cause = why;
	else
		free(why);
	return -1;
}

/* On the thread if it can be; the writes made meanwhile are the next group. */
static void
fs_commit_async(struct fs *fs)
{
	struct sync_job *j = NULL;
	char *cause = NULL;
	int64_t now;

	if (fs->npend == 0 || (fs->syncer != NULL && syncer_busy(fs->syncer)))
		return;		/* nothing, or the running group's end starts this one */
	if (fs->want > fs->npend && (now = clock_mono_us()) < fs->want_until && fs->commit_ev != NULL) {
		struct timeval tv = { (time_t)((fs->want_until - now) / 1000000),
		    (suseconds_t)((fs->want_until - now) % 1000000) };

		evtimer_add(fs->commit_ev, &tv);
		return;
	}
	fs->want = 0;
	if (fs->syncer == NULL && !fs->broken && fs->st->base != NULL &&
	    (fs->syncer = syncer_new(fs->st->base, fs_synced, fs, &cause)) == NULL) {
		log_warnx("%s: syncing on the loop: %s", fs->dir, cause);
		free(cause);
		cause = NULL;
	}
	if (fs->syncer == NULL || fs->broken || (j = fs_job(fs, fs->pend, fs->npend, 1)) == NULL) {
		fs_commit(fs, &cause);	/* on the loop: its callbacks tell */
		free(cause);
		return;
	}
	fs->flight = fs->pend;
	fs->nflight = fs->npend;
	fs->flight_t0 = clock_mono_us();
	fs->pend = NULL;
	fs->npend = fs->pendcap = 0;
	if (j->err != 0) {
		fs_synced(fs, j);	/* a failpoint: failed before it ran */
		sync_job_free(j);
		return;
	}
	syncer_start(fs->syncer, j);
}

void
fs_commit_free(struct fs *fs)
{
	syncer_free(fs->syncer);
	fs->syncer = NULL;
	if (fs->commit_ev != NULL)
		event_free(fs->commit_ev);
	fs->commit_ev = NULL;
}
