/*
 * rtcs-bench genlog, replay, fig: what a long log costs the server (issue 9).
 * genlog writes a session's log straight through the store interface (the
 * server stopped); replay opens streams from seq 0 that never read and
 * measures what the server's memory grows by meanwhile.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "store.h"
#include "xmalloc.h"

struct genlog {
	const char	*sid;
	uint64_t	 last;
	int		 err;
};

static int
gen_log(void *arg, const char *log, uint64_t last, char **cause)
{
	struct genlog *g = arg;

	(void)cause;
	if (strcmp(log, g->sid) == 0)
		g->last = last;
	return 0;
}

static void
gen_appended(void *arg, enum store_err err, uint64_t seq, const char *cause)
{
	struct genlog *g = arg;

	(void)seq;
	if (err != STORE_OK) {
		fprintf(stderr, "rtcs-bench: genlog: %s\n", cause);
		g->err = 1;
	}
}

int
cmd_genlog(struct bench_opts *o, int argc, char **argv)
{
	struct store_options opt = { .sync = STORE_SYNC_NONE };
	struct genlog g = { NULL, 0, 0 };
	struct store_loader ld = { &g, NULL, gen_log, NULL, NULL };
	struct store *st;
	enum store_err err;
	char *cause = NULL, json[512];
	uint64_t i;
	int n;

	if (argc != 2) {
		fprintf(stderr, "usage: rtcs-bench genlog -n MESSAGES STORE-DIR SESSION\n");
		return 64;
	}
	g.sid = argv[1];
	if ((st = store_open(argv[0], NULL, &opt, &err, &cause)) == NULL ||
	    store_load(st, &ld, &err, &cause) < 0) {
		fprintf(stderr, "rtcs-bench: genlog: %s\n", cause);
		return 1;
	}
	for (i = 0; i < (uint64_t)o->n && !g.err; i++) {
		n = snprintf(json, sizeof json, "{\"seq\":%llu,\"ts\":\"2026-12-01T00:00:00.000Z\","
		    "\"type\":\"message\",\"from\":\"bob\",\"device\":\"bob-pc\",\"kind\":\"text\","
		    "\"body\":\"line %llu of a long conversation, as long as a chat line usually is\"}",
		    (unsigned long long)(g.last + 1), (unsigned long long)i);
		store_append(st, g.sid, g.last, json, (size_t)n, gen_appended, &g);
		g.last++;
	}
	store_close(st);
	return g.err;
}

static int
stream_socket(const char *sock, const char *sid, const char *token)
{
	char req[512], *cause = NULL;
	int fd, n;

	if ((fd = bench_connect(sock, &cause)) < 0) {
		free(cause);
		return -1;
	}
	n = snprintf(req, sizeof req, "GET /v1/sessions/%s/stream?since=0 HTTP/1.1\r\n"
	    "Host: rtcs\r\nAuthorization: Bearer %s\r\n\r\n", sid, token);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return fd;
}

/* n streams from seq 0 that never read: the server's RSS once it stops growing. */
int
cmd_replay(struct bench_opts *o, int argc, char **argv)
{
	long rss0, rss, prev = -1, stable = 0;
	double log_kib;
	int *fds, i, ok = 0;
	char note[160];

	if (argc != 3 || o->sock == NULL || o->pid <= 0) {
		fig_na(o, "replay.rss_added_kib", "no rtcs-serve");
		return 0;
	}
	log_kib = atof(argv[2]);
	rss0 = proc_rss_kib(o->pid);
	fds = xcalloc((size_t)o->n, sizeof *fds);
	for (i = 0; i < o->n; i++)
		ok += (fds[i] = stream_socket(o->sock, argv[0], argv[1])) >= 0;
	/* Until the server's memory holds still for half a second (at most 10 s). */
	for (i = 0; i < 200 && stable < 10; i++) {
		sleep_us(50000);
		rss = proc_rss_kib(o->pid);
		stable = rss == prev ? stable + 1 : 0;
		prev = rss;
	}
	snprintf(note, sizeof note, "%d streams from seq 0 that never read, a %.0f KiB log "
	    "(anchor: the log's size)", ok, log_kib);
	fig_emit(o, "replay.rss_added_kib", ok == o->n ? (double)(prev - rss0) : NAN, log_kib, note);
	for (i = 0; i < o->n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

/* A figure bench/run measured itself: NAME RTCS ANCHOR NOTE ("nan" for n/a). */
int
cmd_fig(struct bench_opts *o, int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: rtcs-bench fig NAME RTCS ANCHOR NOTE\n");
		return 64;
	}
	fig_emit(o, argv[0], strtod(argv[1], NULL), strtod(argv[2], NULL), argv[3]);
	return 0;
}
