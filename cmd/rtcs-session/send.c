/* rtcs-session send: one message from the arguments, or one per line of stdin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "exitcode.h"
#include "log.h"
#include "session.h"
#include "xmalloc.h"

int
session_send_text(struct client *c, const char *sid, const char *device, const char *token,
    const char *text, long long *seq, struct client_err *err)
{
	cJSON *req = cJSON_CreateObject(), *resp = NULL, *s;
	char *path = xprintf("/v1/sessions/%s/messages", sid);
	int rc = -1;

	cJSON_AddStringToObject(req, "type", "text");
	cJSON_AddStringToObject(req, "body", text);
	cJSON_AddStringToObject(req, "device", device);	/* the server may check who we say we are */
	if (client_call(c, "POST", path, token, req, &resp, err) == 0) {
		if (!cJSON_IsNumber(s = cJSON_GetObjectItemCaseSensitive(resp, "seq")))
			client_err_set(err, EXIT_PROTOCOL, "rtcs-serve returned no sequence number");
		else {
			*seq = (long long)s->valuedouble;
			rc = 0;
		}
	}
	cJSON_Delete(req);
	cJSON_Delete(resp);
	free(path);
	return rc;
}

static void
send_report(struct cli *cli, long long seq)
{
	cJSON *o;

	if (cli->json) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "seq", (double)seq);
		print_json(o);
		cJSON_Delete(o);
	} else if (cli->level >= LOG_LEVEL_INFO)
		printf("%lld\n", seq);
	fflush(stdout);
}

/* Each non-empty line of stdin is one message; stops at the first failure. */
static int
send_lines(struct cli *cli, struct client *c, const char *sid, const char *token)
{
	struct client_err err = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long long seq;
	int rc = 0;

	while (rc == 0 && (n = getline(&line, &cap, stdin)) != -1) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (session_send_text(c, sid, sopts.as, token, line, &seq, &err) != 0)
			rc = cli_fail(cli, sid, &err);
		else
			send_report(cli, seq);
	}
	if (rc == 0 && ferror(stdin))
		rc = cli_error(cli, EXIT_IOERR, "cannot read stdin");
	free(line);
	return rc;
}

int
cmd_send(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	char *token = NULL, *text = NULL, *p;
	long long seq;
	size_t len = 0;
	int i, rc;

	if (argc < 1)
		return cli_usage_error(cli, "expects a session ID");
	if (sopts.as == NULL)
		return cli_usage_error(cli, "--as DEVICE is required");
	if ((rc = session_check_id(cli, argv[0])) != 0)
		return rc;
	if ((rc = cli_device_key(cli, sopts.as, "token", argv[0], &token, NULL)) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL) {
		free(token);
		return EXIT_SOFTWARE;
	}
	if (argc == 1 || (argc == 2 && strcmp(argv[1], "-") == 0))
		rc = send_lines(cli, c, argv[0], token);
	else {
		for (i = 1; i < argc; i++)
			len += strlen(argv[i]) + 1;
		text = p = xmalloc(len);
		for (i = 1; i < argc; i++)
			p += sprintf(p, "%s%s", i > 1 ? " " : "", argv[i]);
		if (session_send_text(c, argv[0], sopts.as, token, text, &seq, &err) != 0)
			rc = cli_fail(cli, argv[0], &err);
		else
			send_report(cli, seq);
	}
	free(text);
	free(token);
	client_free(c);
	return rc;
}
