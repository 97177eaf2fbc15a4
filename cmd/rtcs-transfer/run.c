/* rtcs-transfer run: the whole push flow for an operator, and rendering codes with rtcs-code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "client_transfer.h"
#include "exitcode.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "sibling.h"
#include "xfer.h"
#include "xmalloc.h"

int
transfer_render(struct cli *cli, const char *payload, const char *png_file, int terminal)
{
	char *png_argv[] = { "rtcs-code", "-t", "png", "-o", (char *)png_file, (char *)payload, NULL };
	char *tty_argv[] = { "rtcs-code", "-t", "utf8", (char *)payload, NULL };
	char *cause = NULL;
	int rc;

	rc = sibling_run(terminal ? tty_argv : png_argv, NULL, 0, &cause);
	if (rc < 0) {
		rc = cli_error(cli, EXIT_SOFTWARE, "%s", cause);
		free(cause);
	} else if (rc != 0)
		cli_error(cli, rc, "rtcs-code failed (exit %d)", rc);
	return rc;
}

/* The origin's displayer proof: the PNG it shows if there is one, else the payload. */
static int
run_displayer_proof(struct cli *cli, struct client *c, const char *sid, const char *id,
    const char *payload)
{
	struct client_err err = { 0 };
	char *token = NULL, *dir = cli_keys_dir(cli), *png = NULL, *cause = NULL;
	size_t len = 0;
	cJSON *resp = NULL;
	int rc;

	if ((rc = cli_device_key(cli, topts.from, "token", sid, &token, NULL)) != 0)
		goto out;
	if (topts.output != NULL && fs_read_file(topts.output, 1024 * 1024, &png, &len, &cause) != 0) {
		rc = cli_error(cli, EXIT_IOERR, "cannot read %s: %s", topts.output, cause);
		free(cause);
		goto out;
	}
	if (transfer_submit_image(c, dir, topts.from, id, token, payload, png, len, &resp, &err) != 0)
		rc = cli_fail(cli, id, &err);
out:
	cJSON_Delete(resp);
	free(png);
	free(token);
	free(dir);
	return rc;
}

/* The match code from --match, else typed on the terminal. */
static int
run_match(struct cli *cli, const char *claimant, char *buf, size_t len)
{
	FILE *tty;
	size_t n;

	if (topts.match != NULL) {
		snprintf(buf, len, "%s", topts.match);
		return 0;
	}
	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return cli_error(cli, EXIT_USAGE, "no terminal to ask for the match code: give --match N");
	fprintf(tty, "match code shown on %s: ", claimant);
	fflush(tty);
	if (fgets(buf, (int)len, tty) == NULL) {
		fclose(tty);
		return cli_error(cli, EXIT_NOINPUT, "no match code typed");
	}
	fclose(tty);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n != 6 || strspn(buf, "0123456789") != 6)
		return cli_error(cli, EXIT_DATAERR, "'%s' is not a 6-digit match code", buf);
	return 0;
}

/* Whether the origin's confirmation is required. */
static int
run_origin_confirms(struct client *c, const char *id, const char **claimant_out, char *claimant,
    size_t len)
{
	struct client_err err = { 0 };
	cJSON *t = NULL, *n;
	int found = 0;

	*claimant_out = NULL;
	if (transfer_get(c, id, &t, &err) != 0) {
		client_err_clear(&err);
		return 1;
	}
	snprintf(claimant, len, "%s", json_str(t, "claimant") ? json_str(t, "claimant") : "the new device");
	*claimant_out = claimant;
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(t, "confirmations"), "required"))
		if (cJSON_IsString(n) && strcmp(n->valuestring, topts.from) == 0)
			found = 1;
	cJSON_Delete(t);
	return found;
}

static int
run_confirm(struct cli *cli, struct client *c, const char *sid, const char *id, const char *match)
{
	struct client_err err = { 0 };
	cJSON *body = cJSON_CreateObject(), *resp = NULL;
	char *token = NULL, *path = xprintf("/v1/transfers/%s/confirm", id);
	int rc;

	if ((rc = cli_device_key(cli, topts.from, "token", sid, &token, NULL)) == 0) {
		cJSON_AddStringToObject(body, "match", match);
		if (client_call(c, "POST", path, token, body, &resp, &err) != 0)
			rc = cli_fail(cli, id, &err);
	}
	cJSON_Delete(body);
	cJSON_Delete(resp);
	free(token);
	free(path);
	return rc;
}

/* After the request: show, prove, wait for the scan, confirm, wait for the switch. */
static int
run_flow(struct cli *cli, struct client *c, const char *sid, const char *id, const char *payload,
    const char *proof)
{
	char match[16], claimant[80], state[16];
	const char *who;
	int rc;

	if (topts.output != NULL && (rc = transfer_render(cli, payload, topts.output, 0)) != 0)
		return rc;
	if (isatty(STDOUT_FILENO) && !cli->json)
		rc = transfer_render(cli, payload, NULL, 1);
	else if (!cli->json)
		printf("%s\n", payload);
	fflush(stdout);
	if ((proof == NULL || strcmp(proof, "both") == 0) &&
	    (rc = run_displayer_proof(cli, c, sid, id, payload)) != 0)
		return rc;
	if (cli->level >= 0 && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: waiting for %s to scan the code\n", cli->prog, topts.to);
	if ((rc = transfer_wait_for(cli, c, id, "verified", state, sizeof state)) != 0)
		return rc;
	if (strcmp(state, "verified") == 0 && run_origin_confirms(c, id, &who, claimant, sizeof claimant)) {
		if ((rc = run_match(cli, who ? who : topts.to, match, sizeof match)) != 0 ||
		    (rc = run_confirm(cli, c, sid, id, match)) != 0)
			return rc;
	}
	if ((rc = transfer_wait_for(cli, c, id, "completed", state, sizeof state)) != 0)
		return rc;
	if (cli->json) {
		cJSON *out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "transfer", id);
		cJSON_AddStringToObject(out, "state", state);
		cJSON_AddStringToObject(out, "session", sid);
		cJSON_AddStringToObject(out, "from", topts.from);
		cJSON_AddStringToObject(out, "to", topts.to);
		print_json(out);
		cJSON_Delete(out);
	} else if (cli->level >= 0)
		printf("session %s moved from %s to %s\n", sid, topts.from, topts.to);
	return EXIT_OK;
}

int
cmd_run(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	cJSON *resp = NULL, *t, *out;
	const char *id, *payload;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one SESSION");
	if (topts.from == NULL || topts.to == NULL)
		return cli_usage_error(cli, "--from DEVICE and --to DEVICE are required");
	if ((rc = transfer_check_id(cli, argv[0], 'S', "session")) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	if ((rc = transfer_push(cli, c, argv[0], topts.from, &resp)) != 0)
		goto out;
	t = cJSON_GetObjectItemCaseSensitive(resp, "transfer");
	if ((id = json_str(t, "id")) == NULL || (payload = json_str(resp, "payload")) == NULL) {
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no transfer or payload");
		goto out;
	}
	if (cli->json) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "id", id);
		cJSON_AddStringToObject(out, "payload", payload);
		print_json(out);
		cJSON_Delete(out);
	}
	rc = run_flow(cli, c, argv[0], id, payload, json_str(t, "proof") ? json_str(t, "proof") : topts.proof);
out:
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}
