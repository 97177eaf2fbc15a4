/* The command table of the client programs: common options, dispatch, help. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "keys.h"
#include "paths.h"
#include "version.h"
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

/*
 * getopt_long's '?': an unknown option, or a value given to one that takes
 * none ("--json=1": optopt then holds the option's code, not a character).
 */
static int
cli_bad_option(struct cli *cli, const char *word)
{
	const char *eq = strchr(word, '=');

	if (optopt > 0 && optopt < 128 && isalnum(optopt))
		return cli_usage_error(cli, "unknown option '-%c'", optopt);
	if (strncmp(word, "--", 2) == 0 && eq != NULL)
		return cli_usage_error(cli, "option '%.*s' takes no value", (int)(eq - word), word);
	return cli_usage_error(cli, "unknown option '%s'", word);
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
		version_print(cli->prog, version_program_libs);
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
		return cli_bad_option(cli, argv[optind - 1]);
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

static char *cli_unrepeat(const char *msg, const char *id);

/* "cmd" or "cmd ID": what an error line is about. */
static char *
cli_what(const struct cli *cli, const char *id)
{
	const char *cmd = cli->cmd != NULL ? cli->cmd->name : NULL;

	if (id == NULL)
		id = cli->object;
	if (cmd == NULL)
		return id != NULL ? xstrdup(id) : NULL;
	return id != NULL ? xprintf("%s %s", cmd, id) : xstrdup(cmd);
}

void
cli_print(const char *prog, const char *what, const char *msg)
{
	if (what != NULL)
		fprintf(stderr, "%s: %s: %s\n", prog, what, msg);
	else
		fprintf(stderr, "%s: %s\n", prog, msg);
}

int
cli_error(const struct cli *cli, int exit, const char *fmt, ...)
{
	va_list ap;
	char *msg, *what = cli_what(cli, NULL);

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (cli->object != NULL) {	/* WHAT names it already */
		char *m = cli_unrepeat(msg, cli->object);
		free(msg);
		msg = m;
	}
	cli_print(cli->prog, what, msg);
	free(what);
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

/* Our words for the server's codes whose own message is only the code and the id. */
static const struct {
	const char	*code;
	const char	*why;
} cli_whys[] = {
	{ "bad_state", "the transfer is not at that step" },
	{ "transfer_ended", "the transfer is over" },
	{ "expired", "the code has expired" },
	{ "already_claimed", "another device scanned the code first" },
	{ "code_mismatch", "the image data does not match the code (a failed attempt)" },
	{ "wrong_device", "the code was issued for another device (a failed attempt)" },
	{ "match_mismatch", "wrong match code (a failed attempt)" },
	{ "check_mismatch", "wrong check code (a failed attempt)" },
	{ "too_many_attempts", "too many failed attempts: the code is burnt" },
	{ "rejected", "the transfer was rejected" },
	{ "cancelled", "the transfer was cancelled" },
};

/* Appends s[0..n) to *out. */
static void
cli_cat(char **out, size_t *len, const char *s, size_t n)
{
	*out = xrealloc(*out, *len + n + 1);
	memcpy(*out + *len, s, n);
	*len += n;
	(*out)[*len] = '\0';
}

/*
 * msg without id: "transfer ID: x" is "x", "no transfer ID" is "no such
 * transfer", "session ID" is "the session", a bare ID is "it".
 */
static char *
cli_unrepeat(const char *msg, const char *id)
{
	static const char *const objs[] = { "transfer", "session", "invite", NULL };
	const char *p = msg, *hit, *obj = NULL;
	size_t idlen = strlen(id), len = 0, k, olen = 0;
	char *out = xstrdup("");
	int i;

	while ((hit = strstr(p, id)) != NULL) {
		obj = NULL;
		for (i = 0; objs[i] != NULL && obj == NULL; i++) {
			olen = strlen(objs[i]);
			if ((size_t)(hit - p) >= olen + 1 && hit[-1] == ' ' &&
			    strncmp(hit - olen - 1, objs[i], olen) == 0)
				obj = objs[i];
		}
		k = (size_t)(hit - p) - (obj != NULL ? olen + 1 : 0);
		if (obj != NULL && hit - olen - 1 == msg && strncmp(hit + idlen, ": ", 2) == 0) {
			p = hit + idlen + 2;	/* a leading "transfer ID: " */
			continue;
		}
		if (obj != NULL && k >= 3 && strncmp(p + k - 3, "no ", 3) == 0) {
			cli_cat(&out, &len, p, k);
			cli_cat(&out, &len, "such ", 5);
			cli_cat(&out, &len, obj, olen);
		} else if (obj != NULL) {
			cli_cat(&out, &len, p, k);
			cli_cat(&out, &len, "the ", 4);
			cli_cat(&out, &len, obj, olen);
		} else {
			cli_cat(&out, &len, p, k);
			cli_cat(&out, &len, "it", 2);
		}
		p = hit + idlen;
	}
	cli_cat(&out, &len, p, strlen(p));
	return out;
}

char *
cli_why(const struct client_err *err, const char *id)
{
	size_t i;

	for (i = 0; err->status != 0 && i < sizeof cli_whys / sizeof cli_whys[0]; i++)
		if (strcmp(err->code, cli_whys[i].code) == 0)
			return xstrdup(cli_whys[i].why);
	if (err->msg == NULL)
		return xstrdup("failed");
	if (id == NULL || *id == '\0')
		return xstrdup(err->msg);
	return cli_unrepeat(err->msg, id);
}

int
cli_fail_as(const char *prog, const char *what, const char *id, struct client_err *err)
{
	int exit = err->exit ? err->exit : EXIT_SOFTWARE;
	char *why = cli_why(err, id);

	cli_print(prog, what, why);
	if (err->code[0] != '\0')
		log_debug("HTTP %ld, error code %s", err->status, err->code);
	free(why);
	client_err_clear(err);
	return exit;
}

int
cli_fail(struct cli *cli, const char *id, struct client_err *err)
{
	char *what = cli_what(cli, id);
	int rc;

	rc = cli_fail_as(cli->prog, what, id != NULL ? id : cli->object, err);
	free(what);
	return rc;
}

/* path made absolute (the directory need not exist); newly allocated. */
static char *
cli_absolute(const char *path)
{
	char *cwd, *p;

	if (path[0] == '/' || (cwd = getcwd(NULL, 0)) == NULL)
		return xstrdup(path);
	p = xprintf("%s/%s", cwd, strncmp(path, "./", 2) == 0 ? path + 2 : path);
	free(cwd);
	return p;
}

char *
cli_hint_prefix(const char *prog, const char *socket, const char *keys)
{
	char *sock = socket ? cli_absolute(socket) : NULL, *dir = keys ? cli_absolute(keys) : NULL;
	char *p = xprintf("%s%s%s%s%s", prog, sock ? " -S " : "", sock ? sock : "",
	    dir ? " --keys " : "", dir ? dir : "");

	free(sock);
	free(dir);
	return p;
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
