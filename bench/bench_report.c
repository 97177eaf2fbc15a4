/* rtcs-bench report: the figures (JSON Lines) as one table and as results.json. */
#include <sys/utsname.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "fsutil.h"
#include "json.h"
#include "xmalloc.h"

enum target { T_REPORT, T_RATIO_LE, T_RATIO_GE, T_VALUE_LE, T_VALUE_EQ };

/*
 * Every figure of design.md section 10, in table order; the names are stable.
 * The targets are the second ring's (issue 14), which replace design.md 10's
 * where they name the same figure; the others keep the first ring's.
 */
static const struct figdef {
	const char	*name;
	const char	*unit;
	enum target	 kind;
	double		 target;
	const char	*what;		/* rtcs side vs anchor */
} figs[] = {
	{ "read.p50_us", "us", T_RATIO_LE, 1.2,
	  "GET /v1/sessions/{id}, 1 keep-alive client vs nginx static file" },
	{ "read.rps", "req/s", T_REPORT, 0, "same, requests per second" },
	{ "trickle.read.p50_us", "us", T_REPORT, 0,
	  "the same read while 200 connections trickle request heads (issue 10) vs nginx idle" },
	{ "trickle.read.p99_us", "us", T_VALUE_LE, 20000,
	  "same, p99: a normal client is not slowed by slowloris heads" },
	{ "trickle.read.rps", "req/s", T_REPORT, 0, "same, requests per second" },
	{ "mutation.p50_us", "us", T_REPORT, 0,
	  "POST message --sync always vs nginx GET + write/fsync/rename/fsync-dir" },
	{ "mutation.rps", "msg/s", T_REPORT, 0, "same, one sender, per second" },
	{ "mutation.redis.p50_us", "us", T_RATIO_LE, 1.0,
	  "same POST vs Redis XADD of the same body (appendfsync always)" },
	{ "mutation.fdatasync.p50_us", "us", T_RATIO_LE, 1.3,
	  "same POST vs one append of a record's size + fdatasync (the disk)" },
	{ "store.fdatasync_us", "us", T_REPORT, 0,
	  "the disk's own limit: one O_APPEND write of a record + fdatasync" },
	{ "mutation.batch16_rps", "msg/s", T_REPORT, 0,
	  "16 senders: --sync batch vs --sync always (ratio = multiplier)" },
	{ "mutation.batch16_none_rps", "msg/s", T_RATIO_GE, 0.8,
	  "16 senders: --sync batch vs --sync none (the server's CPU ceiling)" },
	{ "mutation.batch16_redis_rps", "msg/s", T_RATIO_GE, 1.0,
	  "16 senders: --sync batch vs Redis XADD, 16 clients (appendfsync always)" },
	{ "mutation.batch16_per_sync", "msgs", T_REPORT, 0,
	  "16 senders on --sync batch: messages made durable per fdatasync vs a full group (16)" },
	{ "mutation.batch16_disk_rps", "msg/s", T_REPORT, 0,
	  "16 senders: --sync batch vs the disk's bound (16 messages per store.fdatasync_us)" },
	{ "store.checkpoint_us", "us", T_REPORT, 0,
	  "one log checkpoint (the --sync always server) vs one atomic write" },
	{ "store.checkpoint_us_per_append", "us", T_REPORT, 0,
	  "checkpoint time spread over the records appended meanwhile" },
	{ "relay.p50_us", "us", T_RATIO_LE, 1.5,
	  "send -> other device's stream vs relay-anchor (raw UNIX socket)" },
	{ "relay.p99_us", "us", T_REPORT, 0, "same, p99" },
	{ "relay.redis.p50_us", "us", T_RATIO_LE, 1.0,
	  "same vs Redis XADD -> XREAD BLOCK on another connection (appendfsync no)" },
	{ "relay.always.p50_us", "us", T_REPORT, 0, "same p50 with the server on --sync always" },
	{ "relay.always.redis.p50_us", "us", T_REPORT, 0,
	  "same (--sync always) vs Redis XADD -> XREAD BLOCK, appendfsync always" },
	{ "cli.scan_ms", "ms", T_RATIO_LE, 0.5, "rtcs-scan FILE vs zbarimg FILE" },
	{ "cli.scan_tilted_ms", "ms", T_REPORT, 0,
	  "rtcs-scan vs zbarimg, tilted photo (keystone 0.5, 30 deg): zbarimg finds nothing" },
	{ "cli.scan_signed_ms", "ms", T_REPORT, 0,
	  "rtcs-scan vs zbarimg, a signed code as the server issues it" },
	{ "cli.code_png_ms", "ms", T_RATIO_LE, 1, "rtcs-code -t png -o F vs qrencode -o F" },
	{ "cli.session_send_ms", "ms", T_REPORT, 0,
	  "rtcs-session send vs curl --unix-socket POST" },
	{ "transfer.scanner_none_ms", "ms", T_VALUE_LE, 3,
	  "whole transfer, server time, proof scanner / confirm none" },
	{ "transfer.scanner_none_fsyncs", "fsyncs", T_RATIO_LE, 1.5,
	  "same: fsyncs per transfer vs the calls that change state" },
	{ "transfer.both_origin_ms", "ms", T_VALUE_LE, 3,
	  "whole transfer, server time, proof both / confirm origin" },
	{ "transfer.both_origin_fsyncs", "fsyncs", T_RATIO_LE, 1.5,
	  "same: fsyncs per transfer vs the calls that change state" },
	{ "upload.read_p99_us", "us", T_VALUE_LE, 20000,
	  "GET /v1/health p99 while four 0.8 MiB 4096x4096 uploads decode" },
	{ "continuity.lost", "msgs", T_VALUE_EQ, 0, "peer every 20 ms through transfers: lost" },
	{ "continuity.duplicated", "msgs", T_VALUE_EQ, 0, "same: duplicated" },
	{ "continuity.max_gap_ms", "ms", T_REPORT, 0, "same: largest gap between deliveries" },
	{ "media.lost", "frames", T_VALUE_EQ, 0,
	  "audio both ways, a call moved phone -> tablet: frames lost, peer + mover" },
	{ "media.duplicated", "frames", T_VALUE_EQ, 0, "same: frames twice" },
	{ "media.silent_blocks", "blocks", T_VALUE_EQ, 0,
	  "same: 20 ms blocks of the sweep silent in the WAVs written" },
	{ "media.peer_silence_ms", "ms", T_VALUE_LE, 60,
	  "same: longest silence the peer hears (gap - 20 ms), worst round" },
	{ "media.mover_silence_ms", "ms", T_REPORT, 0,
	  "same: commit -> the tablet's first frame, worst round" },
	{ "media.client_cpu_pct", "%", T_REPORT, 0,
	  "rtcs-session media CPU, 1 Opus stream out and 1 in, per second of call" },
	{ "media.server_cpu_pct_per_stream", "%", T_REPORT, 0,
	  "rtcs-serve CPU per device (50 frames/s out and in) vs the same via the log" },
	{ "media.rss_kib_per_stream", "KiB", T_REPORT, 0,
	  "rtcs-serve RSS per media device (2 s ring included) vs the same via the log" },
	{ "media.post_p50_us", "us", T_REPORT, 0,
	  "a frame's POST on --sync always: media path vs durable log message" },
	{ "scale.streams", "conns", T_REPORT, 0, "streams open (2 devices per live session)" },
	{ "scale.rss_kib_per_session", "KiB", T_VALUE_LE, 8, "rtcs-serve RSS growth per session" },
	{ "scale.fds", "fds", T_REPORT, 0, "rtcs-serve open fds under the load" },
	{ "scale.fds_per_session", "fds", T_VALUE_LE, 2.1, "rtcs-serve open fds per live session" },
	{ "scale.read.p50_us", "us", T_REPORT, 0, "read p50 under the load vs nginx" },
	{ "scale.read.vs_idle.p50_us", "us", T_RATIO_LE, 1.2,
	  "read p50 under the load vs the same read on an idle server (read.p50_us)" },
	{ "scale.read.rps", "req/s", T_REPORT, 0, "read rate under the load vs nginx" },
	{ "replay.rss_added_kib", "KiB", T_VALUE_LE, 20480,
	  "20 unread streams from seq 0 on a 15 MB log: RSS added (anchor: the log)" },
	{ "cluster.message.p50_us", "us", T_REPORT, 0,
	  "3 nodes on 3 etcd members: POST message vs one etcd txn of a record's size" },
	{ "cluster.relay.p50_us", "us", T_REPORT, 0,
	  "node 1 -> a stream on node 2 vs etcd txn on one member -> a watch on another" },
	{ "cluster.transfer.scanner_none_ms", "ms", T_REPORT, 0,
	  "whole transfer through node 1, server time, vs one etcd txn (ratio = txns' worth)" },
	{ "cluster.transfer.both_origin_ms", "ms", T_REPORT, 0,
	  "same, proof both / confirm origin" },
	{ "cluster.batch16_rps", "msg/s", T_REPORT, 0,
	  "16 senders (a session each) over 3 nodes vs the same 16 through one node" },
	{ "scale.long.rss_kib_per_session", "KiB", T_REPORT, 0,
	  "RSS per session, 10 sessions of 100,000 messages loaded, vs an empty server" },
};
#define NFIGS (sizeof figs / sizeof figs[0])

