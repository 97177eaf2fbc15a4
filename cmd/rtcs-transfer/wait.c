/* rtcs-transfer wait and watch: following the server's event stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "client_transfer.h"
#include "exitcode.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "xfer.h"
#include "xmalloc.h"

struct wait_show {
	struct cli	*cli;
	const char	*id;
};

static void
wait_event(const cJSON *ev, void *arg)
{
	struct wait_show *w = arg;

	if (w->cli->json)
		print_json(ev);
	else if (w->cli->level >= 0 && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s is %s\n", w->cli->prog, json_str(ev, "transfer"),
		    json_str(ev, "state"));
}

/* A pull's new device shows the check code its origin types, as soon as the offer is bound. */
static void
wait_check(const char *check, void *arg)
{
	struct wait_show *w = arg;
	cJSON *o;

	if (w->cli->json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "transfer", w->id);
		cJSON_AddStringToObject(o, "state", "verified");
		cJSON_AddStringToObject(o, "check", check);
		print_json(o);
		cJSON_Delete(o);
	} else
		printf("check code: %s\n", check);
	fflush(stdout);
	if (!w->cli->json && w->cli->level >= 0)
		fprintf(stderr, "%s: the origin confirms with --check %s\n", w->cli->prog, check);
}

int
transfer_wait_for(struct cli *cli, struct client *c, const char *id, const char *want,
    const char *claim, struct code_view *view, char *state, size_t statelen)
{
	struct transfer_wait w;
	struct wait_show show = { cli, id };
	struct client_err err = { 0 };
	int rc;

	memset(&w, 0, sizeof w);
	w.id = id;
	w.want = want;
	w.timeout_ms = cli->timeout_ms;
	w.on_event = wait_event;
	w.arg = &show;
	w.claim = claim;
	w.on_check = wait_check;
	if (view != NULL) {
		w.on_code = code_rotated;
		w.code_arg = view;
	}
	if ((rc = transfer_wait(c, &w, &err)) < 0)
		return cli_fail(cli, id, &err);
	if (state != NULL)
		snprintf(state, statelen, "%s", w.state);
	if (rc == 1)
		return cli_error(cli, EXIT_NO, "the transfer %s%s%s", w.state,
		    w.reason[0] ? ": " : "", transfer_reason_text(w.reason));
	return EXIT_OK;
}

/*
 * Whether device may be the claimant here: it keeps a claim for the transfer
 * (*claim gets it), or its claim file cannot be read, which collecting the
 * token then reports.
 */
static int
wait_holds_claim(const char *dir, const char *device, const char *id, char **claim)
{
	char *cause = NULL;
	int why = 0;

	*claim = NULL;
	if (keys_get(dir, device, "claim", id, claim, NULL, &why, &cause) != 0) {
		free(cause);
		return why != KEYS_MISSING;
	}
	return 1;
}

int
cmd_wait(struct cli *cli, int argc, char **argv)
{
	struct client *c;
	struct client_err err = { 0 };
	char state[16] = "", *token = NULL, *sid = NULL, *dir = NULL, *claim = NULL;
	const char *want = topts.want ? topts.want : "completed";
	cJSON *out;
	int rc, holds = 0;

	if (argc != 1)
		return cli_usage_error(cli, "expects one transfer ID");
	if ((rc = transfer_check_id(cli, argv[0], 'T', "transfer")) != 0)
		return rc;
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	if (topts.as != NULL) {
		dir = cli_keys_dir(cli);
		holds = wait_holds_claim(dir, topts.as, argv[0], &claim);
	}
	rc = transfer_wait_for(cli, c, argv[0], want, claim, NULL, state, sizeof state);
	/* A claimant collects its new token once the transfer completed. */
	if (rc == 0 && topts.as != NULL && strcmp(state, "completed") == 0) {
		if (!holds)
			log_info("%s holds no claim on %s in %s: no token to collect", topts.as,
			    argv[0], dir);
		else if (transfer_collect_token(c, dir, topts.as, argv[0], &sid, &token,
		    &err) != 0)
			rc = cli_fail(cli, argv[0], &err);
	}
	free(dir);
	if (claim != NULL)
		sodium_memzero(claim, strlen(claim));
	free(claim);
	/* A token that could not be stored is printed, whatever -q says: it is not handed out again. */
	if ((rc == 0 || token != NULL) && cli->json) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "transfer", argv[0]);
		cJSON_AddStringToObject(out, "state", state);
		if (sid != NULL)
			cJSON_AddStringToObject(out, "session", sid);
		if (token != NULL)
			cJSON_AddStringToObject(out, "token", token);
		print_json(out);
		cJSON_Delete(out);
	} else if (token != NULL)
		printf("%s %s\n", sid, token);
	else if (rc == 0 && cli->level >= 0)
		printf("%s\n", state);
	free(token);
	free(sid);
	client_free(c);
	return rc;
}

