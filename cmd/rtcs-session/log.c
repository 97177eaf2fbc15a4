/* rtcs-session log: the session's log so far, or followed live. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "exitcode.h"
#include "session.h"
#include "xmalloc.h"

int
stream_exit(struct cli *cli, const char *what, const struct stream_state *st, int rc,
    struct client_err *err)
{
	if (rc < 0)
		return cli_fail(cli, what, err);
	if (!st->closed)
		return rc > 0 ? EXIT_OK : cli_error(cli, EXIT_UNAVAILABLE,
		    "the stream from rtcs-serve ended before the channel closed");
	if (strcmp(st->reason, "shutdown") == 0)
		return cli_error(cli, EXIT_UNAVAILABLE, "rtcs-serve is shutting down");
	return EXIT_OK;
}

/* The log from a store offline: what is there now, --follow makes no sense. */
static int
log_from_store(struct cli *cli, const char *sid)
{
	struct stream_state st;
	cJSON *all, *log, *e;
	int rc;

	if (sopts.follow || sopts.as != NULL)
		return cli_usage_error(cli, "--store reads the log as it is: no --follow, no --as");
	if ((rc = session_store_load(cli, sid, &all, &log)) != 0)
		return rc;
	if (cJSON_GetObjectItemCaseSensitive(all, sid) == NULL)
		rc = cli_error(cli, EXIT_NOINPUT, "no such session in %s", sopts.store);
	else {
		memset(&st, 0, sizeof st);
		st.json = cli->json;
		cJSON_ArrayForEach(e, log)
			print_stream_line(e, &st);
	}
	cJSON_Delete(all);
	cJSON_Delete(log);
	return rc;
}

int
cmd_log(struct cli *cli, int argc, char **argv)
{
	struct stream_state st;
	struct client *c, *lookup = NULL;
	struct client_err err = { 0 };
	char *path, *token = NULL, *hint = NULL;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one session ID");
	if (sopts.as != NULL && !sopts.follow)
		return cli_usage_error(cli, "--as goes with --follow");
	if ((rc = session_check_id(cli, argv[0])) != 0)
		return rc;
	if (sopts.store != NULL)
		return log_from_store(cli, argv[0]);
	if (sopts.as != NULL && (rc = cli_device_key(cli, sopts.as, "token", argv[0], &token, NULL)) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL) {
		free(token);
		return EXIT_SOFTWARE;
	}
	memset(&st, 0, sizeof st);
	st.json = cli->json;
	st.stop_on_end = sopts.follow;
	if (token != NULL) {	/* a device follows its own stream; its hints as attach's */
		path = session_stream_path(argv[0]);
		st.token = token;
		st.lookup = lookup = cli_client(cli);
		st.hint = hint = cli_hint_prefix("rtcs-transfer", cli->socket, cli->keys);
	} else
		path = xprintf("/v1/sessions/%s/log?since=%lld%s", argv[0],
		    sopts.since >= 0 ? sopts.since : 0, sopts.follow ? "&follow=1" : "");
	rc = client_stream(c, path, token, cli->timeout_ms, print_stream_line, &st, &err);
	if (token != NULL)
		rc = stream_exit(cli, argv[0], &st, rc, &err);
	else if (rc < 0)
		rc = cli_fail(cli, argv[0], &err);
	else if (rc == 0 && sopts.follow)	/* ended before the session did */
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve ended the log instead of "
		    "following it (it needs log?follow=1); try --follow --as DEVICE");
	else
		rc = EXIT_OK;
	free(path);
	free(token);
	free(hint);
	client_free(lookup);
	client_free(c);
	return rc;
}
