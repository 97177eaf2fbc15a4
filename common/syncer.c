/*
 * The sync thread (syncer.h). It shares with the loop only the job under the
 * mutex; it tells the loop a job is done through an eventfd the loop reads,
 * and blocks every signal so that they stay the loop's.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "syncer.h"
#include "xmalloc.h"

struct syncer {
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 efd;
	struct event	*ev;
	int		 busy;		/* started, its callback not run yet */
	int		 given;		/* waiting for the thread to take it */
	int		 done;		/* the thread finished it */
	int		 quit;
	struct sync_job	*job;
	syncer_done_cb	 cb;
	void		*arg;
};

struct sync_job *
sync_job_new(size_t n)
{
	struct sync_job *j = xcalloc(1, sizeof *j);

	n = n > 0 ? n : 1;
	j->fds = xcalloc(n, sizeof *j->fds);
	j->owned = xcalloc(n, sizeof *j->owned);
	j->names = xcalloc(n, sizeof *j->names);
	j->from = xcalloc(n, sizeof *j->from);
	j->to = xcalloc(n, sizeof *j->to);
	j->dirs = xcalloc(n + 2, sizeof *j->dirs);
	return j;
}

void
sync_job_add_fd(struct sync_job *j, int fd, int owned, const char *name)
{
	j->fds[j->nfds] = fd;
	j->owned[j->nfds] = owned;
	j->names[j->nfds++] = xstrdup(name);
}

void
sync_job_add_path(struct sync_job *j, const char *path)
{
	sync_job_add_fd(j, -1, 0, path);
}

void
sync_job_add_rename(struct sync_job *j, const char *from, const char *to)
{
	j->from[j->nrenames] = xstrdup(from);
	j->to[j->nrenames++] = xstrdup(to);
}

void
sync_job_add_dir(struct sync_job *j, const char *dir)
{
	size_t i;

	for (i = 0; i < j->ndirs; i++)
		if (strcmp(j->dirs[i], dir) == 0)
			return;
	j->dirs[j->ndirs++] = xstrdup(dir);
}

static void
job_failed(struct sync_job *j, const char *what)
{
	if (j->err == 0) {
		j->err = errno;
		j->what = xstrdup(what);
	}
}

void
sync_job_run(struct sync_job *j)
{
	size_t i;
	int fd;

	for (i = 0; i < j->nfds; i++) {
		fd = j->fds[i] >= 0 || j->err != 0 ? j->fds[i] :
		    open(j->names[i], O_RDONLY | O_CLOEXEC);
		if (j->err == 0 && (fd < 0 || fdatasync(fd) != 0))
			job_failed(j, j->names[i]);
		if (j->owned[i] || (j->fds[i] < 0 && fd >= 0))
			close(fd);
	}
	for (i = 0; i < j->nrenames && j->err == 0; i++)
		if (rename(j->from[i], j->to[i]) != 0)
			job_failed(j, j->to[i]);
	for (i = 0; i < j->ndirs && j->err == 0; i++) {
		if ((fd = open(j->dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    fsync(fd) != 0)
			job_failed(j, j->dirs[i]);
		if (fd >= 0)
			close(fd);
	}
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
sync_job_free(struct sync_job *j)
{
	if (j == NULL)
		return;
	free(j->fds);
	free(j->owned);
	strv_free(j->names, j->nfds);
	strv_free(j->from, j->nrenames);
	strv_free(j->to, j->nrenames);
	strv_free(j->dirs, j->ndirs);
	free(j->what);
	free(j);
}

static void *
syncer_main(void *arg)
{
	struct syncer *s = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->given && !s->quit)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->quit)
			break;
		s->given = 0;
		pthread_mutex_unlock(&s->mu);
		sync_job_run(s->job);
		pthread_mutex_lock(&s->mu);
		s->done = 1;
		pthread_cond_broadcast(&s->cv);
		/* A full counter (never, at 2^64) only means the loop is told already. */
		if (write(s->efd, &one, sizeof one) < 0 && errno != EAGAIN)
			abort();
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* On the loop: a job the thread finished is answered (no-op otherwise). */
static void
syncer_finish(struct syncer *s)
{
	struct sync_job *j;

	pthread_mutex_lock(&s->mu);
	if (!s->busy || !s->done) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	s->done = s->busy = 0;
	j = s->job;
	s->job = NULL;
	pthread_mutex_unlock(&s->mu);
	s->cb(s->arg, j);
	sync_job_free(j);
}

static void
syncer_woken(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	(void)what;
	while (read(fd, &n, sizeof n) < 0 && errno == EINTR)
		;
	syncer_finish(arg);
}

struct syncer *
syncer_new(struct event_base *base, syncer_done_cb cb, void *arg, char **cause)
{
	struct syncer *s = xcalloc(1, sizeof *s);
	sigset_t all, old;
	int e;

	s->cb = cb;
	s->arg = arg;
	if ((s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		*cause = xprintf("cannot make the sync thread's eventfd: %s", strerror(errno));
		free(s);
		return NULL;
	}
	s->ev = event_new(base, s->efd, EV_READ | EV_PERSIST, syncer_woken, s);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&s->th, NULL, syncer_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0 || s->ev == NULL || event_add(s->ev, NULL) != 0) {
		*cause = xprintf("cannot start the sync thread: %s", e ? strerror(e) :
		    "no event");
		if (e == 0) {
			s->quit = 1;
			pthread_cond_broadcast(&s->cv);
			pthread_join(s->th, NULL);
		}
		if (s->ev != NULL)
			event_free(s->ev);
		close(s->efd);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		return NULL;
	}
	return s;
}

int
syncer_start(struct syncer *s, struct sync_job *j)
{
	pthread_mutex_lock(&s->mu);
	if (s->busy) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	s->job = j;
	s->busy = s->given = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int
syncer_busy(const struct syncer *s)
{
	return s->busy;		/* written on the loop only */
}

void
syncer_wait(struct syncer *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->busy && !s->done)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	syncer_finish(s);
}

void
syncer_free(struct syncer *s)
{
	if (s == NULL)
		return;
	syncer_wait(s);
	pthread_mutex_lock(&s->mu);
	s->quit = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	event_free(s->ev);
	close(s->efd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
