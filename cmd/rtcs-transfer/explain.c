/*
 * rtcs-transfer explain PAYLOAD|-: what a scanned code would do, without
 * submitting it (rtcs-scan --explain runs this). Says who issued it and
 * whether its signature holds (design.md 7.1); never prints its secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "client_trust.h"
#include "clock.h"
#include "exitcode.h"
#include "fsutil.h"
#include "json.h"
#include "payload.h"
#include "xfer.h"
#include "xmalloc.h"

struct explain {
	const struct payload	*p;
	struct trust_verdict	 v;
	long long		 expires_in;	/* seconds; negative once expired */
	const char		*why;		/* why it is suspicious; NULL if it is not */
	char			*what;		/* the sentence */
};

static const char *
or_some(const char *name, const char *instead)
{
	return name[0] != '\0' ? name : instead;
}

/* "move alice's chat from alice-phone to this device", or what a pull's code asks. */
static char *
explain_action(const struct payload *p)
{
	const struct payload_desc *d = &p->desc;
	const char *kind = or_some(d->kind, "session");

	if (!p->signed_)
		return xprintf("%s %s", p->kind == PAYLOAD_INVITE ? "an invite code" :
		    "a transfer code", p->id);
	if (strcmp(d->dir, "pull") == 0)
		return xprintf("hand your place in a %s to the new device that calls itself %s",
		    kind, or_some(d->device, "by a name too long for the code"));
	if (d->participant[0] != '\0')
		return xprintf("move %s's %s from %s to this device", d->participant, kind,
		    or_some(d->device, "a device"));
	return xprintf("move a %s from %s to this device", kind, or_some(d->device, "a device"));
}

static void
explain_judge(struct explain *e)
{
	const struct payload *p = e->p;

	if (!p->signed_)
		e->why = p->kind == PAYLOAD_INVITE ? "invite codes are not signed: nothing says "
		    "which server issued it" : "it is not signed: nothing says what it will do "
		    "or which server issued it";
	else if (e->v.sig == TRUST_SIG_BAD)
		e->why = "bad signature: the server it names did not issue it, or it was altered";
	else if (e->v.sig == TRUST_SIG_UNKNOWN)
		e->why = "unknown server key: this device has never met the server it names "
		    "(rtcs-serve --print-key on that server gives the line to add to servers.known)";
	else if (e->expires_in < 0)
		e->why = "expired";
}

static void
explain_print(struct cli *cli, const struct explain *e, const char *dir)
{
	const struct payload *p = e->p;
	cJSON *o;

	if (cli->json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "code", p->kind == PAYLOAD_INVITE ? "invite" : "transfer");
		cJSON_AddStringToObject(o, "id", p->id);
		if (p->signed_) {
			cJSON_AddStringToObject(o, "direction", p->desc.dir);
			cJSON_AddStringToObject(o, "kind", p->desc.kind);
			cJSON_AddStringToObject(o, "participant", p->desc.participant);
			cJSON_AddStringToObject(o, "device", p->desc.device);
			cJSON_AddStringToObject(o, "server", p->desc.server);
			cJSON_AddNumberToObject(o, "expires", (double)p->desc.expires);
			cJSON_AddNumberToObject(o, "expires_in_s", (double)e->expires_in);
		}
		cJSON_AddStringToObject(o, "signature", trust_sig_name(e->v.sig));
		cJSON_AddBoolToObject(o, "key_kept_now", e->v.first);
		cJSON_AddStringToObject(o, "action", e->what);
		cJSON_AddBoolToObject(o, "suspicious", e->why != NULL);
		if (e->why != NULL)
			cJSON_AddStringToObject(o, "why", e->why);
		print_json(o);
		cJSON_Delete(o);
		return;
	}
	if (!p->signed_)
		printf("%s, unsigned\n", e->what);
	else
		printf("%s, on server %s, %s %lld s%s, signature %s\n", e->what, p->desc.server,
		    e->expires_in >= 0 ? "expires in" : "expired",
		    e->expires_in >= 0 ? e->expires_in : -e->expires_in,
		    e->expires_in >= 0 ? "" : " ago", e->v.sig == TRUST_SIG_VALID ? "valid" :
		    e->v.sig == TRUST_SIG_BAD ? "BAD" : "unknown");
	fflush(stdout);
	trust_note_first(cli->prog, cli->level >= 0, &e->v, dir);
	if (e->why != NULL)
		fprintf(stderr, "%s: explain %s: suspicious: %s\n", cli->prog, p->id, e->why);
}

int
cmd_explain(struct cli *cli, int argc, char **argv)
{
	struct explain e;
	struct payload p;
	struct client *c;
	struct client_err err = { 0 };
	char *in = NULL, *text, *cause = NULL, *dir;
	size_t len = 0;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one PAYLOAD (or - to read it from stdin)");
	if (strcmp(argv[0], "-") == 0) {
		if (fs_read_fd(STDIN_FILENO, 64 * 1024, &in, &len, &cause) != 0) {
			rc = cli_error(cli, EXIT_IOERR, "cannot read stdin: %s", cause);
			free(cause);
			return rc;
		}
		text = xstrndup(in, strcspn(in, "\r\n"));
		sodium_memzero(in, len);
		free(in);
	} else
		text = xstrdup(argv[0]);
	if (payload_parse(text, &p, &cause) != 0) {
		rc = cli_error(cli, EXIT_DATAERR, "%s", cause);
		free(cause);
		sodium_memzero(text, strlen(text));
		free(text);
		return rc;
	}
	memset(&e, 0, sizeof e);
	e.p = &p;
	if ((c = cli_client(cli)) == NULL) {
		free(text);
		return EXIT_SOFTWARE;
	}
	dir = cli_keys_dir(cli);
	if (trust_code(c, dir, text, &p, 0, &e.v, &err) != 0)
		rc = cli_fail(cli, p.id, &err);
	else {
		e.expires_in = p.desc.expires - clock_now_ms() / 1000;
		e.what = explain_action(&p);
		explain_judge(&e);
		explain_print(cli, &e, dir);
		rc = e.why != NULL ? EXIT_NO : EXIT_OK;
	}
	sodium_memzero(text, strlen(text));
	free(text);
	free(e.what);
	free(dir);
	client_free(c);
	return rc;
}
