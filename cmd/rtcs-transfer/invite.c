/* rtcs-transfer invite collect, list and revoke: an invite after it is printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "client_transfer.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "xfer.h"
#include "xmalloc.h"

/* The target device takes the tokens of the sessions its invite started. */
static int
invite_collect(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *got = NULL, *e, *out;
	char *dir;
	int rc, n = 0;

	if (argc != 1)
		return cli_usage_error(cli, "collect expects one invite ID");
	if ((rc = transfer_check_id(cli, argv[0], 'I', "invite")) != 0)
		return rc;
	if (topts.as == NULL)
		return cli_usage_error(cli, "--as DEVICE is required");
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	cli->object = argv[0];
	dir = cli_keys_dir(cli);
	if (invite_collect_tokens(c, dir, topts.as, argv[0], &got, &err) != 0)
		rc = cli_fail(cli, NULL, &err);
	/* A token that could not be stored is printed, whatever -q says: it is not handed out again. */
	if (got != NULL && cli->json) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "invite", argv[0]);
		cJSON_AddStringToObject(out, "device", topts.as);
		cJSON_AddItemToObject(out, "sessions", got);
		got = NULL;
		print_json(out);
		cJSON_Delete(out);
	} else if (got != NULL)
		cJSON_ArrayForEach(e, got) {
			n++;
			if (json_str(e, "token") != NULL)
				printf("%s %s\n", json_str(e, "session"), json_str(e, "token"));
			else
				printf("%s\n", json_str(e, "session"));
		}
	if (rc == 0 && !cli->json && n == 0)
		log_info("invite %s: no session left to collect for %s", argv[0], topts.as);
	cJSON_Delete(got);
	free(dir);
	client_free(c);
	return rc;
}

static void
invite_line(const cJSON *inv)
{
	const cJSON *mu = cJSON_GetObjectItemCaseSensitive(inv, "max_uses");
	const char *exp = json_str(inv, "expires_at");

	printf("%s  %-8s to %s (%s)  uses %.0f/%s%.0f  expires %s\n", json_str(inv, "id"),
	    json_str(inv, "state"), json_str(inv, "to"), json_str(inv, "name"),
	    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(inv, "uses")),
	    cJSON_IsNumber(mu) ? "" : "any", cJSON_IsNumber(mu) ? mu->valuedouble : 0,
	    exp != NULL ? exp : "never");
}

static int
invite_list(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *resp = NULL, *inv;
	int rc = 0;

	(void)argv;
	if (argc != 0)
		return cli_usage_error(cli, "list takes no arguments");
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	if (client_call(c, "GET", "/v1/invites", NULL, NULL, &resp, &err) != 0)
		rc = cli_fail(cli, NULL, &err);
	else if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(resp, "invites")))
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no invite list");
	else if (cli->json)
		print_json(resp);
	else
		cJSON_ArrayForEach(inv, cJSON_GetObjectItemCaseSensitive(resp, "invites"))
			invite_line(inv);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}

static int
invite_revoke(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *resp = NULL;
	char *path;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "revoke expects one invite ID");
	if ((rc = transfer_check_id(cli, argv[0], 'I', "invite")) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	cli->object = argv[0];
	path = xprintf("/v1/invites/%s", argv[0]);
	if (client_call(c, "DELETE", path, NULL, NULL, &resp, &err) != 0)
		rc = cli_fail(cli, NULL, &err);
	else if (cli->json)
		print_json(resp);
	else
		log_info("invite %s revoked", argv[0]);
	free(path);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}

int
invite_subcommand(struct cli *cli, int argc, char **argv)
{
	if (strcmp(argv[0], "collect") == 0)
		return invite_collect(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return invite_list(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "revoke") == 0)
		return invite_revoke(cli, argc - 1, argv + 1);
	return cli_usage_error(cli, "unknown invite command '%s' (collect, list or revoke)", argv[0]);
}
