/*
 * rtcs-bench media-load and media-post: what the media path costs.
 *
 * media-load: N calls of two devices each, every device sending a 120-byte
 * audio frame every 20 ms and reading the other's on its stream (media=1),
 * all on raw sockets (epoll) in this one process; rtcs-serve's CPU (from
 * /proc/PID/stat) and RSS per device stream while it runs. The anchor is
 * the same load carried the old way, as text messages through the durable
 * log, on the same server.
 *
 * media-post: one device's frame POST, paced every 20 ms, on a --sync always
 * server: the media path against the same bytes as a durable log message.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "xmalloc.h"

#define ML_FRAME_B64	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3"
#define ML_TICK_US	20000

struct ml_dev {
	int	 post, stream;
	char	*sid, *tok;
	long	 k;		/* frames sent */
	int	 waiting;	/* a POST is out */
	long	 acks, bad;
	long	 got;		/* frame lines seen on its stream */
	char	 tail[32];	/* the stream's last bytes, for a line split across reads */
};

/* utime + stime of pid, in seconds (-1 if unknown). */
static double
proc_cpu_s(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command's ")": state is field 3, utime 14, stime 15. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int
ml_send(struct ml_dev *d, int logpath)
{
	char req[1024], body[512];
	int blen, len;

	if (logpath)
		blen = snprintf(body, sizeof body, "{\"type\":\"text\",\"body\":\"%s\"}", ML_FRAME_B64);
	else
		blen = snprintf(body, sizeof body, "{\"media\":\"audio\",\"frame\":%ld,\"pts\":%ld,"
		    "\"data\":\"%s\"}", d->k + 1, d->k * 20, ML_FRAME_B64);
	len = snprintf(req, sizeof req, "POST /v1/sessions/%s/%s HTTP/1.1\r\nHost: rtcs\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %d\r\n\r\n%s", d->sid, logpath ? "messages" : "media", d->tok, blen, body);
	if (write(d->post, req, (size_t)len) != len)
		return -1;
	d->k++;
	d->waiting = 1;
	return 0;
}

/* Occurrences of needle in what fd has now; tail keeps what may begin one. */
static long
ml_count(int fd, const char *needle, char *tail, size_t tailcap)
{
	char buf[65536 + 64], *p;
	size_t keep = strlen(tail), nl = strlen(needle), len;
	long found = 0;
	ssize_t r;

	memcpy(buf, tail, keep);
	while ((r = read(fd, buf + keep, sizeof buf - 1 - keep)) > 0) {
		len = keep + (size_t)r;
		buf[len] = '\0';
		for (p = buf; (p = strstr(p, needle)) != NULL; p += nl)
			found++;
		keep = len < nl - 1 ? len : nl - 1;
		memmove(buf, buf + len - keep, keep);
	}
	if (keep >= tailcap)
		keep = tailcap - 1;
	memcpy(tail, buf, keep);
	tail[keep] = '\0';
	return found;
}

/* A POST's answer (whole: one at a time) or what came on the stream. */
static void
ml_read(struct ml_dev *d, int stream, int logpath)
{
	char buf[4096];
	ssize_t r;

	if (stream) {
		d->got += ml_count(d->stream, logpath ? "\"type\":\"message\"" : "\"type\":\"media\"",
		    d->tail, sizeof d->tail);
		return;
	}
	while ((r = read(d->post, buf, sizeof buf - 1)) > 0) {
		buf[r] = '\0';
		if (strncmp(buf, "HTTP/1.1 2", 10) == 0)
			d->acks++;
		else
			d->bad++;
		d->waiting = 0;
	}
}

struct ml_run {
	double	 cpu_pct_per_dev, rss_kib_per_dev;
	long	 sent, acks, bad, got;
	int	 devs;
};

/* One load of n calls for secs seconds (after a second's warm-up) on sock, pid. */
static int
ml_load(struct bench_opts *o, const char *sock, long pid, int logpath, double secs,
    struct ml_run *res, char **cause)
{
	struct bsession *s = xcalloc((size_t)o->n, sizeof *s);
	struct ml_dev *d = xcalloc((size_t)o->n * 2, sizeof *d);
	struct epoll_event ev, evs[256];
	struct http c;
	char req[512];
	double t0, tick, cpu0 = 0, tm0 = 0, end;
	long rss0, rss1 = 0;
	int i, k, n = 0, ep = epoll_create1(EPOLL_CLOEXEC), rc = -1, measuring = 0;

	http_init(&c, sock);
	for (i = 0; i < o->n; i++)
		if (session_create(&c, logpath ? "ll" : "ml", 2, &s[i], cause) != 0)
			goto out;
	rss0 = proc_rss_kib(pid);
	for (i = 0; i < o->n * 2; i++, n++) {
		d[i].sid = s[i / 2].id;
		d[i].tok = s[i / 2].tokens[i % 2];
		if ((d[i].post = bench_connect(sock, cause)) < 0 ||
		    (d[i].stream = bench_connect(sock, cause)) < 0)
			goto out;
		k = snprintf(req, sizeof req, "GET /v1/sessions/%s/stream%s HTTP/1.1\r\nHost: rtcs\r\n"
		    "Authorization: Bearer %s\r\n\r\n", d[i].sid, logpath ? "" : "?media=1", d[i].tok);
		if (write(d[i].stream, req, (size_t)k) != k) {
			*cause = xprintf("write: %s", strerror(errno));
			goto out;
		}
		fcntl(d[i].post, F_SETFL, O_NONBLOCK);
		fcntl(d[i].stream, F_SETFL, O_NONBLOCK);
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)i << 1;
		epoll_ctl(ep, EPOLL_CTL_ADD, d[i].post, &ev);
		ev.data.u64 = (uint64_t)i << 1 | 1;
		epoll_ctl(ep, EPOLL_CTL_ADD, d[i].stream, &ev);
	}
	t0 = tick = now_us();
	end = t0 + (1 + secs) * 1e6;
	while (now_us() < end) {
		if (!measuring && now_us() >= t0 + 1e6) {
			measuring = 1;
			cpu0 = proc_cpu_s(pid);
			tm0 = now_us();
		}
		if (now_us() >= tick) {
			/* every device's next frame, unless its last is still unanswered */
			for (i = 0; i < n; i++)
				if (!d[i].waiting && ml_send(&d[i], logpath) != 0) {
					*cause = xprintf("POST: %s", strerror(errno));
					goto out;
				}
			tick += ML_TICK_US;
		}
		k = epoll_wait(ep, evs, 256, (int)((tick - now_us()) / 1000) + 1);
		for (i = 0; i < k; i++) {
			ml_read(&d[evs[i].data.u64 >> 1], (int)(evs[i].data.u64 & 1), logpath);
		}
	}
	rss1 = proc_rss_kib(pid);
	res->devs = n;
	res->cpu_pct_per_dev = (proc_cpu_s(pid) - cpu0) / ((now_us() - tm0) / 1e6) * 100 / n;
	res->rss_kib_per_dev = (double)(rss1 - rss0) / n;
	res->sent = res->acks = res->bad = res->got = 0;
	for (i = 0; i < n; i++) {
		res->sent += d[i].k;
		res->acks += d[i].acks;
		res->bad += d[i].bad;
		res->got += d[i].got;
	}
	rc = 0;
out:
	for (i = 0; i < o->n * 2; i++) {
		if (d[i].post > 0)
			close(d[i].post);
		if (d[i].stream > 0)
			close(d[i].stream);
	}
	for (i = 0; i < o->n; i++)
		if (s[i].id != NULL) {
			char *path = xprintf("/v1/sessions/%s", s[i].id);
			long st;
			char *why = NULL;
			if (http_req(&c, "DELETE", path, NULL, NULL, &st, &why) != 0)
				free(why);
			free(path);
			session_free(&s[i]);
		}
	http_free(&c);
	close(ep);
	free(s);
	free(d);
	return rc;
}

