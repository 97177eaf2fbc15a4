/* rtcs-scan --submit: one payload (or image) to rtcs-serve as a device's image data. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cli.h"
#include "client_transfer.h"
#include "client_trust.h"
#include "exitcode.h"
#include "fsutil.h"
#include "json.h"
#include "keys.h"
#include "names.h"
#include "paths.h"
#include "payload.h"
#include "submit.h"
#include "xfer.h"
#include "xmalloc.h"

struct submit {
	const struct scan_submit_opts *o;
	struct client	*client;
	char		*keys;
	const char	*id;		/* the transfer or invite the code names */
	struct client_err err;
};

static int
submit_error(const struct submit *s, int exit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static const char *
submit_prog(const struct submit *s)
{
	return s->o->prog ? s->o->prog : "rtcs-scan";
}

/* "prog: submit ID: message", as cli_error words it. */
static int
submit_error(const struct submit *s, int exit, const char *fmt, ...)
{
	va_list ap;
	char *msg, *what = s->id ? xprintf("submit %s", s->id) : xstrdup("submit");

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	cli_print(submit_prog(s), what, msg);
	free(what);
	free(msg);
	return exit;
}

static int
submit_fail(struct submit *s)
{
	char *what = s->id ? xprintf("submit %s", s->id) : xstrdup("submit");
	int rc;

	rc = cli_fail_as(submit_prog(s), what, s->id, &s->err);
	free(what);
	return rc;
}

static void
submit_json(cJSON *o)
{
	char *text = json_print(o);

	printf("%s\n", text);
	fflush(stdout);
	free(text);
	cJSON_Delete(o);
}

/*
 * The session the device now speaks in, after an invite or a transfer (what
 * names which, state for a transfer); the token only when it could not be
 * stored: it is not handed out again, so it is printed whatever -q says.
 */
static void
submit_session(struct submit *s, const char *what, const char *id, const char *state,
    const char *sid, const char *token)
{
	cJSON *out;

	if (s->o->json) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, what, id);
		if (state != NULL)
			cJSON_AddStringToObject(out, "state", state);
		cJSON_AddStringToObject(out, "session", sid);
		cJSON_AddStringToObject(out, "device", s->o->device);
		if (token != NULL)
			cJSON_AddStringToObject(out, "token", token);
		submit_json(out);
	} else if (token != NULL)
		printf("%s %s\n", sid, token);
	else if (state == NULL)
		printf("%s\n", sid);
	else if (s->o->verbose >= 0)
		printf("%s now speaks in session %s\n", s->o->device, sid);
}

/* An invite code: the scanner starts a session with the invite's device. */
static int
submit_invite(struct submit *s, const struct payload *p, const char *payload)
{
	const char *name = s->o->name ? s->o->name : s->o->device, *sid = NULL, *token = NULL;
	cJSON *req = cJSON_CreateObject(), *resp = NULL;
	char *path = xprintf("/v1/invites/%s/scan", p->id), *cause = NULL;
	int rc = 0, lost = 0;

	cJSON_AddStringToObject(req, "payload", payload);
	cJSON_AddStringToObject(req, "name", name);
	cJSON_AddStringToObject(req, "device", s->o->device);
	if (client_call(s->client, "POST", path, NULL, req, &resp, &s->err) != 0)
		rc = submit_fail(s);
	else if ((sid = json_str(cJSON_GetObjectItemCaseSensitive(resp, "session"), "id")) == NULL ||
	    (token = json_str(resp, "token")) == NULL)
		rc = submit_error(s, EXIT_PROTOCOL, "rtcs-serve returned no session or token");
	else if (keys_put(s->keys, s->o->device, "token", sid, token, &cause) != 0) {
		/* The server hands the token out once: printed rather than lost. */
		rc = submit_error(s, EXIT_IOERR, "cannot store the token of %s: %s; it is printed "
		    "once on standard output instead, keep it", s->o->device, cause);
		free(cause);
		lost = 1;
	}
	if (rc == 0 || lost)
		submit_session(s, "invite", p->id, NULL, sid, lost ? token : NULL);
	free(path);
	cJSON_Delete(req);
	cJSON_Delete(resp);
	return rc;
}

