/* rtcs-session: sessions and devices from a terminal; options and dispatch. */
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "opt.h"
#include "session.h"
#include "xmalloc.h"

struct session_opts sopts = { .since = -1, .linger_ms = -1 };

static const struct option opt_kind[] = {
	{ "kind", required_argument, NULL, OPT_KIND }, { NULL, 0, NULL, 0 }
};
static const struct option opt_as_since[] = {
	{ "as", required_argument, NULL, OPT_AS },
	{ "since", required_argument, NULL, OPT_SINCE }, { NULL, 0, NULL, 0 }
};
static const struct option opt_as[] = {
	{ "as", required_argument, NULL, OPT_AS }, { NULL, 0, NULL, 0 }
};
static const struct option opt_list[] = {
	{ "state", required_argument, NULL, OPT_STATE },
	{ "store", required_argument, NULL, OPT_STORE }, { NULL, 0, NULL, 0 }
};
static const struct option opt_store[] = {
	{ "store", required_argument, NULL, OPT_STORE }, { NULL, 0, NULL, 0 }
};
static const struct option opt_log[] = {
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "as", required_argument, NULL, OPT_AS },
	{ "store", required_argument, NULL, OPT_STORE }, { NULL, 0, NULL, 0 }
};

static const struct option opt_media[] = {
	{ "as", required_argument, NULL, OPT_AS },
	{ "send", required_argument, NULL, OPT_SEND },
	{ "receive", required_argument, NULL, OPT_RECEIVE },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "video", required_argument, NULL, OPT_VIDEO },
	{ "linger", required_argument, NULL, OPT_LINGER },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "transfer", required_argument, NULL, OPT_TRANSFER }, { NULL, 0, NULL, 0 }
};

static const struct cli_cmd session_cmds[] = {
	{ "new", "[--kind KIND] NAME@DEVICE[:KEYDIR]...",
	  "create a session; print its id and save each device's token", "", opt_kind, cmd_new },
	{ "list", "[--state live|ended|all] [--store DIR]",
	  "list the sessions", "", opt_list, cmd_list },
	{ "show", "ID [--store DIR]", "show a session, its participants and channels", "",
	  opt_store, cmd_show },
	{ "end", "ID", "end a session: every attached device is told", "", NULL, cmd_end },
	{ "join", "ID NAME@DEVICE[:KEYDIR]", "add a participant, or give one with no open "
	  "channel (unlinked) a new device; save its device's token", "", NULL, cmd_join },
	{ "devices", "ID", "each participant's channels over time: device, state, opened, "
	  "closed and why, last seen", "", NULL, cmd_devices },
	{ "unlink", "ID DEVICE", "close DEVICE's open channel and revoke its token; its "
	  "stream ends (unlinked)", "", NULL, cmd_unlink },
	{ "attach", "ID --as DEVICE [--since N]",
	  "chat as DEVICE: stdin lines are sent, the session's stream is printed", "",
	  opt_as_since, cmd_attach },
	{ "send", "ID --as DEVICE [TEXT...|-]",
	  "send TEXT, or each line of stdin, as DEVICE", "", opt_as, cmd_send },
	{ "media", "ID --as DEVICE [--send FILE] [--receive OUT.wav] [--resume] [--video RATEfps:SIZE]\n"
	  "      [--transfer TID] [--linger S] [--duration S]",
	  "a call as DEVICE: send FILE's audio (Opus, 20 ms frames) and simulated video,\n"
	  "      write what the others send into OUT.wav, report frames lost, late and the gaps",
	  "", opt_media, cmd_media },
	{ "log", "ID [--since N] [--follow [--as DEVICE]] [--store DIR]",
	  "print the session's log; --follow keeps printing until the session ends", "",
	  opt_log, cmd_log },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};

static const char session_options_help[] =
    "      --kind KIND       new: chat, telephony, video or another word (default chat)\n"
    "      --as DEVICE       the device acting (its token from the key directory)\n"
    "      --since N         start after log sequence number N\n"
    "      --follow          log: keep printing new entries until the session ends\n"
    "      --state STATE     list: live, ended or all (default all)\n"
    "      --store DIR       read the store offline instead of asking rtcs-serve\n"
    "      --send FILE       media: the audio to send (WAV, FLAC, ...: 8 to 48 kHz)\n"
    "      --receive OUT     media: write what the others send to OUT (WAV)\n"
    "      --resume          media: take up FILE where the server last heard this participant\n"
    "      --video SPEC      media: simulated video frames, RATEfps:SIZE (30fps:25KB)\n"
    "      --linger S        media: stop once the others are quiet S seconds (default 2)\n"
    "      --duration S      media: send for S seconds at most\n"
    "      --transfer TID    media: ready first; go once DEVICE's transfer TID completes\n";

static int
session_opt(struct cli *cli, int val, const char *arg)
{
	static const char *const states[] = { "live", "ended", "all", NULL };
	char *cause = NULL;
	int rc;

	switch (val) {
	case OPT_KIND:
		sopts.kind = arg;
		return 0;
	case OPT_AS:
		sopts.as = arg;
		return 0;
	case OPT_STORE:
		sopts.store = arg;
		return 0;
	case OPT_FOLLOW:
		sopts.follow = 1;
		return 0;
	case OPT_SINCE:
		if (opt_number(arg, 0, (1LL << 53), &sopts.since, &cause) == 0)
			return 0;
		break;
	case OPT_SEND:
		sopts.send = arg;
		return 0;
	case OPT_RECEIVE:
		sopts.receive = arg;
		return 0;
	case OPT_RESUME:
		sopts.resume = 1;
		return 0;
	case OPT_VIDEO:
		sopts.video = arg;
		return 0;
	case OPT_TRANSFER:
		sopts.transfer = arg;
		return 0;
	case OPT_LINGER:
		if (opt_seconds_ms(arg, 0, 86400000LL, &sopts.linger_ms, &cause) == 0)
			return 0;
		break;
	case OPT_DURATION:
		if (opt_seconds_ms(arg, 1, 86400000LL, &sopts.duration_ms, &cause) == 0)
			return 0;
		break;
	case OPT_STATE:
		if (opt_choice(arg, states, &cause) >= 0) {
			sopts.state = arg;
			return 0;
		}
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

	memset(&cli, 0, sizeof cli);
	cli.prog = "rtcs-session";
	cli.cmds = session_cmds;
	cli.options_help = session_options_help;
	cli.opt = session_opt;
	return cli_main(&cli, argc, argv);
}
