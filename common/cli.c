/* The command table of the client programs: common options, dispatch, help. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "keys.h"
#include "paths.h"
#include "exitcode.h"
#include "log.h"
#include "opt.h"
#include "xmalloc.h"

#define CLI_SHORT "hVS:qv"

static const struct option cli_common[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "socket", required_argument, NULL, 'S' },
	{ "keys", required_argument, NULL, CLI_OPT_KEYS },
	{ "json", no_argument, NULL, CLI_OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "timeout", required_argument, NULL, CLI_OPT_TIMEOUT },
	{ NULL, 0, NULL, 0 }
};

static const char cli_common_help[] =
    "  -h, --help            this help\n"
    "  -V, --version         print the version\n"
    "  -S, --socket PATH     rtcs-serve's socket ($RTCS_SOCKET, else\n"
    "                        $XDG_RUNTIME_DIR/rtcs/rtcs.sock, else /tmp/rtcs-$UID/rtcs.sock)\n"
    "      --keys DIR        the devices' key directory ($RTCS_KEYS, else\n"
    "                        $XDG_STATE_HOME/rtcs/keys)\n"
    "      --json            machine output: one JSON object, or JSON Lines for streams\n"
    "  -q, --quiet           only errors on stderr\n"
    "  -v, --verbose         more on stderr\n"
    "      --timeout SECONDS give up after this long (exit 124)\n";

int
cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s%s%s (see %s %s%s--help)\n", cli->prog,
	    cli->cmd ? cli->cmd->name : "", cli->cmd ? ": " : "", msg, cli->prog,
	    cli->cmd ? cli->cmd->name : "", cli->cmd ? " " : "");
	free(msg);
	return EXIT_USAGE;
}

static void
cli_help(const struct cli *cli, const struct cli_cmd *only)
{
	const struct cli_cmd *c;

	if (only != NULL) {
		printf("usage: %s %s %s\n%s.\n\noptions:\n%s", cli->prog, only->name,
		    only->usage, only->summary, cli_common_help);
		if (cli->options_help != NULL)
			printf("%s", cli->options_help);
		return;
	}
	printf("usage: %s [options] COMMAND [ARGS]\n\ncommands:\n", cli->prog);
	for (c = cli->cmds; c->name != NULL; c++)
		printf("  %s %s\n      %s\n", c->name, c->usage, c->summary);
	printf("\noptions (every command):\n%s", cli_common_help);
	if (cli->options_help != NULL)
		printf("\ncommand options:\n%s", cli->options_help);
}

/* The common options and the command's own, as one getopt_long table. */
static struct option *
cli_options(const struct cli_cmd *cmd, char **shortopts)
{
	size_t n = 0, m = 0, i;
	struct option *o;

	while (cmd != NULL && cmd->opts != NULL && cmd->opts[n].name != NULL)
		n++;
	m = sizeof cli_common / sizeof cli_common[0];
	o = xcalloc(n + m, sizeof *o);
	memcpy(o, cli_common, (m - 1) * sizeof *o);
	for (i = 0; i < n; i++)
		o[m - 1 + i] = cmd->opts[i];
	*shortopts = xprintf("+:%s%s", CLI_SHORT, cmd && cmd->shortopts ? cmd->shortopts : "");
	return o;
}

/* One option: 0 to go on, -1 to stop with success (help, version), else an exit code. */
static int
cli_option(struct cli *cli, int c, const char *arg, char **argv)
{
	char *cause = NULL;
	int rc;

	switch (c) {
	case 'h':
		cli_help(cli, cli->cmd);
		return -1;
	case 'V':
		printf("%s %s\n", cli->prog, RTCS_VERSION);
		return -1;
	case 'S':
		cli->socket = arg;
		return 0;
	case CLI_OPT_KEYS:
		cli->keys = arg;
		return 0;
	case CLI_OPT_JSON:
		cli->json = 1;
		return 0;
	case 'q':
		cli->level = LOG_LEVEL_QUIET;
		return 0;
	case 'v':
		cli->level++;
		return 0;
	case CLI_OPT_TIMEOUT:
		if (opt_seconds_ms(arg, 1, 86400000LL, &cli->timeout_ms, &cause) != 0) {
			rc = cli_usage_error(cli, "--timeout: %s", cause);
			free(cause);
			return rc;
		}
		return 0;
	case ':':
		return cli_usage_error(cli, "option '%s' needs a value", argv[optind - 1]);
	case '?':
		if (optopt != 0)
			return cli_usage_error(cli, "unknown option '-%c'", optopt);
		return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
	}
	if (cli->opt != NULL && cli->cmd != NULL)
		return cli->opt(cli, c, arg);
	return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
}

