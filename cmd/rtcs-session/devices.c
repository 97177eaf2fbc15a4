/* rtcs-session devices and unlink: each participant's channels over time; closing one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "session.h"
#include "xmalloc.h"

static const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

/* One line a channel: participant, device, state, opened, closed and why, last seen. */
static void
devices_print(const cJSON *resp)
{
	const cJSON *p, *ch;

	printf("%-16s %-20s %-6s %-24s %-24s %-12s %s\n", "PARTICIPANT", "DEVICE", "STATE",
	    "OPENED", "CLOSED", "WHY", "LAST-SEEN");
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(resp, "participants"))
		cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(p, "channels"))
			printf("%-16s %-20s %-6s %-24s %-24s %-12s %s\n", json_str(p, "name"),
			    or_dash(json_str(ch, "device")), or_dash(json_str(ch, "state")),
			    or_dash(json_str(ch, "opened_at")), or_dash(json_str(ch, "closed_at")),
			    or_dash(json_str(ch, "closed_reason")),
			    or_dash(json_str(ch, "last_seen_at")));
}

int
cmd_devices(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *resp = NULL;
	char *path;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one session ID");
	if ((rc = session_check_id(cli, argv[0])) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	path = xprintf("/v1/sessions/%s/devices", argv[0]);
	if (client_call(c, "GET", path, NULL, NULL, &resp, &err) != 0)
		rc = cli_fail(cli, argv[0], &err);
	else if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(resp, "participants")))
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no participants");
	else if (cli->json)
		print_json(resp);
	else
		devices_print(resp);
	free(path);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}

int
cmd_unlink(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *resp = NULL;
	char *path;
	int rc;

	if (argc != 2)
		return cli_usage_error(cli, "expects ID DEVICE");
	if ((rc = session_check_id(cli, argv[0])) != 0)
		return rc;
	if (!name_valid(argv[1]))
		return cli_usage_error(cli, "invalid device name '%s'", argv[1]);
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	path = xprintf("/v1/sessions/%s/devices/%s", argv[0], argv[1]);
	if (client_call(c, "DELETE", path, NULL, NULL, &resp, &err) != 0)
		rc = cli_fail(cli, argv[0], &err);
	else if (cli->json)
		print_json(resp);
	else
		log_info("%s unlinked from %s: its token is revoked", argv[1], argv[0]);
	free(path);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}
