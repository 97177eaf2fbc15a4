/* rtcs-session list, show and end: the operator's view of sessions, from the server or a store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "exitcode.h"
#include "json.h"
#include "session.h"
#include "xmalloc.h"

static int
list_by_creation(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	const char *tx = json_str(x, "created_at"), *ty = json_str(y, "created_at");
	int c = strcmp(tx ? tx : "", ty ? ty : "");

	return c != 0 ? c : strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

/* {"sessions":[...]} from the store, as GET /v1/sessions?state= would answer. */
static int
list_from_store(struct cli *cli, const char *state, cJSON **resp)
{
	cJSON *all, *log, *s, **v, *list;
	const char *st;
	size_t n = 0, i;
	int rc;

	if ((rc = session_store_load(cli, NULL, &all, &log)) != 0)
		return rc;
	v = xcalloc((size_t)cJSON_GetArraySize(all) + 1, sizeof *v);
	cJSON_ArrayForEach(s, all)
		v[n++] = s;
	qsort(v, n, sizeof *v, list_by_creation);
	*resp = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(*resp, "sessions");
	for (i = 0; i < n; i++) {
		st = json_str(v[i], "state");
		if (strcmp(state, "all") != 0 && (st == NULL || strcmp(st, state) != 0))
			continue;
		s = cJSON_Duplicate(v[i], 1);
		cJSON_DeleteItemFromObjectCaseSensitive(s, "channels");
		cJSON_AddItemToArray(list, s);
	}
	free(v);
	cJSON_Delete(all);
	cJSON_Delete(log);
	return 0;
}

static int
list_print(struct cli *cli, const cJSON *resp)
{
	const cJSON *s, *list = cJSON_GetObjectItemCaseSensitive(resp, "sessions");

	if (!cJSON_IsArray(list))
		return cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no session list");
	if (cli->json)
		print_json(resp);
	else
		cJSON_ArrayForEach(s, list)
			print_session_line(s);
	return 0;
}

int
cmd_list(struct cli *cli, int argc, char **argv)
{
	const char *state = sopts.state ? sopts.state : "all";
	struct client *c = NULL;
	struct client_err err = { 0 };
	cJSON *resp = NULL;
	char *path;
	int rc = 0;

	(void)argv;
	if (argc != 0)
		return cli_usage_error(cli, "takes no arguments");
	if (sopts.store != NULL)
		rc = list_from_store(cli, state, &resp);
	else if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	else {
		path = xprintf("/v1/sessions?state=%s", state);
		if (client_call(c, "GET", path, NULL, NULL, &resp, &err) != 0)
			rc = cli_fail(cli, NULL, &err);
		free(path);
	}
	if (rc == 0)
		rc = list_print(cli, resp);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}

/* {"session":{...}} from the store, as GET /v1/sessions/{id} would answer. */
static int
show_from_store(struct cli *cli, const char *id, cJSON **resp)
{
	cJSON *all, *log, *s;
	int rc;

	if ((rc = session_store_load(cli, NULL, &all, &log)) != 0)
		return rc;
	if ((s = cJSON_DetachItemFromObjectCaseSensitive(all, id)) == NULL)
		rc = cli_error(cli, EXIT_NOINPUT, "no such session in %s", sopts.store);
	else {
		*resp = cJSON_CreateObject();
		cJSON_AddItemToObject(*resp, "session", s);
	}
	cJSON_Delete(all);
	cJSON_Delete(log);
	return rc;
}

/* GET or DELETE of one session, printed in full (show) or not (end). */
static int
session_one(struct cli *cli, int argc, char **argv, const char *method)
{
	struct client *c = NULL;
	struct client_err err = { 0 };
	cJSON *resp = NULL, *s;
	char *path;
	int rc = 0, show = method[0] == 'G';

	if (argc != 1)
		return cli_usage_error(cli, "expects one session ID");
	if (!show && sopts.store != NULL)
		return cli_usage_error(cli, "--store is for reading");
	if ((rc = session_check_id(cli, argv[0])) != 0)
		return rc;
	if (sopts.store != NULL)
		rc = show_from_store(cli, argv[0], &resp);
	else if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	else {
		path = xprintf("/v1/sessions/%s", argv[0]);
		if (client_call(c, method, path, NULL, NULL, &resp, &err) != 0)
			rc = cli_fail(cli, argv[0], &err);
		free(path);
	}
	if (rc == 0 && !cJSON_IsObject(s = cJSON_GetObjectItemCaseSensitive(resp, "session")))
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no session");
	else if (rc == 0 && cli->json)
		print_json(resp);
	else if (rc == 0 && show)
		print_session(s);
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