int
cmd_media_load(struct bench_opts *o, int argc, char **argv)
{
	struct ml_run m, l;
	char *cause = NULL, *note;
	double secs = argc > 0 ? strtod(argv[0], NULL) : 5;
	long pid2 = argc > 1 ? strtol(argv[1], NULL, 10) : 0;

	if (o->sock == NULL || o->pid <= 0) {
		fig_na(o, "media.server_cpu_pct_per_stream", "no rtcs-serve");
		fig_na(o, "media.rss_kib_per_stream", "no rtcs-serve");
		return 0;
	}
	memset(&l, 0, sizeof l);
	if (ml_load(o, o->sock, o->pid, 0, secs, &m, &cause) != 0 || (o->sock2 != NULL &&
	    pid2 > 0 && ml_load(o, o->sock2, pid2, 1, secs, &l, &cause) != 0)) {
		fig_na(o, "media.server_cpu_pct_per_stream", cause);
		fig_na(o, "media.rss_kib_per_stream", cause);
		free(cause);
		return 1;
	}
	note = xprintf("%d devices in %d calls, each a 120-byte frame every 20 ms and a media=1 "
	    "stream, %.0f s: %ld sent, %ld acknowledged, %ld refused, %ld delivered; anchor: "
	    "the same as text messages through the durable log on a like server "
	    "(%ld sent, %ld delivered)", m.devs, o->n, secs, m.sent, m.acks, m.bad, m.got,
	    l.sent, l.got);
	fig_emit(o, "media.server_cpu_pct_per_stream", m.cpu_pct_per_dev,
	    l.devs > 0 ? l.cpu_pct_per_dev : NAN, note);
	fig_emit(o, "media.rss_kib_per_stream", m.rss_kib_per_dev,
	    l.devs > 0 ? l.rss_kib_per_dev : NAN, note);
	free(note);
	return 0;
}

