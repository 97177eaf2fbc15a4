/* rtcs-transfer request, offer and invite: asking the server for a code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "payload.h"
#include "xfer.h"
#include "xmalloc.h"

int
transfer_check_id(struct cli *cli, const char *id, char prefix, const char *what)
{
	if (!payload_id_valid(id, prefix))
		return cli_error(cli, EXIT_DATAERR, "'%s' is not a %s id", id, what);
	if (cli->object == NULL)
		cli->object = id;
	return 0;
}

static void
request_ttl(cJSON *req)
{
	if (topts.ttl_ms > 0)
		cJSON_AddNumberToObject(req, "ttl", (double)((topts.ttl_ms + 999) / 1000));
}

/* A push's own rotation period (the server checks it against its --rotate). */
static void
request_rotate(cJSON *req)
{
	if (topts.rotate >= 0)
		cJSON_AddNumberToObject(req, "rotate", (double)topts.rotate);
}

/* The payload on stdout, or {id, payload, expires_at, transfer} with --json. */
static int
request_print(struct cli *cli, cJSON *resp)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(resp, "transfer");
	const char *payload = json_str(resp, "payload");
	cJSON *out;

	if (payload == NULL || json_str(t, "id") == NULL)
		return cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no payload");
	if (!cli->json) {
		printf("%s\n", payload);
		return EXIT_OK;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", json_str(t, "id"));
	cJSON_AddStringToObject(out, "payload", payload);
	if (json_str(resp, "expires_at") != NULL)
		cJSON_AddStringToObject(out, "expires_at", json_str(resp, "expires_at"));
	if (json_str(t, "confirm") != NULL)
		cJSON_AddStringToObject(out, "confirm", json_str(t, "confirm"));
	if (json_str(t, "proof") != NULL)
		cJSON_AddStringToObject(out, "proof", json_str(t, "proof"));
	cJSON_AddItemToObject(out, "transfer", cJSON_Duplicate(t, 1));
	print_json(out);
	cJSON_Delete(out);
	return EXIT_OK;
}

int
transfer_push(struct cli *cli, struct client *c, const char *sid, const char *origin, cJSON **resp)
{
	struct client_err err = { 0 };
	cJSON *req;
	char *token = NULL;
	int rc;

	if ((rc = cli_device_key(cli, origin, "token", sid, &token, NULL)) != 0)
		return rc;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "session", sid);
	if (topts.to != NULL)
		cJSON_AddStringToObject(req, "to", topts.to);
	request_ttl(req);
	request_rotate(req);
	if (topts.confirm != NULL)
		cJSON_AddStringToObject(req, "confirm", topts.confirm);
	if (topts.proof != NULL)
		cJSON_AddStringToObject(req, "proof", topts.proof);
	if (client_call(c, "POST", "/v1/transfers", token, req, resp, &err) != 0)
		rc = cli_fail(cli, sid, &err);
	cJSON_Delete(req);
	free(token);
	return rc;
}

/*
 * The code asked for: printed (and in -o FILE); with --follow, shown again
 * at each rotation (drawn in place on a terminal) until the transfer leaves
 * issued: 0 once scanned, 1 when it ended otherwise. The new codes are
 * fetched with the displayer's secret: the push origin's token for sid, or
 * (sid NULL) the pull's claim.
 */
