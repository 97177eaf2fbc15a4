/*
 * Image decoding off the event loop: a worker process forked per image.
 *
 * Why a fork per image rather than a pre-forked pool: zbar cannot be
 * interrupted, so the only hard bound on one image is RLIMIT_CPU, and that
 * counts a process's whole life; a fresh process starts at zero, so every
 * image gets exactly the same budget (soft limit: SIGXCPU, a second later
 * SIGKILL), a decoder that crashes takes one image with it and nothing else,
 * and the PNG reaches the worker through the fork itself (no copy over a
 * socket). The fork costs about a millisecond, nothing beside a decode; the
 * worker runs at nice 10, so the loop's clients come first on a busy CPU. At
 * most `workers` run at once; up to `queue` more wait here, in order, their
 * PNG in memory (at most 1 MiB each); beyond that decode_submit refuses.
 *
 * The worker writes one line of result to a pipe and exits; the loop watches
 * the pipe's read end with an event, and on EOF reaps the worker and tells
 * the caller. A worker closes every descriptor it inherited but its pipe, so
 * no client connection, store file or lock outlives the server in it.
 */
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "decode.h"
#include "image.h"
#include "log.h"
#include "qr_decode.h"
#include "xmalloc.h"

#define DECODE_OUT_MAX	8192	/* a QR code holds at most 7089 characters */

struct decode_job {
	TAILQ_ENTRY(decode_job) entry;
	struct decode_pool *pool;
	unsigned char	*png;		/* until the worker has it */
	size_t		 len;
	pid_t		 pid;
	int		 fd;		/* the pipe's read end */
	struct event	*ev;
	char		 out[DECODE_OUT_MAX + 1];
	size_t		 nout;
	decode_cb	 cb;
	void		*arg;
};
TAILQ_HEAD(decode_jobq, decode_job);

struct decode_pool {
	struct event_base *base;
	int		 workers, queue, cpu_s;
	struct decode_jobq running, waiting;
	int		 nrunning, nwaiting;
	int		 stopping;
};

struct decode_pool *
decode_new(struct event_base *base, int workers, int queue, int cpu_s)
{
	struct decode_pool *p = xcalloc(1, sizeof *p);

	p->base = base;
	p->workers = workers;
	p->queue = queue;
	p->cpu_s = cpu_s;
	TAILQ_INIT(&p->running);
	TAILQ_INIT(&p->waiting);
	return p;
}

static size_t
worker_refused(char *out, size_t max, char *cause)
{
	int n = snprintf(out, max, "B%s", cause);

	free(cause);
	return n < 0 ? 0 : (size_t)n < max ? (size_t)n : max - 1;
}

/* The worker's answer: a letter (C code, N none, B bad image) and the text. */
static size_t
worker_decode(const unsigned char *png, size_t len, char *out, size_t max)
{
	struct qr_symbol *syms = NULL;
	struct image img;
	const char *pick = NULL;
	char *cause = NULL;
	size_t n;
	int i, nsyms;

	if (image_decode(png, len, &img, &cause) != 0)
		return worker_refused(out, max, cause);
	nsyms = qr_decode(&img, QR_DECODE_QR, &syms, &cause);
	image_free(&img);
	if (nsyms < 0)
		return worker_refused(out, max, cause);
	/* The first transfer code, else the first code's first line. */
	for (i = 0; i < nsyms && pick == NULL; i++)
		if (strlen(syms[i].data) == syms[i].len && strncmp(syms[i].data, "RTCS:", 5) == 0)
			pick = syms[i].data;
	if (pick == NULL && nsyms > 0)
		pick = syms[0].data;
	if (pick == NULL)
		n = (size_t)snprintf(out, max, "N");
	else {
		n = strcspn(pick, "\r\n");
		n = n < max - 2 ? n : max - 2;
		out[0] = 'C';
		memcpy(out + 1, pick, n);
		out[++n] = '\0';
	}
	qr_symbols_free(syms, nsyms);
	return n;
}

/* The child: limits, nothing inherited but the pipe, one decode, one write, _exit. */
static void __attribute__((noreturn))
worker_run(const struct decode_pool *p, const struct decode_job *job, int wfd)
{
	struct rlimit cpu = { (rlim_t)p->cpu_s, (rlim_t)p->cpu_s + 1 }, none = { 0, 0 };
	static char out[DECODE_OUT_MAX + 1];
	size_t n, off = 0;
	ssize_t w;

	/* The server's handlers would write to its libevent signal pipe. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGXCPU, SIG_DFL);
	if (wfd != 3) {
		if (dup2(wfd, 3) != 3)
			_exit(1);
		wfd = 3;
	}
	close_range(4, ~0U, 0);
	if (setrlimit(RLIMIT_CORE, &none) != 0 || setrlimit(RLIMIT_CPU, &cpu) != 0)
		_exit(1);
	/* On a busy CPU the loop's clients come first: the worker yields to them. */
	(void)setpriority(PRIO_PROCESS, 0, 10);
	n = worker_decode(job->png, job->len, out, sizeof out);
	if (n > DECODE_OUT_MAX)
		n = DECODE_OUT_MAX;
	while (off < n) {
		if ((w = write(wfd, out + off, n - off)) < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(1);
		off += (size_t)w;
	}
	_exit(0);
}

static void job_readable(evutil_socket_t, short, void *);

/* Forks the job's worker: 0, or -1 (nothing started). */
static int
job_start(struct decode_pool *p, struct decode_job *job)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) != 0) {
		log_warn("decode: pipe");
		return -1;
	}
	if ((job->pid = fork()) < 0) {
		log_warn("decode: fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (job->pid == 0) {
		close(fds[0]);
		worker_run(p, job, fds[1]);
	}
	close(fds[1]);	/* so that no later worker holds it: EOF means this one is done */
	free(job->png);
	job->png = NULL;
	job->fd = fds[0];
	evutil_make_socket_nonblocking(job->fd);
	job->ev = event_new(p->base, job->fd, EV_READ | EV_PERSIST, job_readable, job);
	event_add(job->ev, NULL);
	TAILQ_INSERT_TAIL(&p->running, job, entry);
	p->nrunning++;
	log_debug("decode: worker %ld started (%d busy, %d queued)", (long)job->pid,
	    p->nrunning, p->nwaiting);
	return 0;
}

