/* rtcs-transfer: the transfer lifecycle from a terminal; options and dispatch. */
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "opt.h"
#include "transfer.h"
#include "xfer.h"
#include "xmalloc.h"

struct transfer_opts topts = { .since = -1, .rotate = -1 };

#define O_AS	{ "as", required_argument, NULL, OPT_AS }
#define O_TTL	{ "ttl", required_argument, NULL, OPT_TTL }
#define O_SESS	{ "session", required_argument, NULL, OPT_SESSION }
#define O_MATCH	{ "match", required_argument, NULL, OPT_MATCH }
#define O_OUT	{ "output", required_argument, NULL, 'o' }
#define O_CONF	{ "confirm", required_argument, NULL, OPT_CONFIRM }
#define O_PROOF	{ "proof", required_argument, NULL, OPT_PROOF }
#define O_END	{ NULL, 0, NULL, 0 }

#define O_ROT	{ "rotate", required_argument, NULL, OPT_ROTATE }
static const struct option opt_request[] = {
	O_AS, { "to", required_argument, NULL, OPT_TO }, O_TTL, O_CONF, O_PROOF, O_ROT,
	{ "follow", no_argument, NULL, OPT_FOLLOW }, O_OUT, O_END
};
static const struct option opt_offer[] = {
	O_AS, O_SESS, O_TTL, { "follow", no_argument, NULL, OPT_FOLLOW }, O_OUT, O_END
};
static const struct option opt_as[] = { O_AS, O_END };
static const struct option opt_confirm[] = {
	O_AS, O_MATCH, { "check", required_argument, NULL, OPT_CHECK }, O_END
};
static const struct option opt_list[] = {
	O_SESS, { "state", required_argument, NULL, OPT_STATE }, O_END
};
static const struct option opt_wait[] = { O_AS, { "for", required_argument, NULL, OPT_FOR }, O_END };
static const struct option opt_watch[] = {
	O_SESS, { "since", required_argument, NULL, OPT_SINCE }, O_END
};
static const struct option opt_run[] = {
	{ "from", required_argument, NULL, OPT_FROM }, { "to", required_argument, NULL, OPT_TO },
	O_OUT, O_MATCH, O_TTL, O_CONF, O_PROOF, O_ROT, O_END
};
static const struct option opt_invite[] = {
	{ "to", required_argument, NULL, OPT_TO }, { "name", required_argument, NULL, OPT_NAME },
	{ "kind", required_argument, NULL, OPT_KIND }, O_OUT, O_TTL,
	{ "uses", required_argument, NULL, OPT_USES }, O_AS, O_END
};

static const struct option opt_submit[] = {
	O_AS, O_SESS, { "name", required_argument, NULL, OPT_NAME },
	{ "upload", no_argument, NULL, OPT_UPLOAD }, { "wait", no_argument, NULL, OPT_WAIT }, O_END
};

