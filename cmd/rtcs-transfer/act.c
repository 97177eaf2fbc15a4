/* rtcs-transfer show, list, confirm, reject and cancel: one call each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "client_transfer.h"
#include "exitcode.h"
#include "json.h"
#include "xfer.h"
#include "xmalloc.h"

int
transfer_secret(struct cli *cli, struct client *c, const char *device, const char *id, char **secret)
{
	struct client_err err = { 0 };
	const char *kind;
	char *dir = cli_keys_dir(cli);
	int rc = 0;

	if (transfer_device_secret(c, dir, device, NULL, id, secret, &kind, &err) != 0)
		rc = cli_fail(cli, id, &err);
	else if (*secret == NULL)
		rc = cli_error(cli, EXIT_NOINPUT, "%s has no token for the transfer's session and "
		    "no claim on it in %s", device, dir);
	free(dir);
	return rc;
}

/*
 * A refused call: for "not at that step", where the transfer stands and what
 * it waits for, rather than the bare refusal.
 */
static int
transfer_act_fail(struct cli *cli, struct client *c, const char *id, struct client_err *err)
{
	struct client_err e2 = { 0 };
	const char *state, *reason, *why;
	cJSON *t = NULL;
	int rc;

	if (strcmp(err->code, "bad_state") != 0 || transfer_get(c, id, &t, &e2) != 0) {
		client_err_clear(&e2);
		return cli_fail(cli, id, err);
	}
	state = json_str(t, "state") ? json_str(t, "state") : "?";
	reason = json_str(t, "reason");
	if (strcmp(state, "issued") == 0)
		why = ": nobody has scanned its code yet";
	else if (strcmp(state, "scanned") == 0)
		why = ": it waits for the other device's image data (proof both)";
	else if (strcmp(state, "verified") == 0)
		why = ": it waits for the other confirmations";
	else if (strcmp(state, "failed") == 0 && reason != NULL)
		why = transfer_reason_text(reason);
	else
		why = "";
	if (strcmp(state, "failed") == 0)
		rc = cli_error(cli, err->exit ? err->exit : EXIT_SOFTWARE, "the transfer failed%s%s",
		    *why ? ": " : "", why);
	else
		rc = cli_error(cli, err->exit ? err->exit : EXIT_SOFTWARE, "the transfer is %s%s",
		    state, why);
	client_err_clear(err);
	cJSON_Delete(t);
	return rc;
}

/* One call on a transfer; the transfer in the answer is printed with --json or -v. */
static int
transfer_act(struct cli *cli, const char *id, const char *method, const char *path,
    const char *device, cJSON *body, int show)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *resp = NULL, *t;
	char *secret = NULL;
	int rc;

	if ((rc = transfer_check_id(cli, id, 'T', "transfer")) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	if (device != NULL && (rc = transfer_secret(cli, c, device, id, &secret)) != 0)
		goto out;
	if (client_call(c, method, path, secret, body, &resp, &err) != 0)
		rc = transfer_act_fail(cli, c, id, &err);
	else if (!cJSON_IsObject(t = cJSON_GetObjectItemCaseSensitive(resp, "transfer")))
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no transfer");
	else if (cli->json)
		print_json(resp);
	else if (show)
		print_transfer(t);
	else if (cli->level > 0)
		print_transfer_line(t);
out:
	free(secret);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}

int
cmd_show(struct cli *cli, int argc, char **argv)
{
	char *path;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one transfer ID");
	path = xprintf("/v1/transfers/%s", argv[0]);
	rc = transfer_act(cli, argv[0], "GET", path, NULL, NULL, 1);
	free(path);
	return rc;
}

int
cmd_list(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	cJSON *resp = NULL, *t;
	char *path;
	int rc = 0;

	(void)argv;
	if (argc != 0)
		return cli_usage_error(cli, "takes no arguments");
	if (topts.session && (rc = transfer_check_id(cli, topts.session, 'S', "session")) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	path = xprintf("/v1/transfers?state=%s%s%s", topts.state ? topts.state : "all",
	    topts.session ? "&session=" : "", topts.session ? topts.session : "");
	if (client_call(c, "GET", path, NULL, NULL, &resp, &err) != 0)
		rc = cli_fail(cli, NULL, &err);
	else if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(resp, "transfers")))
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no transfer list");
	else if (cli->json)
		print_json(resp);
	else
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(resp, "transfers"))
			print_transfer_line(t);
	free(path);
	cJSON_Delete(resp);
	client_free(c);
	return rc;
}

/* confirm and reject: POST with the device's secret. */
static int
transfer_answer(struct cli *cli, int argc, char **argv, const char *verb, const char *match,
    const char *check)
{
	cJSON *body = cJSON_CreateObject();
	char *path;
	int rc;

	if (argc != 1)
		rc = cli_usage_error(cli, "expects one transfer ID");
	else if (topts.as == NULL)
		rc = cli_usage_error(cli, "--as DEVICE is required");
	else {
		if (match != NULL)
			cJSON_AddStringToObject(body, "match", match);
		if (check != NULL)
			cJSON_AddStringToObject(body, "check", check);
		path = xprintf("/v1/transfers/%s/%s", argv[0], verb);
		rc = transfer_act(cli, argv[0], "POST", path, topts.as, body, 0);
		free(path);
	}
	cJSON_Delete(body);
	return rc;
}

/* --match - or --check -: the code from stdin, or typed on the terminal when stdin is one. */
static int
confirm_code(struct cli *cli, const char *id, const char *key, size_t digits, char *buf,
    size_t len)
{
	if (isatty(STDIN_FILENO)) {
		fprintf(stderr, "%s code shown on the new device for %s: ", key, id);
		fflush(stderr);
	}
	if (transfer_read_code(STDIN_FILENO, -1, key, digits, buf, len) != 0)
		return cli_error(cli, EXIT_NOINPUT, "no %zu-digit %s code on standard input",
		    digits, key);
	return 0;
}

int
cmd_confirm(struct cli *cli, int argc, char **argv)
{
	char match[16], check[8];
	const char *m = topts.match, *k = topts.check;
	int rc;

	if (m != NULL && k != NULL && strcmp(m, "-") == 0 && strcmp(k, "-") == 0)
		return cli_usage_error(cli, "only one of --match and --check can read stdin");
	if (((m != NULL && strcmp(m, "-") == 0) || (k != NULL && strcmp(k, "-") == 0)) &&
	    argc == 1 && topts.as != NULL) {
		if ((rc = transfer_check_id(cli, argv[0], 'T', "transfer")) != 0)
			return rc;
		if (m != NULL && strcmp(m, "-") == 0) {
			if ((rc = confirm_code(cli, argv[0], "match", 6, match, sizeof match)) != 0)
				return rc;
			m = match;
		} else {
			if ((rc = confirm_code(cli, argv[0], "check", 2, check, sizeof check)) != 0)
				return rc;
			k = check;
		}
	}
	return transfer_answer(cli, argc, argv, "confirm", m, k);
}

int
cmd_reject(struct cli *cli, int argc, char **argv)
{
	return transfer_answer(cli, argc, argv, "reject", NULL, NULL);
}

int
cmd_cancel(struct cli *cli, int argc, char **argv)
{
	char *path;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one transfer ID");
	path = xprintf("/v1/transfers/%s", argv[0]);
	rc = transfer_act(cli, argv[0], "DELETE", path, topts.as, NULL, 0);
	free(path);
	return rc;
}
