/* rtcs-session list, show and end: the operator's view of sessions. */
#include <stdio.h>
#include <stdlib.h>

#include "client.h"
#include "exitcode.h"
#include "session.h"
#include "xmalloc.h"

int
session_store_read(struct cli *cli, const char *what)
{
	return cli_error(cli, EXIT_SOFTWARE, "%s: reading a store offline (--store %s) is not "
	    "built into this version; ask rtcs-serve", what, sopts.store);
}

int
cmd_list(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *resp = NULL, *s;
	char *path;
	int rc = 0;

	(void)argv;
	if (argc != 0)
		return cli_usage_error(cli, "takes no arguments");
	if (sopts.store != NULL)
		return session_store_read(cli, "list");
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	path = xprintf("/v1/sessions?state=%s", sopts.state ? sopts.state : "all");
	if (client_call(c, "GET", path, NULL, NULL, &resp, &err) != 0)
		rc = cli_fail(cli, "list", &err);
	else if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(resp, "sessions")))
		rc = cli_error(cli, EXIT_PROTOCOL, "list: rtcs-serve returned no session list");
	else if (cli->json)
		print_json(resp);
	else
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(resp, "sessions"))
			print_session_line(s);
	free(path);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}

/* GET or DELETE of one session, printed in full (show) or not (end). */
static int
session_one(struct cli *cli, int argc, char **argv, const char *method)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *resp = NULL, *s;
	char *path;
	int rc = 0, show = method[0] == 'G';

	if (argc != 1)
		return cli_usage_error(cli, "expects one session ID");
	if ((rc = session_check_id(cli, argv[0])) != 0)
		return rc;
	if (show && sopts.store != NULL)
		return session_store_read(cli, "show");
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	path = xprintf("/v1/sessions/%s", argv[0]);
	if (client_call(c, method, path, NULL, NULL, &resp, &err) != 0)
		rc = cli_fail(cli, argv[0], &err);
	else if (!cJSON_IsObject(s = cJSON_GetObjectItemCaseSensitive(resp, "session")))
		rc = cli_error(cli, EXIT_PROTOCOL, "%s: rtcs-serve returned no session", argv[0]);
	else if (cli->json)
		print_json(resp);
	else if (show)
		print_session(s);
	free(path);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}

int
cmd_show(struct cli *cli, int argc, char **argv)
{
	return session_one(cli, argc, argv, "GET");
}

int
cmd_end(struct cli *cli, int argc, char **argv)
{
	return session_one(cli, argc, argv, "DELETE");
}