static const struct cli_cmd transfer_cmds[] = {
	{ "request", "SESSION --as DEVICE [--to DEVICE] [--ttl S] [--confirm none|origin|peers|all] "
	  "[--proof both|scanner] [--rotate S] [--follow] [-o FILE]", "push: ask for a code to "
	  "move DEVICE's place in SESSION; print the payload (--follow: and each new one\n"
	  "      it rotates to, until it is scanned)", "o:", opt_request, cmd_request },
	{ "offer", "--as DEVICE [--session SESSION] [--ttl S] [--follow] [-o FILE]",
	  "pull: a new DEVICE asks for a code to show; print the payload (--follow: and\n"
	  "      each new one it rotates to, until it is scanned)", "o:", opt_offer, cmd_offer },
	{ "show", "ID", "show a transfer", "", NULL, cmd_show },
	{ "list", "[--session SESSION] [--state open|all]", "list transfers", "", opt_list, cmd_list },
	{ "confirm", "ID --as DEVICE [--match N|-] [--check NN|-]",
	  "consent to a transfer (the origin types the claimant's match code, or a pull's "
	  "check code)", "", opt_confirm,
	  cmd_confirm },
	{ "reject", "ID --as DEVICE", "refuse a transfer", "", opt_as, cmd_reject },
	{ "cancel", "ID [--as DEVICE]", "cancel a transfer", "", opt_as, cmd_cancel },
	{ "wait", "ID [--as DEVICE] [--for STATE] [--timeout S]",
	  "wait until the transfer reaches STATE (default completed); a pull's new device "
	  "prints its check code; a claimant stores its token",
	  "", opt_wait, cmd_wait },
	{ "watch", "[ID | --session SESSION] [--since N]",
	  "print transfer events as they happen", "", opt_watch, cmd_watch },
	{ "run", "SESSION --from DEVICE --to DEVICE [-o FILE] [--match -|N] [--ttl S] "
	  "[--confirm P] [--proof P] [--rotate S]", "the whole push flow: request, show the code, wait for "
	  "the scan, confirm, report", "o:", opt_run, cmd_run },
	{ "invite", "--to DEVICE [--name NAME] [--kind KIND] [--ttl S] [--uses N] [-o FILE]\n"
	  "      | collect ID --as DEVICE | list | revoke ID",
	  "a printable code that starts a session with DEVICE (valid --ttl S, default 7 days,\n"
	  "      for --uses N sessions, default any number); collect: DEVICE stores the tokens\n"
	  "      of the sessions it started; list: every invite; revoke: later scans get 410",
	  "o:", opt_invite, cmd_invite },
	{ "submit", "PAYLOAD|- --as DEVICE [--session SESSION] [--name NAME] [--upload] [--wait]",
	  "submit a scanned code as DEVICE's image data (rtcs-scan's submit mode runs this); "
	  "with --upload the PNG is read from stdin", "", opt_submit, cmd_submit },
	{ "explain", "PAYLOAD|-", "what a scanned code would do, who issued it, whether its "
	  "signature holds; submits nothing (rtcs-scan's explain mode runs this)", "", NULL,
	  cmd_explain },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};

static const char transfer_options_help[] =
    "      --as DEVICE       the device acting (its token or claim from the key directory)\n"
    "      --to DEVICE       the device the session moves to (request, run); invite's target\n"
    "      --from DEVICE     run: the origin device\n"
    "      --ttl SECONDS     the code's lifetime (the server's default: 120; invite: 7 days)\n"
    "      --confirm POLICY  none, origin, peers or all\n"
    "      --proof POLICY    both or scanner\n"
    "      --rotate S        request, run: a new code every S seconds (2 to the --ttl) while\n"
    "                        it is not scanned; 0 off (only where the server's is off)\n"
    "      --follow          request, offer: show each new code until the code is scanned\n"
    "      --session SESSION the session (offer: bind the offer to it; list, watch: filter)\n"
    "      --match N|-       the 6-digit match code shown by the claimant; - reads it\n"
    "                        from standard input (the first line that holds one)\n"
    "      --check NN|-      confirm: the 2-digit check code a pull's new device shows\n"
    "                        (its wait prints it); - reads it from standard input\n"
    "      --for STATE       wait: issued, scanned, verified, committing, completed or failed\n"
    "      --state STATE     list: open or all\n"
    "      --since N         watch: start after server event N\n"
    "      --name NAME       invite: the participant name of the target device\n"
    "      --kind KIND       invite: the kind of the session it starts\n"
    "      --uses N          invite: how many sessions it may start (default any number)\n"
    "      --upload          submit: send the PNG read from stdin; the server decodes it\n"
    "      --wait            submit: block until the transfer ends; store the new token\n"
    "  -o, --output FILE     request, offer, run, invite: also render the code as a PNG file\n"
    "                        (replaced at each rotation)\n";

static int
transfer_opt_choice(struct cli *cli, const char *arg, const char *const *choices, const char **out)
{
	char *cause = NULL;
	int rc;

	if (opt_choice(arg, choices, &cause) >= 0) {
		*out = arg;
		return 0;
	}
	rc = cli_usage_error(cli, "%s", cause);
	free(cause);
	return rc;
}