/* What the scan did, at once: id, state, role and, for the claimant, the match code. */
static void
submit_report(struct submit *s, const char *id, const cJSON *resp)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(resp, "transfer");
	const char *state = json_str(t, "state"), *role = json_str(resp, "role");
	const char *match = json_str(resp, "match"), *to = json_str(resp, "to");
	cJSON *out;

	if (s->o->json) {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "transfer", id);
		cJSON_AddStringToObject(out, "state", state ? state : "");
		if (role != NULL)
			cJSON_AddStringToObject(out, "role", role);
		if (match != NULL)
			cJSON_AddStringToObject(out, "match", match);
		if (to != NULL)
			cJSON_AddStringToObject(out, "to", to);
		submit_json(out);
		return;
	}
	printf("%s %s%s%s\n", id, state ? state : "?", role ? " " : "", role ? role : "");
	if (match != NULL)
		printf("match code: %s\n", match);
	/* A pull's origin learns whom the session would go to, and what to type next. */
	if (to != NULL)
		printf("to: %s\n", to);
	fflush(stdout);
	if (to != NULL && s->o->verbose >= 0 && state != NULL && strcmp(state, "verified") == 0 &&
	    role != NULL && strcmp(role, "origin") == 0)
		fprintf(stderr, "%s: confirm with the check code %s shows: rtcs-transfer confirm %s "
		    "--as %s --check -\n", submit_prog(s), to, id, s->o->device);
}

static void
submit_event(const cJSON *ev, void *arg)
{
	struct submit *s = arg;

	if (s->o->json)
		submit_json(cJSON_Duplicate(ev, 1));
	else if (s->o->verbose >= 0 && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s is %s\n", submit_prog(s), json_str(ev, "transfer"),
		    json_str(ev, "state"));
}

static int submit_collect(struct submit *, const char *);

/*
 * A claimant that does not wait is told the one command that stores its token
 * once the transfer completes, as it would paste it (key directory made absolute).
 */
static void
submit_token_hint(const struct submit *s, const char *id)
{
	char *prefix;

	if (s->o->verbose < 0 || s->o->json)
		return;
	prefix = cli_hint_prefix("rtcs-transfer", s->o->socket, s->o->keys);
	fprintf(stderr, "%s: %s gets its token once the transfer completes: %s wait %s --as %s\n",
	    submit_prog(s), s->o->device, prefix, id, s->o->device);
	free(prefix);
}

/* --wait: until the transfer ends; the claimant then collects its token. */
static int
submit_wait(struct submit *s, const char *id)
{
	struct transfer_wait w;
	char *claim = NULL, *cause = NULL;
	int why, rc;

	memset(&w, 0, sizeof w);
	w.id = id;
	w.want = "completed";
	w.timeout_ms = s->o->timeout_ms;
	w.on_event = submit_event;
	w.arg = s;
	if ((rc = transfer_wait(s->client, &w, &s->err)) < 0)
		return submit_fail(s);
	if (rc == 1)
		return submit_error(s, EXIT_NO, "the transfer %s%s%s", w.state,
		    w.reason[0] ? ": " : "", transfer_reason_text(w.reason));
	if (keys_get(s->keys, s->o->device, "claim", id, &claim, NULL, &why, &cause) != 0) {
		free(cause);
		if (why == KEYS_MISSING)
			return EXIT_OK;	/* not the claimant: nothing to collect */
	}
	free(claim);
	return submit_collect(s, id);
}

/* The claimant of a completed transfer stores its new token, and says where it speaks. */
static int
submit_collect(struct submit *s, const char *id)
{
	char *sid = NULL, *token = NULL;
	int rc = EXIT_OK;

	if (transfer_collect_token(s->client, s->keys, s->o->device, id, &sid, &token, &s->err) != 0) {
		rc = submit_fail(s);
		if (token == NULL)
			return rc;
	}
	submit_session(s, "transfer", id, "completed", sid, token);
	free(sid);
	free(token);
	return rc;
}

/*
 * The server is checked before a token goes to it, and a signed code goes
 * only to the server that signed it (design.md 7.1): the server proves it
 * holds its key, kept on first use; a changed one is refused; a forged or
 * altered code (or one from another server) is not submitted. An unsigned
 * code names no server: only the server's key is checked.
 */
static int
submit_trust(struct submit *s, const struct payload *p, const char *payload)
{
	struct trust_verdict v;

	if (trust_code(s->client, s->keys, payload, p, 1, &v, &s->err) != 0)
		return submit_fail(s);
	trust_note_first(submit_prog(s), s->o->verbose > 0, &v, s->keys);
	if (v.sig == TRUST_SIG_NONE)
		return 0;
	if (strcmp(v.server, p->desc.server) != 0)
		return submit_error(s, EXIT_NO, "the code is from server %s, the server at %s is %s: "
		    "not submitted", p->desc.server, client_socket(s->client), v.server);
	if (v.sig != TRUST_SIG_VALID)
		return submit_error(s, EXIT_NO, "the code's signature is not server %s's (forged or "
		    "altered): not submitted", v.server);
	return 0;
}