static int
request_show(struct cli *cli, struct client *c, const char *sid, cJSON *resp)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(resp, "transfer");
	const char *payload = json_str(resp, "payload");
	struct code_view v = { cli, json_str(t, "id"), NULL, topts.output, 0, 0, 0, 0 };
	char *token = NULL, state[16];
	int rc;

	if (payload == NULL || v.id == NULL)
		return cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no payload");
	/* Drawn (and -o written) by code_show, or -o written and the payload printed. */
	v.draw = topts.follow && isatty(STDOUT_FILENO) && !cli->json;
	if (v.draw)
		rc = code_show(&v, payload, NULL);
	else if ((rc = v.output != NULL ? code_show(&v, payload, NULL) : 0) == 0)
		rc = request_print(cli, resp);
	v.print = 1;
	if (rc != 0 || !topts.follow)
		return rc;
	fflush(stdout);		/* the first code is out before the wait */
	if (sid == NULL)
		token = json_str(resp, "claim") != NULL ? xstrdup(json_str(resp, "claim")) : NULL;
	else if ((rc = cli_device_key(cli, topts.as, "token", sid, &token, NULL)) != 0)
		return rc;
	if (token == NULL)
		return cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no claim");
	v.secret = token;
	rc = transfer_wait_for(cli, c, v.id, "scanned", NULL, &v, state, sizeof state);
	explicit_bzero(token, strlen(token));
	free(token);
	return rc != 0 ? rc : v.rc;
}

int
cmd_request(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	cJSON *resp = NULL;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one SESSION");
	if (topts.as == NULL)
		return cli_usage_error(cli, "--as DEVICE is required");
	if ((rc = transfer_check_id(cli, argv[0], 'S', "session")) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	if ((rc = transfer_push(cli, c, argv[0], topts.as, &resp)) == 0)
		rc = request_show(cli, c, argv[0], resp);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}

int
cmd_offer(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *req, *resp = NULL;
	const char *id, *claim;
	int rc = 0;

	(void)argv;
	if (argc != 0)
		return cli_usage_error(cli, "takes no arguments");
	if (topts.as == NULL)
		return cli_usage_error(cli, "--as DEVICE is required");
	if (topts.session && (rc = transfer_check_id(cli, topts.session, 'S', "session")) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "device", topts.as);
	if (topts.session != NULL)
		cJSON_AddStringToObject(req, "session", topts.session);
	request_ttl(req);
	if (client_call(c, "POST", "/v1/transfers", NULL, req, &resp, &err) != 0)
		rc = cli_fail(cli, NULL, &err);
	else if ((id = json_str(cJSON_GetObjectItemCaseSensitive(resp, "transfer"), "id")) == NULL ||
	    (claim = json_str(resp, "claim")) == NULL)
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no transfer or claim");
	else if ((rc = cli_device_put(cli, topts.as, "claim", id, claim)) == 0)
		rc = request_show(cli, c, NULL, resp);
	cJSON_Delete(req);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}

int
cmd_invite(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *req, *resp = NULL, *out;
	const char *payload, *id, *owner;
	int rc = 0;

	if (argc != 0)
		return invite_subcommand(cli, argc, argv);
	if (topts.to == NULL)
		return cli_usage_error(cli, "--to DEVICE is required");
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "to", topts.to);
	if (topts.name != NULL)
		cJSON_AddStringToObject(req, "name", topts.name);
	if (topts.kind != NULL)
		cJSON_AddStringToObject(req, "kind", topts.kind);
	request_ttl(req);
	if (topts.uses > 0)
		cJSON_AddNumberToObject(req, "uses", (double)topts.uses);
	if (client_call(c, "POST", "/v1/invites", NULL, req, &resp, &err) != 0)
		rc = cli_fail(cli, NULL, &err);
	else if ((payload = json_str(resp, "payload")) == NULL ||
	    (id = json_str(cJSON_GetObjectItemCaseSensitive(resp, "invite"), "id")) == NULL)
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no payload");
	else {
		/* The owner secret lets the target device collect its sessions later. */
		if ((owner = json_str(resp, "owner")) != NULL)
			rc = cli_device_put(cli, topts.to, "invite", id, owner);
		if (rc == 0 && topts.output != NULL)
			rc = transfer_render(cli, payload, topts.output, 0);
		if (rc == 0 && cli->json) {
			out = cJSON_CreateObject();
			cJSON_AddStringToObject(out, "id", id);
			cJSON_AddStringToObject(out, "payload", payload);
			cJSON_AddStringToObject(out, "to", topts.to);
			print_json(out);
			cJSON_Delete(out);
		} else if (rc == 0)
			printf("%s\n", payload);
	}
	cJSON_Delete(req);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}