struct watch {
	struct cli	*cli;
	const char	*id;
	const char	*session;
};

static int
watch_line(cJSON *ev, void *arg)
{
	struct watch *w = arg;
	const char *id = json_str(ev, "transfer"), *sid = json_str(ev, "session");

	if (w->id != NULL && (id == NULL || strcmp(id, w->id) != 0))
		return 0;
	if (w->session != NULL && (sid == NULL || strcmp(sid, w->session) != 0))
		return 0;
	if (w->cli->json)
		print_json(ev);
	else
		print_event(ev);
	/* Watching one transfer ends with it. */
	if (w->id != NULL && strcmp(json_str(ev, "event") ? json_str(ev, "event") : "",
	    "transfer.state") == 0 && transfer_state_terminal(json_str(ev, "state")))
		return 1;
	return 0;
}

int
cmd_watch(struct cli *cli, int argc, char **argv)
{
	struct watch w = { cli, NULL, topts.session };
	struct client *c;
	struct client_err err = { 0 };
	char *path;
	int rc;

	if (argc > 1 || (argc == 1 && topts.session != NULL))
		return cli_usage_error(cli, "expects one transfer ID or --session SESSION");
	if (argc == 1 && (rc = transfer_check_id(cli, argv[0], 'T', "transfer")) != 0)
		return rc;
	if (topts.session && (rc = transfer_check_id(cli, topts.session, 'S', "session")) != 0)
		return rc;
	w.id = argc == 1 ? argv[0] : NULL;
	if ((c = cli_client(cli)) == NULL)
		return EXIT_SOFTWARE;
	/*
	 * From now on, not the log's start: a transfer's watch first prints
	 * where it stands (an ended one ends the watch at once), then follows
	 * from the event seq it was read at; the others start after the last
	 * event. --since N replays from N.
	 */
	if (topts.since >= 0)
		path = xprintf("/v1/events?follow=1&since=%lld", topts.since);
	else if (w.id == NULL)
		path = xstrdup("/v1/events?follow=1&since=now");
	else {
		cJSON *t, *ev;
		long long from;

		if (transfer_get(c, w.id, &t, &err) != 0) {
			rc = cli_fail(cli, w.id, &err);
			client_free(c);
			return rc;
		}
		ev = transfer_now_event(w.id, t, &from);
		if (json_str(t, "session") != NULL)
			cJSON_AddStringToObject(ev, "session", json_str(t, "session"));
		rc = watch_line(ev, &w);
		cJSON_Delete(ev);
		cJSON_Delete(t);
		if (rc == 1) {
			client_free(c);
			return EXIT_OK;
		}
		path = xprintf("/v1/events?follow=1&since=%lld", from);
	}
	rc = client_stream(c, path, NULL, cli->timeout_ms, watch_line, &w, &err);
	if (rc < 0)
		rc = cli_fail(cli, NULL, &err);
	else if (rc == 0)
		rc = cli_error(cli, EXIT_UNAVAILABLE, "the event stream of rtcs-serve ended");
	else
		rc = EXIT_OK;
	free(path);
	client_free(c);
	return rc;
}