static int
submit_transfer(struct submit *s, const struct payload *p, const char *payload,
    const void *png, size_t pnglen)
{
	const char *session = p->session[0] ? p->session : s->o->session, *kind;
	char *secret = NULL;
	cJSON *resp = NULL, *t;
	int rc, claimant;

	if ((rc = submit_trust(s, p, payload)) != 0)
		return rc;
	if (transfer_device_secret(s->client, s->keys, s->o->device, session, p->id,
	    &secret, &kind, &s->err) != 0)
		return submit_fail(s);
	if (s->o->verbose > 0)
		fprintf(stderr, "%s: %s submits for %s with %s\n", submit_prog(s), s->o->device,
		    p->id, kind);
	if (transfer_submit_image(s->client, s->keys, s->o->device, p->id, secret, payload,
	    s->o->upload ? png : NULL, pnglen, &resp, &s->err) != 0) {
		free(secret);
		return submit_fail(s);
	}
	free(secret);
	submit_report(s, p->id, resp);
	t = cJSON_GetObjectItemCaseSensitive(resp, "transfer");
	/* Without a token of the session, the device holds a claim now: it takes the new channel. */
	claimant = strcmp(kind, "token") != 0;
	if (s->o->wait)
		rc = submit_wait(s, p->id);
	else if (claimant && json_str(t, "state") != NULL &&
	    strcmp(json_str(t, "state"), "completed") == 0)
		rc = submit_collect(s, p->id);	/* one scan moved it: the token comes now */
	else if (claimant && strcmp(json_str(t, "state") ? json_str(t, "state") : "", "failed") != 0) {
		submit_token_hint(s, p->id);
		rc = EXIT_OK;
	} else
		rc = EXIT_OK;
	cJSON_Delete(resp);
	return rc;
}

int
scan_submit(const struct scan_submit_opts *o, const char *payload, const void *png, size_t pnglen)
{
	struct submit s;
	struct payload p;
	char *cause = NULL, *sock;
	int rc;

	memset(&s, 0, sizeof s);
	s.o = o;
	if (o->device == NULL || !name_valid(o->device))
		return submit_error(&s, EXIT_USAGE, "--submit needs --as DEVICE (a valid device name)");
	if (o->upload && png == NULL)
		return submit_error(&s, EXIT_USAGE, "--upload needs an image, not a payload");
	if (payload == NULL || payload_parse(payload, &p, &cause) != 0) {
		rc = submit_error(&s, EXIT_DATAERR, "%s", cause ? cause : "no payload to submit");
		free(cause);
		return rc;
	}
	sock = paths_socket(o->socket);
	s.client = client_new(sock, 0);
	free(sock);
	if (s.client == NULL)
		return submit_error(&s, EXIT_SOFTWARE, "cannot initialise libcurl");
	s.keys = paths_keys(o->keys);
	s.id = p.id;
	if (p.kind == PAYLOAD_INVITE)
		rc = submit_invite(&s, &p, payload);
	else
		rc = submit_transfer(&s, &p, payload, png, pnglen);
	client_free(s.client);
	free(s.keys);
	return rc;
}

/*
 * rtcs-transfer submit --as DEVICE [--upload] [--wait] PAYLOAD|-: what
 * rtcs-scan --submit runs for each code it decodes (so rtcs-scan itself
 * stays free of the HTTP client). With --upload the PNG comes on stdin.
 */
int
cmd_submit(struct cli *cli, int argc, char **argv)
{
	struct scan_submit_opts o;
	char *png = NULL, *payload = NULL, *cause = NULL;
	size_t len = 0;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one PAYLOAD (or - to read it from stdin)");
	if (topts.as == NULL)
		return cli_usage_error(cli, "needs --as DEVICE");
	/*
	 * The payload holds the code's secret: "-" reads it from stdin, so it
	 * never shows on a command line (ps). With --upload and "-", stdin is
	 * the payload's line, then the PNG bytes (what rtcs-scan sends).
	 */
	if (topts.upload || strcmp(argv[0], "-") == 0) {
		if (fs_read_fd(STDIN_FILENO, 1024 * 1024 + 4096, &png, &len, &cause) != 0) {
			rc = cli_error(cli, EXIT_IOERR, "cannot read stdin: %s", cause);
			free(cause);
			return rc;
		}
	}
	if (strcmp(argv[0], "-") == 0) {
		size_t line = png != NULL ? strcspn(png, "\n") : 0;

		payload = xstrndup(png != NULL ? png : "", strcspn(png != NULL ? png : "", "\r\n"));
		if (topts.upload && png != NULL && line < len) {
			memmove(png, png + line + 1, len - line - 1);
			len -= line + 1;
		} else {
			free(png);
			png = NULL;
			len = 0;
		}
	}
	memset(&o, 0, sizeof o);
	o.prog = cli->prog;
	o.device = topts.as;
	o.keys = cli->keys;
	o.socket = cli->socket;
	o.session = topts.session;
	o.name = topts.name;
	o.upload = topts.upload;
	o.wait = topts.wait;
	o.json = cli->json;
	o.timeout_ms = cli->timeout_ms;
	o.verbose = cli->level;
	rc = scan_submit(&o, payload ? payload : argv[0], png, len);
	free(payload);
	free(png);
	return rc;
}