/* getopt_long over argv (argv[0] is skipped); returns 0, -1 (done) or an exit code. */
static int
cli_parse(struct cli *cli, int argc, char **argv, int permute, int *next)
{
	struct option *o;
	char *so;
	int c, rc = 0;

	o = cli_options(cli->cmd, &so);
	if (permute)
		so[0] = '-';	/* keep positionals in place: they come back as 1 */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, so, o, NULL)) != -1) {
		if (c == 1) {
			argv[(*next)++] = optarg;
			continue;
		}
		if ((rc = cli_option(cli, c, optarg, argv)) != 0)
			break;
	}
	if (rc == 0 && permute)
		while (optind < argc)
			argv[(*next)++] = argv[optind++];
	if (!permute)
		*next = optind;
	free(o);
	free(so);
	return rc;
}

int
cli_main(struct cli *cli, int argc, char **argv)
{
	const struct cli_cmd *c;
	int rc, first, n = 0;

	cli->level = LOG_LEVEL_WARN;
	log_init(cli->prog, LOG_LEVEL_WARN);
	if ((rc = cli_parse(cli, argc, argv, 0, &first)) != 0)
		return rc < 0 ? EXIT_OK : rc;
	if (first >= argc)
		return cli_usage_error(cli, "no command given");
	for (c = cli->cmds; c->name != NULL; c++)
		if (strcmp(c->name, argv[first]) == 0)
			break;
	if (c->name == NULL)
		return cli_usage_error(cli, "unknown command '%s'", argv[first]);
	cli->cmd = c;
	argc -= first;
	argv += first;
	if ((rc = cli_parse(cli, argc, argv, 1, &n)) != 0)
		return rc < 0 ? EXIT_OK : rc;
	log_set_level(cli->level);
	return c->exec(cli, n, argv);
}

int
cli_error(const struct cli *cli, int exit, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", cli->prog, msg);
	free(msg);
	return exit;
}

struct client *
cli_client(struct cli *cli)
{
	struct client *c;
	char *sock = paths_socket(cli->socket);

	c = client_new(sock, cli->timeout_ms);
	if (c == NULL)
		cli_error(cli, EXIT_SOFTWARE, "cannot initialise libcurl");
	free(sock);
	return c;
}

int
cli_fail(const struct cli *cli, const char *what, struct client_err *err)
{
	int exit = err->exit ? err->exit : EXIT_SOFTWARE;

	if (what != NULL && err->status != 0)	/* the server answered about what */
		cli_error(cli, exit, "%s: %s", what, err->msg ? err->msg : "failed");
	else
		cli_error(cli, exit, "%s", err->msg ? err->msg : "failed");
	if (err->code[0] != '\0')
		log_debug("HTTP %ld, error code %s", err->status, err->code);
	client_err_clear(err);
	return exit;
}

char *
cli_keys_dir(const struct cli *cli)
{
	return paths_keys(cli->keys);
}

int
cli_device_key(const struct cli *cli, const char *device, const char *ext,
    const char *key, char **value, char **key_out)
{
	char *dir = cli_keys_dir(cli), *cause = NULL;
	int why = 0, rc = 0;

	if (keys_get(dir, device, ext, key, value, key_out, &why, &cause) != 0) {
		rc = cli_error(cli, keys_exit_code(why), "%s", cause);
		free(cause);
	}
	free(dir);
	return rc;
}

int
cli_device_put(const struct cli *cli, const char *device, const char *ext,
    const char *key, const char *value)
{
	return cli_device_put_in(cli, NULL, device, ext, key, value);
}

int
cli_device_put_in(const struct cli *cli, const char *keydir, const char *device,
    const char *ext, const char *key, const char *value)
{
	char *dir = keydir != NULL ? xstrdup(keydir) : cli_keys_dir(cli), *cause = NULL;
	int rc = 0;

	if (keys_put(dir, device, ext, key, value, &cause) != 0) {
		rc = cli_error(cli, EXIT_IOERR, "cannot write %s/%s.%s: %s", dir, device, ext, cause);
		free(cause);
	}
	free(dir);
	return rc;
}