static void
job_free(struct decode_job *job)
{
	if (job->ev != NULL)
		event_free(job->ev);
	if (job->fd >= 0)
		close(job->fd);
	free(job->png);
	free(job);
}

/* What the worker's exit and its bytes say. */
static void
job_result(const struct decode_job *job, int status, struct decode_out *o)
{
	o->text = job->nout > 1 ? job->out + 1 : "";
	if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL))
		o->result = DR_LIMIT;
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || job->nout == 0)
		o->result = DR_DIED;
	else if (job->out[0] == 'C' && job->nout > 1)
		o->result = DR_CODE;
	else if (job->out[0] == 'N')
		o->result = DR_NONE;
	else if (job->out[0] == 'B')
		o->result = DR_BAD_IMAGE;
	else
		o->result = DR_DIED;
}

/* The next waiting jobs start while workers are free; a job that cannot is answered. */
static void
pool_next(struct decode_pool *p)
{
	struct decode_out o = { DR_UNAVAILABLE, "no decoder could start" };
	struct decode_job *job;

	while (!p->stopping && p->nrunning < p->workers &&
	    (job = TAILQ_FIRST(&p->waiting)) != NULL) {
		TAILQ_REMOVE(&p->waiting, job, entry);
		p->nwaiting--;
		if (job_start(p, job) != 0) {
			job->cb(job->arg, &o);
			job_free(job);
		}
	}
}

static void
job_done(struct decode_job *job)
{
	struct decode_pool *p = job->pool;
	struct decode_out o;
	int status = 0;

	while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
		;
	TAILQ_REMOVE(&p->running, job, entry);
	p->nrunning--;
	job->out[job->nout] = '\0';
	job_result(job, status, &o);
	if (o.result == DR_LIMIT || o.result == DR_DIED)
		log_warnx("decode: worker %ld %s", (long)job->pid, o.result == DR_LIMIT ?
		    "ran over its CPU limit" : "died");
	job->cb(job->arg, &o);
	job_free(job);
	pool_next(p);
}

static void
job_readable(evutil_socket_t fd, short what, void *arg)
{
	struct decode_job *job = arg;
	char scrap[512], *dst;
	size_t room;
	ssize_t n;

	(void)what;
	for (;;) {
		/* Beyond any code's length the bytes are read and dropped. */
		dst = job->nout < DECODE_OUT_MAX ? job->out + job->nout : scrap;
		room = job->nout < DECODE_OUT_MAX ? DECODE_OUT_MAX - job->nout : sizeof scrap;
		if ((n = read(fd, dst, room)) > 0) {
			if (dst != scrap)
				job->nout += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		break;	/* EOF: the worker is done */
	}
	job_done(job);
}

int
decode_submit(struct decode_pool *p, unsigned char *png, size_t len, decode_cb cb, void *arg)
{
	struct decode_job *job;

	if (p->stopping || (p->nrunning >= p->workers && p->nwaiting >= p->queue)) {
		free(png);
		return -1;
	}
	job = xcalloc(1, sizeof *job);
	job->pool = p;
	job->png = png;
	job->len = len;
	job->fd = -1;
	job->cb = cb;
	job->arg = arg;
	if (p->nrunning < p->workers) {
		if (job_start(p, job) != 0) {
			job_free(job);
			return -1;
		}
		return 0;
	}
	TAILQ_INSERT_TAIL(&p->waiting, job, entry);
	p->nwaiting++;
	return 0;
}

void
decode_stats(const struct decode_pool *p, struct decode_stats *st)
{
	st->workers = p->workers;
	st->busy = p->nrunning;
	st->queue = p->queue;
	st->queued = p->nwaiting;
	st->cpu_s = p->cpu_s;
}

void
decode_stop(struct decode_pool *p)
{
	struct decode_out o = { DR_UNAVAILABLE, "the server is stopping" };
	struct decode_job *job;

	p->stopping = 1;
	while ((job = TAILQ_FIRST(&p->running)) != NULL) {
		TAILQ_REMOVE(&p->running, job, entry);
		p->nrunning--;
		kill(job->pid, SIGKILL);
		while (waitpid(job->pid, NULL, 0) < 0 && errno == EINTR)
			;
		job->cb(job->arg, &o);
		job_free(job);
	}
	while ((job = TAILQ_FIRST(&p->waiting)) != NULL) {
		TAILQ_REMOVE(&p->waiting, job, entry);
		p->nwaiting--;
		job->cb(job->arg, &o);
		job_free(job);
	}
}

void
decode_free(struct decode_pool *p)
{
	if (p == NULL)
		return;
	decode_stop(p);
	free(p);
}
