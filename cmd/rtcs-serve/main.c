/* rtcs-serve: the conference server. Options, then run (or check the store). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "names.h"
#include "opt.h"
#include "paths.h"
#include "fsck.h"
#include "server.h"
#include "version.h"
#include "xmalloc.h"

static const char *const confirm_names[] = { "none", "origin", "peers", "all", NULL };
static const char *const proof_names[] = { "both", "scanner", NULL };
static const char *const sync_names[] = { "always", "batch", "none", NULL };

enum {
	OPT_READY_FD = 256, OPT_CODE_TTL, OPT_RETAIN, OPT_ETCD_QUOTA, OPT_COMPACT, OPT_CONFIRM, OPT_PROOF, OPT_SYNC, OPT_FSCK,
	OPT_JSON, OPT_IDLE_TIMEOUT, OPT_MAX_CONNECTIONS, OPT_MAX_OPEN_LOGS, OPT_HEADER_TIMEOUT,
	OPT_MEDIA_RING, OPT_DECODE_WORKERS, OPT_DECODE_QUEUE, OPT_DECODE_CPU, OPT_NAME,
	OPT_PRINT_KEY, OPT_ROTATE,
};

static const struct option longopts[] = {
	{ "socket",		required_argument, NULL, 'S' },
	{ "store",		required_argument, NULL, 'D' },
	{ "ready-fd",		required_argument, NULL, OPT_READY_FD },
	{ "code-ttl",		required_argument, NULL, OPT_CODE_TTL },
	{ "retain",		required_argument, NULL, OPT_RETAIN },
	{ "etcd-quota",		required_argument, NULL, OPT_ETCD_QUOTA },
	{ "compact",		required_argument, NULL, OPT_COMPACT },
	{ "rotate",		required_argument, NULL, OPT_ROTATE },
	{ "confirm",		required_argument, NULL, OPT_CONFIRM },
	{ "proof",		required_argument, NULL, OPT_PROOF },
	{ "sync",		required_argument, NULL, OPT_SYNC },
	{ "idle-timeout",	required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "header-timeout",	required_argument, NULL, OPT_HEADER_TIMEOUT },
	{ "max-connections",	required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "max-open-logs",	required_argument, NULL, OPT_MAX_OPEN_LOGS },
	{ "media-ring",		required_argument, NULL, OPT_MEDIA_RING },
	{ "decode-workers",	required_argument, NULL, OPT_DECODE_WORKERS },
	{ "decode-queue",	required_argument, NULL, OPT_DECODE_QUEUE },
	{ "decode-cpu",		required_argument, NULL, OPT_DECODE_CPU },
	{ "name",		required_argument, NULL, OPT_NAME },
	{ "fsck",		no_argument,	   NULL, OPT_FSCK },
	{ "print-key",		no_argument,	   NULL, OPT_PRINT_KEY },
	{ "json",		no_argument,	   NULL, OPT_JSON },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ "version",		no_argument,	   NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: rtcs-serve [-qv] [-S SOCK] [-D DIR] [--ready-fd N] [--code-ttl S] [--rotate S]\n"
"                  [--confirm none|origin|peers|all] [--proof both|scanner] [--retain S]\n"
"                  [--etcd-quota MIB] [--compact S] [--sync always|batch|none]\n"
"                  [--idle-timeout S] [--max-connections N] [--max-open-logs N]\n"
"                  [--header-timeout S] [--media-ring S]\n"
"                  [--decode-workers N] [--decode-queue N] [--decode-cpu S] [--name NAME]\n"
"       rtcs-serve --fsck [--json] [-D DIR]\n"
"       rtcs-serve --print-key [-D DIR]\n"
"\n"
"The rtcs conference server: HTTP/1.1 + JSON on a UNIX socket, flat-file or etcd store.\n"
"\n"
"  -S, --socket SOCK        the socket (default $RTCS_SOCKET, $XDG_RUNTIME_DIR/rtcs/rtcs.sock,\n"
"                           /tmp/rtcs-$UID/rtcs.sock)\n"
"  -D, --store STORE        the store: a directory, or etcd://HOST:PORT[,HOST:PORT...][/PREFIX]\n"
"                           shared by several nodes (default $RTCS_STORE, $XDG_STATE_HOME/rtcs)\n"
"      --ready-fd N         write \"ready\" to descriptor N once listening, then close it\n"
"      --code-ttl S         lifetime of transfer codes in seconds (default 120)\n"
"      --retain S           an etcd store: remove sessions ended, and transfers settled,\n"
"                           more than S seconds ago (default 0: keep everything)\n"
"      --etcd-quota MIB     etcd's backend quota, in MiB (default 2048, etcd's): at 90%%,\n"
"                           new sessions, transfers and invites get 503 store_full\n"
"      --compact S          an etcd store: every S seconds one node compacts etcd's history\n"
"                           and defragments its members one at a time (default: never)\n"
"      --rotate S           replace an issued code's secret every S seconds (2 to 86400;\n"
"                           default 0, off); the previous one is valid 2 s more\n"
"      --confirm POLICY     default transfer confirmation: none, origin, peers, all\n"
"      --proof POLICY       default transfer proof: both, scanner\n"
"      --sync MODE          always (fsync before every reply), batch (group commit), none\n"
"      --idle-timeout S     close idle connections after S seconds (default 60)\n"
"      --header-timeout S   close a connection whose request head takes over S s (default 10)\n"
"      --max-connections N  refuse connections beyond N (default 4096)\n"
"      --max-open-logs N    keep at most N log files open (default 1024)\n"
"      --media-ring S       keep each session's media frames S seconds for late readers\n"
"                           and switched devices (default 2; frames are never stored)\n"
"      --decode-workers N   decode at most N uploaded images at once, each in a worker\n"
"                           process of its own (default 2)\n"
"      --decode-queue N     let N more uploads wait for a worker; beyond, 503 (default 8)\n"
"      --decode-cpu S       CPU seconds one image may take to decode (default 2)\n"
"      --name NAME          rename the server: its name in signed codes, kept in the store\n"
"                           (a new store: the host's name, else rtcs; at most 24 chars)\n"
"      --fsck               check the store, list every violation, exit 1 if any\n"
"      --print-key          print \"NAME KEY\", the line clients keep in servers.known\n"
"                           (the store's name and key, read-only)\n"
"      --json               with --fsck: JSON Lines, one per problem\n"
"  -q, --quiet              only errors\n"
"  -v, --verbose            more logging (twice: debug)\n"
"  -h, --help               this help\n"
"  -V, --version            print the version\n");
}

static void
die_usage(const char *what, char *cause)
{
	fprintf(stderr, "rtcs-serve: %s: %s\n", what, cause);
	free(cause);
	exit(EXIT_USAGE);
}

static void
parse_options(int argc, char **argv, struct config *cfg, int *level)
{
	long long n;
	char *cause = NULL;
	int c, i;

	while ((c = getopt_long(argc, argv, "S:D:qvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': cfg->socket_opt = optarg; break;
		case 'D': cfg->store_opt = optarg; break;
		case 'q': *level = LOG_LEVEL_QUIET; break;
		case 'v': (*level)++; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case 'V': version_print("rtcs-serve", version_program_libs); exit(EXIT_OK);
		case OPT_READY_FD:
			if (opt_number(optarg, 0, 1 << 20, &n, &cause) != 0)
				die_usage("--ready-fd", cause);
			cfg->ready_fd = (int)n;
			break;
		case OPT_CODE_TTL:
			if (opt_seconds_ms(optarg, 1000, 86400000, &cfg->code_ttl_ms, &cause) != 0)
				die_usage("--code-ttl", cause);
			break;
		case OPT_RETAIN:
			if (opt_seconds_ms(optarg, 1000, 10LL * 365 * 86400000, &cfg->retain_ms,
			    &cause) != 0)
				die_usage("--retain", cause);
			break;
		case OPT_ETCD_QUOTA:
			if (opt_number(optarg, 16, 8 * 1024, &n, &cause) != 0)
				die_usage("--etcd-quota", cause);
			cfg->etcd_quota_mib = (int)n;
			break;
		case OPT_COMPACT:
			if (opt_number(optarg, 1, 30 * 86400, &n, &cause) != 0)
				die_usage("--compact", cause);
			cfg->compact_s = (long)n;
			break;
		case OPT_ROTATE:
			if (transfer_parse_rotate(optarg, &n, &cause) != 0)
				die_usage("--rotate", cause);
			cfg->rotate_ms = n * 1000;
			break;
		case OPT_CONFIRM:
			if ((i = opt_choice(optarg, confirm_names, &cause)) < 0)
				die_usage("--confirm", cause);
			cfg->confirm = (enum transfer_confirm)i;
			break;
		case OPT_PROOF:
			if ((i = opt_choice(optarg, proof_names, &cause)) < 0)
				die_usage("--proof", cause);
			cfg->proof = (enum transfer_proof)i;
			break;
		case OPT_SYNC:
			if ((i = opt_choice(optarg, sync_names, &cause)) < 0)
				die_usage("--sync", cause);
			cfg->sync = (enum store_sync)i;
			break;
		case OPT_IDLE_TIMEOUT:
			if (opt_number(optarg, 1, 86400, &n, &cause) != 0)
				die_usage("--idle-timeout", cause);
			cfg->idle_timeout_s = (int)n;
			break;
		case OPT_MAX_CONNECTIONS:
			if (opt_number(optarg, 1, 1000000, &n, &cause) != 0)
				die_usage("--max-connections", cause);
			cfg->max_connections = (int)n;
			break;
		case OPT_HEADER_TIMEOUT:
			if (opt_number(optarg, 1, 3600, &n, &cause) != 0)
				die_usage("--header-timeout", cause);
			cfg->header_timeout_s = (int)n;
			break;
		case OPT_MAX_OPEN_LOGS:
			if (opt_number(optarg, 1, 1000000, &n, &cause) != 0)
				die_usage("--max-open-logs", cause);
			cfg->max_open_logs = (int)n;
			break;
		case OPT_MEDIA_RING:
			if (opt_seconds_ms(optarg, 100, 60000, &cfg->media_ring_ms, &cause) != 0)
				die_usage("--media-ring", cause);
			break;
		case OPT_DECODE_WORKERS:
			if (opt_number(optarg, 1, 64, &n, &cause) != 0)
				die_usage("--decode-workers", cause);
			cfg->decode_workers = (int)n;
			break;
		case OPT_DECODE_QUEUE:
			if (opt_number(optarg, 0, 1024, &n, &cause) != 0)
				die_usage("--decode-queue", cause);
			cfg->decode_queue = (int)n;
			break;
		case OPT_DECODE_CPU:
			if (opt_number(optarg, 1, 60, &n, &cause) != 0)
				die_usage("--decode-cpu", cause);
			cfg->decode_cpu_s = (int)n;
			break;
		case OPT_NAME:
			if (!name_valid(optarg) || strlen(optarg) > PAYLOAD_DESC_NAME_MAX)
				die_usage("--name", xprintf("'%s' is not a name of up to %d "
				    "characters (a-z, 0-9, then also . _ -)", optarg,
				    PAYLOAD_DESC_NAME_MAX));
			memcpy(cfg->name, optarg, strlen(optarg) + 1);
			break;
		case OPT_FSCK: cfg->fsck = 1; break;
		case OPT_PRINT_KEY: cfg->print_key = 1; break;
		case OPT_JSON: cfg->json = 1; break;
		default: usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (cfg->rotate_ms > 0 && cfg->rotate_ms >= cfg->code_ttl_ms)
		die_usage("--rotate", xprintf("%lld s is not shorter than --code-ttl (%lld s): the code "
		    "would never rotate", cfg->rotate_ms / 1000, cfg->code_ttl_ms / 1000));
	if (optind != argc) {
		fprintf(stderr, "rtcs-serve: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		exit(EXIT_USAGE);
	}
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct server srv;
	int level = LOG_LEVEL_WARN, exitcode = EXIT_SOFTWARE;
	char *cause = NULL;

	config_defaults(&cfg);
	log_init("rtcs-serve", LOG_LEVEL_WARN);
	parse_options(argc, argv, &cfg, &level);
	log_set_level(level);
	cfg.socket_path = paths_socket(cfg.socket_opt);
	cfg.store_path = paths_store(cfg.store_opt);
	if (cfg.compact_s > 0 && strncmp(cfg.store_path, "etcd://", 7) != 0)
		die_usage("--compact", xstrdup("only an etcd store has a history to compact"));
	if (cfg.retain_ms > 0 && strncmp(cfg.store_path, "etcd://", 7) != 0)
		die_usage("--retain", xstrdup("the flat-file store keeps everything: --retain needs "
		    "--store etcd://..."));
	if (cfg.fsck || cfg.print_key) {
		exitcode = cfg.fsck ? fsck_run(&cfg) : printkey_run(&cfg);
		free(cfg.socket_path);
		free(cfg.store_path);
		return exitcode;
	}
	memset(&srv, 0, sizeof srv);
	srv.cfg = &cfg;
	if (server_run(&srv, &cause, &exitcode) != 0) {
		log_warnx("%s", cause);
		free(cause);
	} else
		exitcode = EXIT_OK;
	free(cfg.socket_path);
	free(cfg.store_path);
	return exitcode;
}