static double
num(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void
fmt(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else if (fabs(v) >= 1000 || v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else if (fabs(v) >= 10)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

static void
target_text(const struct figdef *f, char *buf, size_t len)
{
	switch (f->kind) {
	case T_RATIO_LE: snprintf(buf, len, "<= %gx", f->target); break;
	case T_RATIO_GE: snprintf(buf, len, ">= %gx", f->target); break;
	case T_VALUE_LE: snprintf(buf, len, "<= %g", f->target); break;
	case T_VALUE_EQ: snprintf(buf, len, "= %g", f->target); break;
	default: snprintf(buf, len, "report"); break;
	}
}

/* 1 met, 0 not met, -1 nothing to judge. */
static int
judge(const struct figdef *f, double rtcs, double ratio)
{
	switch (f->kind) {
	case T_RATIO_LE: return isnan(ratio) ? -1 : ratio <= f->target;
	case T_RATIO_GE: return isnan(ratio) ? -1 : ratio >= f->target;
	case T_VALUE_LE: return isnan(rtcs) ? -1 : rtcs <= f->target;
	case T_VALUE_EQ: return isnan(rtcs) ? -1 : rtcs == f->target;
	default: return -1;
	}
}

static cJSON **
load(const char *path)
{
	cJSON **byfig = xcalloc(NFIGS, sizeof *byfig), *j;
	char line[8192], *cause = NULL;
	const char *name;
	size_t i;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return byfig;
	while (fgets(line, sizeof line, f) != NULL) {
		if ((j = json_parse_object(line, strlen(line), &cause)) == NULL) {
			free(cause);
			cause = NULL;
			continue;
		}
		name = json_str(j, "name");
		for (i = 0; name != NULL && i < NFIGS; i++)
			if (strcmp(name, figs[i].name) == 0)
				break;
		if (name == NULL || i == NFIGS) {
			cJSON_Delete(j);
			continue;
		}
		cJSON_Delete(byfig[i]);
		byfig[i] = j;
	}
	fclose(f);
	return byfig;
}

/* Where the numbers come from: the machine and the programs measured. */
static void
add_host(cJSON *res)
{
	cJSON *h = cJSON_AddObjectToObject(res, "host");
	struct utsname u;
	const char *bin = getenv("RTCS_BIN"), *cpus = getenv("RTCS_BENCH_CPUS");

	cJSON_AddNumberToObject(h, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
	if (uname(&u) == 0) {
		cJSON_AddStringToObject(h, "kernel", u.release);
		cJSON_AddStringToObject(h, "machine", u.machine);
	}
	cJSON_AddStringToObject(h, "pinned_to_cpus", cpus != NULL ? cpus : "all");
	if (bin != NULL)
		cJSON_AddStringToObject(res, "rtcs_bin", bin);
}

int
cmd_report(struct bench_opts *o, int argc, char **argv)
{
	cJSON **byfig, *res, *arr, *e;
	char r[32], a[32], q[32], t[32], *text, *cause = NULL, *dir, *slash;
	const char *note, *metstr;
	double rtcs, anchor, ratio;
	size_t i;
	int met, quick = argc > 2 && strcmp(argv[2], "0") != 0 && *argv[2] != '\0';
	time_t now = time(NULL);
	char stamp[32];

	(void)o;
	if (argc < 2) {
		fprintf(stderr, "usage: rtcs-bench report FIGURES.jsonl RESULTS.json [QUICK]\n");
		return 64;
	}
	byfig = load(argv[0]);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	res = cJSON_CreateObject();
	cJSON_AddNumberToObject(res, "format", 1);
	cJSON_AddStringToObject(res, "generated_at", stamp);
	cJSON_AddBoolToObject(res, "quick", quick);
	cJSON_AddStringToObject(res, "ratio", "rtcs / anchor");
	add_host(res);
	arr = cJSON_AddArrayToObject(res, "figures");
	printf("%-26s %-6s %10s %10s %7s %8s %-4s  %s\n", "figure", "unit", "rtcs", "anchor",
	    "ratio", "target", "met", "what (rtcs vs anchor)");
	for (i = 0; i < NFIGS; i++) {
		rtcs = byfig[i] ? num(byfig[i], "rtcs") : NAN;
		anchor = byfig[i] ? num(byfig[i], "anchor") : NAN;
		note = byfig[i] ? json_str(byfig[i], "note") : "not run";
		ratio = !isnan(rtcs) && !isnan(anchor) && anchor != 0 ? rtcs / anchor : NAN;
		met = judge(&figs[i], rtcs, ratio);
		fmt(r, sizeof r, rtcs);
		fmt(a, sizeof a, anchor);
		fmt(q, sizeof q, ratio);
		target_text(&figs[i], t, sizeof t);
		metstr = met == 1 ? "yes" : met == 0 ? "NO" : "-";
		printf("%-26s %-6s %10s %10s %7s %8s %-4s  %s", figs[i].name, figs[i].unit, r, a,
		    q, t, metstr, figs[i].what);
		/* A missing anchor of a ratio target is said too: its package may be absent. */
		if (note != NULL && (isnan(rtcs) || (isnan(anchor) &&
		    (figs[i].kind == T_RATIO_LE || figs[i].kind == T_RATIO_GE))))
			printf(" [n/a: %s]", note);
		printf("\n");

		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", figs[i].name);
		cJSON_AddStringToObject(e, "unit", figs[i].unit);
		cJSON_AddStringToObject(e, "what", figs[i].what);
		isnan(rtcs) ? cJSON_AddNullToObject(e, "rtcs") : cJSON_AddNumberToObject(e, "rtcs", rtcs);
		isnan(anchor) ? cJSON_AddNullToObject(e, "anchor") :
		    cJSON_AddNumberToObject(e, "anchor", anchor);
		isnan(ratio) ? cJSON_AddNullToObject(e, "ratio") :
		    cJSON_AddNumberToObject(e, "ratio", round(ratio * 1000) / 1000);
		cJSON_AddStringToObject(e, "target", t);
		met < 0 ? cJSON_AddNullToObject(e, "met") : cJSON_AddBoolToObject(e, "met", met);
		if (note != NULL)
			cJSON_AddStringToObject(e, "note", note);
		cJSON_AddItemToArray(arr, e);
		cJSON_Delete(byfig[i]);
	}
	free(byfig);
	text = cJSON_Print(res);
	cJSON_Delete(res);
	dir = xstrdup(argv[1]);
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	if (fs_write_atomic(slash ? dir : ".", slash ? slash + 1 : argv[1], NULL, text,
	    strlen(text), 0, &cause) != 0) {
		fprintf(stderr, "rtcs-bench: %s\n", cause);
		free(cause);
		free(text);
		free(dir);
		return 74;
	}
	free(text);
	free(dir);
	return 0;
}

/* Records a figure that could not be measured, with the reason. */
int
cmd_na(struct bench_opts *o, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: rtcs-bench na NAME REASON\n");
		return 64;
	}
	fig_na(o, argv[0], argv[1]);
	return 0;
}
