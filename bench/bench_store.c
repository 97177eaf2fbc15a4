/*
 * rtcs-bench store: what the store's checkpoint costs (issue 8). The server's
 * own counters (GET /v1/health "store") give the time spent writing
 * checkpoints and the records appended meanwhile; the anchor is one atomic
 * write (write, fsync, rename, fsync the directory) of a file of the same
 * kind, measured here in the same run.
 */
#include <sys/stat.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "fsutil.h"
#include "xmalloc.h"

/* The p50 of one small atomic, durable write in dir. */
static double
atomic_write_p50(const char *dir, int n)
{
	static const char doc[] = "{\"logs\":{\"SAAAAAAAAAAAAAAAA\":1234}}\n"
	    "rtcs-doc 2 rev=1 log=0 crc=00000000\n";
	struct samples s = { 0 };
	char *tmp = xprintf("%s/tmp", dir), *cause = NULL;
	double t, p50;
	int i;

	mkdir(tmp, 0700);
	for (i = 0; i < n; i++) {
		t = now_us();
		if (fs_write_atomic(dir, "checkpoint-anchor", tmp, doc, sizeof doc - 1, 1, &cause) != 0) {
			fprintf(stderr, "rtcs-bench: store: %s\n", cause);
			free(cause);
			break;
		}
		samples_add(&s, now_us() - t);
	}
	p50 = samples_pct(&s, 50);
	samples_free(&s);
	free(tmp);
	return p50;
}

static double
field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

void
store_counts(struct http *c, double v[3])
{
	cJSON *h, *st;
	char *cause = NULL;
	long status;

	h = http_json(c, "GET", "/v1/health", NULL, NULL, &status, &cause);
	free(cause);
	st = h != NULL ? cJSON_GetObjectItemCaseSensitive(h, "store") : NULL;
	v[0] = field(st, "syncs");
	v[1] = field(st, "appends");
	v[2] = field(st, "puts");
	cJSON_Delete(h);
}

int
cmd_store(struct bench_opts *o, int argc, char **argv)
{
	struct http c;
	cJSON *h, *st;
	char *cause = NULL, note[256];
	double ck, us, appends, logs, anchor;
	long status;

	(void)argc;
	(void)argv;
	if (o->sock == NULL) {
		fig_na(o, "store.checkpoint_us", "no server");
		fig_na(o, "store.checkpoint_us_per_append", "no server");
		return 0;
	}
	http_init(&c, o->sock);
	h = http_json(&c, "GET", "/v1/health", NULL, NULL, &status, &cause);
	http_free(&c);
	st = h != NULL ? cJSON_GetObjectItemCaseSensitive(h, "store") : NULL;
	if (st == NULL) {
		fig_na(o, "store.checkpoint_us", "no store figures in /v1/health");
		fig_na(o, "store.checkpoint_us_per_append", "no store figures in /v1/health");
		cJSON_Delete(h);
		free(cause);
		return 0;
	}
	ck = field(st, "checkpoints");
	us = field(st, "checkpoint_us");
	appends = field(st, "appends");
	logs = field(st, "checkpoint_logs");
	anchor = atomic_write_p50(o->dir, o->n);
	snprintf(note, sizeof note, "%.0f checkpoints (%.0f log%s in the last) over %.0f appends",
	    ck, logs, logs == 1 ? "" : "s", appends);
	fig_emit(o, "store.checkpoint_us", ck > 0 ? us / ck : NAN, anchor, note);
	fig_emit(o, "store.checkpoint_us_per_append", appends > 0 ? us / appends : NAN, NAN, note);
	cJSON_Delete(h);
	return 0;
}
