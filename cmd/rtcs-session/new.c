/* rtcs-session new and join: create a session or add a participant, keeping each device's token. */
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

/* Saves the token of every spec's device; the first failure's exit code. */
static int
new_save_tokens(struct cli *cli, const char *sid, const cJSON *tokens, int n, char **names,
    char **devices, char **dirs)
{
	const char *token;
	int i, rc;

	for (i = 0; i < n; i++) {
		if ((token = json_str(tokens, devices[i])) == NULL)
			return cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no token for %s", devices[i]);
		if ((rc = cli_device_put_in(cli, dirs[i], devices[i], "token", sid, token)) != 0)
			return rc;
		log_info("%s@%s: token saved", names[i], devices[i]);
	}
	return 0;
}

/* The answer without secrets, for --json. */
static void
new_print(struct cli *cli, cJSON *resp, const char *sid)
{
	if (cli->json) {
		cJSON_DeleteItemFromObjectCaseSensitive(resp, "tokens");
		cJSON_DeleteItemFromObjectCaseSensitive(resp, "token");
		print_json(resp);
	} else
		printf("%s\n", sid);
}

int
cmd_new(struct cli *cli, int argc, char **argv)
{
	char **names, **devices, **dirs;
	cJSON *req, *parts, *p, *resp = NULL;
	const char *sid;
	struct client *c;
	struct client_err err = { 0 };
	int i, rc;

	if (argc < 1)
		return cli_usage_error(cli, "give at least one NAME@DEVICE");
	if (sopts.kind != NULL && !name_kind_valid(sopts.kind))
		return cli_usage_error(cli, "invalid kind '%s'", sopts.kind);
	names = xcalloc((size_t)argc, sizeof *names);
	devices = xcalloc((size_t)argc, sizeof *devices);
	dirs = xcalloc((size_t)argc, sizeof *dirs);
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "kind", sopts.kind ? sopts.kind : "chat");
	parts = cJSON_AddArrayToObject(req, "participants");
	for (i = 0; i < argc; i++) {
		if ((rc = session_spec(cli, argv[i], &names[i], &devices[i], &dirs[i])) != 0)
			goto out;
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "name", names[i]);
		cJSON_AddStringToObject(p, "device", devices[i]);
		cJSON_AddItemToArray(parts, p);
	}
	if ((c = cli_client(cli)) == NULL) {
		rc = EXIT_SOFTWARE;
		goto out;
	}
	if (client_call(c, "POST", "/v1/sessions", NULL, req, &resp, &err) != 0)
		rc = cli_fail(cli, NULL, &err);
	else if ((sid = json_str(cJSON_GetObjectItemCaseSensitive(resp, "session"), "id")) == NULL)
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no session id");
	else if ((rc = new_save_tokens(cli, sid, cJSON_GetObjectItemCaseSensitive(resp, "tokens"),
	    argc, names, devices, dirs)) == 0)
		new_print(cli, resp, sid);
	client_free(c);
out:
	cJSON_Delete(req);
	cJSON_Delete(resp);
	free(names);
	free(devices);
	free(dirs);
	return rc;
}

int
cmd_join(struct cli *cli, int argc, char **argv)
{
	char *name, *device, *dir, *path;
	cJSON *req, *resp = NULL;
	const char *token;
	struct client *c;
	struct client_err err = { 0 };
	int rc;

	if (argc != 2)
		return cli_usage_error(cli, "expects ID NAME@DEVICE");
	if ((rc = session_check_id(cli, argv[0])) != 0 ||
	    (rc = session_spec(cli, argv[1], &name, &device, &dir)) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "name", name);
	cJSON_AddStringToObject(req, "device", device);
	path = xprintf("/v1/sessions/%s/participants", argv[0]);
	if (client_call(c, "POST", path, NULL, req, &resp, &err) != 0)
		rc = cli_fail(cli, argv[0], &err);
	else if ((token = json_str(resp, "token")) == NULL)
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no token");
	else if ((rc = cli_device_put_in(cli, dir, device, "token", argv[0], token)) == 0) {
		if (cli->json)
			new_print(cli, resp, argv[0]);
		log_info("%s@%s joined %s: token saved", name, device, argv[0]);
	}
	free(path);
	cJSON_Delete(req);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}