static int
transfer_opt_device(struct cli *cli, const char *arg, const char **out)
{
	if (!name_valid(arg))
		return cli_usage_error(cli, "invalid device name '%s'", arg);
	*out = arg;
	return 0;
}

static int
transfer_opt(struct cli *cli, int val, const char *arg)
{
	static const char *const confirms[] = { "none", "origin", "peers", "all", NULL };
	static const char *const proofs[] = { "both", "scanner", NULL };
	static const char *const states[] = { "issued", "scanned", "verified", "committing",
	    "completed", "failed", NULL };
	static const char *const lstates[] = { "open", "all", NULL };
	char *cause = NULL;
	int rc;

	switch (val) {
	case OPT_AS:
		return transfer_opt_device(cli, arg, &topts.as);
	case OPT_TO:
		return transfer_opt_device(cli, arg, &topts.to);
	case OPT_FROM:
		return transfer_opt_device(cli, arg, &topts.from);
	case OPT_NAME:
		return transfer_opt_device(cli, arg, &topts.name);
	case OPT_KIND:
		return transfer_opt_device(cli, arg, &topts.kind);
	case OPT_CONFIRM:
		return transfer_opt_choice(cli, arg, confirms, &topts.confirm);
	case OPT_PROOF:
		return transfer_opt_choice(cli, arg, proofs, &topts.proof);
	case OPT_FOR:
		return transfer_opt_choice(cli, arg, states, &topts.want);
	case OPT_STATE:
		return transfer_opt_choice(cli, arg, lstates, &topts.state);
	case OPT_UPLOAD:
		topts.upload = 1;
		return 0;
	case OPT_WAIT:
		topts.wait = 1;
		return 0;
	case OPT_FOLLOW:
		topts.follow = 1;
		return 0;
	case OPT_ROTATE:
		if (transfer_parse_rotate(arg, &topts.rotate, &cause) == 0)
			return 0;
		break;
	case OPT_SESSION:
		topts.session = arg;
		return 0;
	case 'o':
		topts.output = arg;
		return 0;
	case OPT_MATCH:
		if (strcmp(arg, "-") != 0 && (strlen(arg) != 6 || strspn(arg, "0123456789") != 6))
			return cli_usage_error(cli, "--match: '%s' is not a 6-digit code or -", arg);
		topts.match = arg;
		return 0;
	case OPT_CHECK:
		if (strcmp(arg, "-") != 0 && (strlen(arg) != 2 || strspn(arg, "0123456789") != 2))
			return cli_usage_error(cli, "--check: '%s' is not a 2-digit code or -", arg);
		topts.check = arg;
		return 0;
	case OPT_TTL:
		/* Up to a year for an invite; the server caps a transfer's lifetime itself. */
		if (opt_seconds_ms(arg, 1000, 366 * 86400000LL, &topts.ttl_ms, &cause) == 0)
			return 0;
		break;
	case OPT_USES:
		if (opt_number(arg, 1, 1024, &topts.uses, &cause) == 0)
			return 0;
		break;
	case OPT_SINCE:
		if (opt_number(arg, 0, (1LL << 53), &topts.since, &cause) == 0)
			return 0;
		break;
	default:
		return cli_usage_error(cli, "unexpected option");
	}
	rc = cli_usage_error(cli, "%s", cause);
	free(cause);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli cli;

	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	memset(&cli, 0, sizeof cli);
	/* rtcs-scan --submit runs "rtcs-transfer submit" under its own name, as it reports. */
	cli.prog = strcmp(base, "rtcs-scan") == 0 ? "rtcs-scan" : "rtcs-transfer";
	cli.cmds = transfer_cmds;
	cli.options_help = transfer_options_help;
	cli.opt = transfer_opt;
	return cli_main(&cli, argc, argv);
}