struct mp_ctx {
	struct http	 h;
	char		*path, *tok;
	int		 logpath;
	long		 k;
	double		 due;
};

static int
mp_op(void *arg, double *lat_us, char **cause)
{
	struct mp_ctx *x = arg;
	char body[512];
	long st = 0;
	double t;

	if (x->logpath)
		snprintf(body, sizeof body, "{\"type\":\"text\",\"body\":\"%s\"}", ML_FRAME_B64);
	else
		snprintf(body, sizeof body, "{\"media\":\"audio\",\"frame\":%ld,\"pts\":%ld,"
		    "\"data\":\"%s\"}", x->k + 1, x->k * 20, ML_FRAME_B64);
	if (x->due == 0)
		x->due = now_us();
	x->due += ML_TICK_US;
	while ((t = now_us()) < x->due)
		sleep_us((long)(x->due - t));
	if (http_req(&x->h, "POST", x->path, x->tok, body, &st, cause) != 0)
		return -1;
	*lat_us = now_us() - t;
	if (st / 100 != 2) {
		*cause = xprintf("POST %s: %ld %s", x->path, st, x->h.resp);
		return -1;
	}
	x->k++;
	return 0;
}

int
cmd_media_post(struct bench_opts *o, int argc, char **argv)
{
	struct mp_ctx m, l;
	struct bsession s;
	struct ab_result r;
	struct http c;
	char *cause = NULL, *note;

	(void)argc;
	(void)argv;
	if (o->sock == NULL) {
		fig_na(o, "media.post_p50_us", "no rtcs-serve");
		return 0;
	}
	http_init(&c, o->sock);
	if (session_create(&c, "mp", 2, &s, &cause) != 0) {
		fig_na(o, "media.post_p50_us", cause);
		free(cause);
		http_free(&c);
		return 1;
	}
	http_free(&c);
	memset(&m, 0, sizeof m);
	memset(&l, 0, sizeof l);
	http_init(&m.h, o->sock);
	http_init(&l.h, o->sock);
	m.path = xprintf("/v1/sessions/%s/media", s.id);
	l.path = xprintf("/v1/sessions/%s/messages", s.id);
	m.tok = s.tokens[0];
	l.tok = s.tokens[1];
	l.logpath = 1;
	if (ab_run(o, mp_op, &m, mp_op, &l, &r, &cause) != 0) {
		fig_na(o, "media.post_p50_us", cause);
		free(cause);
	} else {
		note = xprintf("a 120-byte frame every 20 ms, %zu each, server --sync always: "
		    "POST .../media (p99 %.0f us) vs the same as a durable log message (p99 %.0f us)",
		    r.lat[0].n, samples_pct(&r.lat[0], 99), samples_pct(&r.lat[1], 99));
		fig_emit(o, "media.post_p50_us", samples_pct(&r.lat[0], 50),
		    samples_pct(&r.lat[1], 50), note);
		free(note);
	}
	ab_free(&r);
	http_free(&m.h);
	http_free(&l.h);
	free(m.path);
	free(l.path);
	session_free(&s);
	return 0;
}
