/*
 * rtcs-bench scale: N live sessions with two streaming devices each, held
 * open on raw sockets (epoll) by this one process; rtcs-serve's RSS and fds
 * from /proc before and after, then the read figure under that load.
 */
#include <sys/epoll.h>
#include <sys/resource.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "xmalloc.h"

long
proc_rss_kib(long pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static long
proc_fds(long pid)
{
	char path[64];
	struct dirent *de;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%ld/fd", pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Connects and sends the stream request; the fd, or -1. */
static int
stream_open(const char *sock, const char *sid, const char *tok)
{
	char req[512], *cause = NULL;
	int fd, len;

	if ((fd = bench_connect(sock, &cause)) < 0) {
		free(cause);
		return -1;
	}
	len = snprintf(req, sizeof req, "GET /v1/sessions/%s/stream HTTP/1.1\r\nHost: rtcs\r\n"
	    "Authorization: Bearer %s\r\n\r\n", sid, tok);
	if (write(fd, req, (size_t)len) != len) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Reads whatever the streams sent until every one answered or closed, or the time is up. */
static int
streams_settle(int ep, int *fds, int *state, int n, double limit_us)
{
	struct epoll_event ev[256];
	char buf[4096];
	double t0 = now_us();
	int pending = 0, i, k, ok = 0;
	ssize_t r;

	for (i = 0; i < n; i++)
		pending += state[i] == 0;

	while (pending > 0 && now_us() - t0 < limit_us) {
		k = epoll_wait(ep, ev, 256, 100);
		for (i = 0; i < k; i++) {
			int idx = ev[i].data.u32;

			while ((r = read(fds[idx], buf, sizeof buf - 1)) > 0) {
				buf[r] = '\0';
				if (state[idx] == 0) {
					state[idx] = strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 1 : -1;
					pending--;
				}
			}
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				if (state[idx] == 0)
					pending--;
				state[idx] = -1;
				epoll_ctl(ep, EPOLL_CTL_DEL, fds[idx], NULL);
			}
		}
	}
	for (i = 0; i < n; i++)
		ok += state[i] == 1;
	return ok;
}

int
cmd_scale(struct bench_opts *o, int argc, char **argv)
{
	struct epoll_event ev;
	struct bsession *s;
	struct http c;
	long rss0, rss1, fd0, fd1;
	double idle[2] = { NAN, NAN }, busy[2] = { NAN, NAN };
	int i, n = o->n, ep, *fds, *state, ok, made = 0, rc = 0;
	char *cause = NULL, *note;

	(void)argc;
	(void)argv;
	if (o->sock == NULL || o->pid <= 0) {
		fig_na(o, "scale.streams", "no rtcs-serve");
		fig_na(o, "scale.rss_kib_per_session", "no rtcs-serve");
		fig_na(o, "scale.fds", "no rtcs-serve");
		fig_na(o, "scale.fds_per_session", "no rtcs-serve");
		fig_na(o, "scale.read.vs_idle.p50_us", "no rtcs-serve");
		o->sock = NULL;
		return read_compare(o, "scale.read", NULL, NULL) == 0 ? 0 : 1;
	}
	raise_nofile();
	/* The same read on the same server before the load: the idle figure. */
	if (read_compare(o, "scale.idle.read", "before the sessions are made", idle) != 0)
		rc = 1;
	rss0 = proc_rss_kib(o->pid);
	fd0 = proc_fds(o->pid);
	s = xcalloc((size_t)n, sizeof *s);
	fds = xcalloc((size_t)n * 2, sizeof *fds);
	state = xcalloc((size_t)n * 2, sizeof *state);
	http_init(&c, o->sock);
	for (made = 0; made < n; made++)
		if (session_create(&c, "sc", 2, &s[made], &cause) != 0)
			break;
	http_free(&c);
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; i < made * 2; i++) {
		if ((fds[i] = stream_open(o->sock, s[i / 2].id, s[i / 2].tokens[i % 2])) < 0) {
			state[i] = -1;
			continue;
		}
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	ok = streams_settle(ep, fds, state, made * 2, 30e6);
	sleep_us(300000);
	rss1 = proc_rss_kib(o->pid);
	fd1 = proc_fds(o->pid);
	note = xprintf("%d sessions made of %d%s%s; RSS %ld -> %ld KiB; fds %ld -> %ld%s%s", made,
	    n, cause ? ": " : "", cause ? cause : "", rss0, rss1, fd0, fd1, o->note ? "; " : "",
	    o->note ? o->note : "");
	fig_emit(o, "scale.streams", ok, NAN, note);
	fig_emit(o, "scale.rss_kib_per_session", made > 0 ? (double)(rss1 - rss0) / made : NAN,
	    NAN, note);
	fig_emit(o, "scale.fds", fd1, NAN, note);
	fig_emit(o, "scale.fds_per_session", made > 0 ? (double)(fd1 - fd0) / made : NAN, NAN,
	    note);
	free(note);
	note = xprintf("with %d streams open", ok);
	if (read_compare(o, "scale.read", note, busy) != 0)
		rc = 1;
	free(note);
	note = xprintf("the same server before its %d sessions were made; nginx p50 %.1f us then, "
	    "%.1f us under the load", made, idle[1], busy[1]);
	fig_emit(o, "scale.read.vs_idle.p50_us", busy[0], idle[0], note);
	free(note);
	for (i = 0; i < made * 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(ep);
	for (i = 0; i < made; i++)
		session_free(&s[i]);
	free(s);
	free(fds);
	free(state);
	free(cause);
	return rc;
}
