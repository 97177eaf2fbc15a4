/*
 * pacer: a device that sends a numbered text message at a fixed pace, as a
 * peer keeps talking through a transfer (tests/transfer_continuity.bats).
 *
 *   pacer [-S SOCK] [--keys DIR] --as DEVICE [-n COUNT] [-i MS] [--prefix TEXT]
 *         [--until FILE [--after N] [--max N]] SESSION
 *
 * Sends "PREFIX 1", "PREFIX 2", ... (default prefix "pace") over one
 * keep-alive connection (libcurl), the k-th at t0 + (k-1)*MS on
 * CLOCK_MONOTONIC. The deadline is absolute (clock_nanosleep TIMER_ABSTIME):
 * a slow answer makes one message late, it does not push the later ones back.
 * It sends COUNT messages (default 150, every 20 ms); with --until it sends
 * N more (default 25) once FILE exists, COUNT at least and never more than
 * --max in all (default 3000): a slow switch does not end the pace too soon.
 *
 * Each acknowledged message is one line on stdout, flushed at once:
 *   K SEQ LATE_US RTT_US
 * (LATE_US: how late the send started against its deadline; RTT_US: until the
 * server's {seq} came back). A summary goes to stderr at the end. Exit 0 when
 * every message was acknowledged, else the exit code of the failed call
 * (design.md section 9), 64 on usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "exitcode.h"
#include "keys.h"
#include "paths.h"
#include "xmalloc.h"

struct pacer {
	const char	*socket;
	const char	*keys;
	const char	*device;
	const char	*session;
	const char	*prefix;
	const char	*until;
	long		 count, after, max, interval_ms;
};

static long long
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Waits until the absolute monotonic time t_us; returns at once if it passed. */
static void
pace_until(long long t_us)
{
	struct timespec ts = { (time_t)(t_us / 1000000), (long)(t_us % 1000000) * 1000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void
usage(void)
{
	fprintf(stderr, "usage: pacer [-S SOCK] [--keys DIR] --as DEVICE [-n COUNT] [-i MS] "
	    "[--prefix TEXT] [--until FILE [--after N] [--max N]] SESSION\n");
	exit(EXIT_USAGE);
}

static long
number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

static void
parse(struct pacer *p, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "keys", required_argument, NULL, 'k' },
		{ "as", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "until", required_argument, NULL, 'u' },
		{ "after", required_argument, NULL, 'A' },
		{ "max", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "S:n:i:", opts, NULL)) != -1) {
		switch (c) {
		case 'S': p->socket = optarg; break;
		case 'k': p->keys = optarg; break;
		case 'a': p->device = optarg; break;
		case 'n': p->count = number(optarg, 1, 1000000); break;
		case 'i': p->interval_ms = number(optarg, 1, 60000); break;
		case 'p': p->prefix = optarg; break;
		case 'u': p->until = optarg; break;
		case 'A': p->after = number(optarg, 0, 1000000); break;
		case 'M': p->max = number(optarg, 1, 1000000); break;
		default: usage();
		}
	}
	if (optind + 1 != argc || p->device == NULL)
		usage();
	p->session = argv[optind];
	if (p->max < p->count)
		p->max = p->count;
}

/* One message; prints its line. Returns 0 or the exit code of the failure. */
static int
send_one(struct client *c, const struct pacer *p, const char *path, const char *token,
    long k, long long late_us)
{
	struct client_err err = { 0 };
	cJSON *body = cJSON_CreateObject(), *out = NULL;
	const cJSON *seq;
	char *text = xprintf("%s %ld", p->prefix, k);
	long long t0 = mono_us();
	int rc = 0;

	cJSON_AddStringToObject(body, "type", "text");
	cJSON_AddStringToObject(body, "body", text);
	if (client_call(c, "POST", path, token, body, &out, &err) != 0) {
		fprintf(stderr, "pacer: message %ld: %s\n", k, err.msg ? err.msg : "failed");
		rc = err.exit ? err.exit : EXIT_SOFTWARE;
	} else if (!cJSON_IsNumber(seq = cJSON_GetObjectItemCaseSensitive(out, "seq"))) {
		fprintf(stderr, "pacer: message %ld: no seq in the answer\n", k);
		rc = EXIT_PROTOCOL;
	} else {
		printf("%ld %.0f %lld %lld\n", k, seq->valuedouble, late_us, mono_us() - t0);
		fflush(stdout);
	}
	client_err_clear(&err);
	cJSON_Delete(body);
	cJSON_Delete(out);
	free(text);
	return rc;
}

int
main(int argc, char **argv)
{
	struct pacer p = { NULL, NULL, NULL, NULL, "pace", NULL, 150, 25, 3000, 20 };
	struct client *c;
	char *sock, *dir, *token = NULL, *cause = NULL, *path;
	long k, last, stop_at = -1;
	long long t0, due, late, worst_late = 0;
	int why = 0, rc = 0;

	parse(&p, argc, argv);
	sock = paths_socket(p.socket);
	dir = paths_keys(p.keys);
	if (sock == NULL || dir == NULL) {
		fprintf(stderr, "pacer: no socket or key directory\n");
		return EXIT_USAGE;
	}
	if (keys_get(dir, p.device, "token", p.session, &token, NULL, &why, &cause) != 0) {
		fprintf(stderr, "pacer: %s\n", cause);
		return keys_exit_code(why);
	}
	if ((c = client_new(sock, 10000)) == NULL) {
		fprintf(stderr, "pacer: cannot start libcurl\n");
		return EXIT_SOFTWARE;
	}
	path = xprintf("/v1/sessions/%s/messages", p.session);
	last = p.until != NULL ? p.max : p.count;
	t0 = mono_us();
	for (k = 1; k <= last && rc == 0; k++) {
		due = t0 + (k - 1) * p.interval_ms * 1000;
		pace_until(due);
		late = mono_us() - due;
		if (late > worst_late)
			worst_late = late;
		rc = send_one(c, &p, path, token, k, late);
		/* --until: N more once FILE exists, COUNT at least. */
		if (p.until != NULL && stop_at < 0 && access(p.until, F_OK) == 0) {
			stop_at = k + p.after > p.count ? k + p.after : p.count;
			if (stop_at < last)
				last = stop_at;
		}
	}
	fprintf(stderr, "pacer: %ld messages in %lld ms, every %ld ms; latest start %lld us late%s\n",
	    k - 1 - (rc != 0), (mono_us() - t0) / 1000, p.interval_ms, worst_late,
	    p.until != NULL && stop_at < 0 ? "; --until file never appeared" : "");
	client_free(c);
	free(path);
	free(token);
	free(sock);
	free(dir);
	return rc;
}
