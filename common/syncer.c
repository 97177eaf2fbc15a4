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
	int		*fds;
	char		**names, **dirs;
	size_t		 nfds, ndirs;
	int		 err;
	char		*what;
	syncer_done_cb	 cb;
	void		*arg;
};

/* The thread's work: every sync of the job; the first failure is the answer. */
static void
syncer_run_job(struct syncer *s)
{
	size_t i;
	int fd;

	for (i = 0; i < s->nfds; i++) {
		if (s->err == 0 && fdatasync(s->fds[i]) != 0) {
			s->err = errno;
			s->what = xstrdup(s->names[i]);
		}
		close(s->fds[i]);
	}
	for (i = 0; i < s->ndirs && s->err == 0; i++) {
		if ((fd = open(s->dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    fsync(fd) != 0) {
			s->err = errno;
			s->what = xstrdup(s->dirs[i]);
		}
		if (fd >= 0)
			close(fd);
	}
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
		syncer_run_job(s);
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

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* On the loop: a job the thread finished is answered (no-op otherwise). */
static void
syncer_finish(struct syncer *s)
{
	char *what;
	int err;

	pthread_mutex_lock(&s->mu);
	if (!s->busy || !s->done) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	s->done = s->busy = 0;
	err = s->err;
	what = s->what;
	s->err = 0;
	s->what = NULL;
	free(s->fds);
	strv_free(s->names, s->nfds);
	strv_free(s->dirs, s->ndirs);
	s->fds = NULL;
	s->names = s->dirs = NULL;
	s->nfds = s->ndirs = 0;
	pthread_mutex_unlock(&s->mu);
	s->cb(s->arg, err, what);
	free(what);
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
syncer_start(struct syncer *s, int *fds, char **names, size_t nfds, char **dirs,
    size_t ndirs)
{
	pthread_mutex_lock(&s->mu);
	if (s->busy) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	s->fds = fds;
	s->names = names;
	s->nfds = nfds;
	s->dirs = dirs;
	s->ndirs = ndirs;
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
