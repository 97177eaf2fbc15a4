/*
 * rtcs-bench: the measuring half of "make bench" (bench/run is the other):
 * one subcommand per figure, each timing rtcs and its anchor in A/B rounds
 * and appending figures as JSON Lines; "report" turns them into the table.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "bench.h"
#include "log.h"
#include "opt.h"

static const struct cmd {
	const char	*name;
	int		(*fn)(struct bench_opts *, int, char **);
	const char	*usage;
} cmds[] = {
	{ "read", cmd_read, "-S SOCK --nginx SOCK --www DIR [trickle]" },
	{ "mutate", cmd_mutate, "-S SOCK --nginx SOCK --www DIR --dir DIR [--redis SOCK]" },
	{ "batch", cmd_batch, "-S SOCK(always) --sock2 SOCK(batch) --sock3 SOCK(none) "
	  "[--redis SOCK] --conc C -n MSGS-PER-BURST" },
	{ "relay", cmd_relay, "-S SOCK --anchor SOCK [--redis SOCK] [--tag PREFIX]" },
	{ "procs", cmd_procs, "[--note TEXT] [--anchor-exit N] NAME -- CMD... --- ANCHOR-CMD..." },
	{ "transfer", cmd_transfer, "-S SOCK [--log SERVER-VV-LOG]" },
	{ "cluster", cmd_cluster, "-S NODE1 --sock2 NODE2 --sock3 NODE3 --anchor ETCD1,ETCD2 "
	    "--tag PREFIX [--log NODE1-VV-LOG]" },
	{ "continuity", cmd_continuity, "-S SOCK -n TRANSFERS" },
	{ "scale", cmd_scale, "-S SOCK --pid PID -n SESSIONS --nginx SOCK --www DIR" },
	{ "fsync", cmd_fsync, "--dir DIR" },
	{ "store", cmd_store, "-S SOCK --dir DIR -n ANCHOR-WRITES" },
	{ "genlog", cmd_genlog, "-n MESSAGES STORE-DIR SESSION" },
	{ "replay", cmd_replay, "-S SOCK --pid PID -n STREAMS SESSION TOKEN LOG-KIB" },
	{ "media-load", cmd_media_load,
	  "-S SOCK --pid PID -n CALLS [--sock2 SOCK2] [SECONDS [PID2]] (the anchor on SOCK2)" },
	{ "media-post", cmd_media_post, "-S SOCK(always) --rounds R -n FRAMES" },
	{ "fig", cmd_fig, "NAME RTCS ANCHOR NOTE (a figure measured by bench/run)" },
	{ "report", cmd_report, "FIGURES.jsonl RESULTS.json [QUICK]" },
	{ "na", cmd_na, "NAME REASON" },
};

static void
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: rtcs-bench [-o FIGURES] [--rounds R] [-n N] [--warm W] "
	    "[--conc C] COMMAND ...\n");
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(stderr, "  rtcs-bench %s %s\n", cmds[i].name, cmds[i].usage);
	exit(64);
}

static int
number(const char *s, long long min, long long max)
{
	long long v;
	char *cause = NULL;

	if (opt_number(s, min, max, &v, &cause) != 0) {
		fprintf(stderr, "rtcs-bench: %s\n", cause);
		exit(64);
	}
	return (int)v;
}

static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "sock2", required_argument, NULL, '2' },
		{ "nginx", required_argument, NULL, 'N' },
		{ "www", required_argument, NULL, 'W' },
		{ "anchor", required_argument, NULL, 'A' },
		{ "dir", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "warm", required_argument, NULL, 'w' },
		{ "conc", required_argument, NULL, 'c' },
		{ "pid", required_argument, NULL, 'p' },
		{ "tag", required_argument, NULL, 't' },
		{ "note", required_argument, NULL, 'T' },
		{ "anchor-exit", required_argument, NULL, 'X' },
		{ "log", required_argument, NULL, 'L' },
		{ "redis", required_argument, NULL, 'R' },
		{ "sock3", required_argument, NULL, '3' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench_opts o = { .rounds = 5, .n = 200, .warm = 20, .conc = 16, .dir = "/tmp" };
	size_t i;
	int ch, rc;

	log_init(argv[0], LOG_LEVEL_WARN);
	while ((ch = getopt_long(argc, argv, "+S:o:n:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'S': o.sock = nonempty(optarg); break;
		case '2': o.sock2 = nonempty(optarg); break;
		case 'N': o.nginx = nonempty(optarg); break;
		case 'W': o.www = optarg; break;
		case 'A': o.anchor = optarg; break;
		case 'd': o.dir = optarg; break;
		case 'o': o.out = optarg; break;
		case 'r': o.rounds = number(optarg, 1, 1000000); break;
		case 'n': o.n = number(optarg, 1, 100000000); break;
		case 'w': o.warm = number(optarg, 0, 1000000); break;
		case 'c': o.conc = number(optarg, 1, 1024); break;
		case 'p': o.pid = number(optarg, 0, 1 << 30); break;
		case 't': o.tag = optarg; break;
		case 'T': o.note = optarg; break;
		case 'X': o.anchor_exit = number(optarg, 0, 255); break;
		case 'L': o.log = nonempty(optarg); break;
		case 'R': o.redis = nonempty(optarg); break;
		case '3': o.sock3 = nonempty(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == sizeof cmds / sizeof cmds[0])
		usage();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmds[i].fn(&o, argc - 1, argv + 1);
	curl_global_cleanup();
	return rc;
}
