/*
 * rtcs-transfer: showing a transfer's code, and again each time it rotates
 * (design.md 7.1): the -o file replaced atomically, the terminal drawing
 * redrawn in place, else a new line (a JSON line with --json).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "client_transfer.h"
#include "exitcode.h"
#include "fsutil.h"
#include "json.h"
#include "sibling.h"
#include "xfer.h"
#include "xmalloc.h"

/* payload rendered by rtcs-code as type into file (the payload on stdin, never on argv). */
static int
code_render_to(struct cli *cli, const char *payload, const char *type, const char *file)
{
	char *argv[] = { "rtcs-code", "-t", (char *)type, "-o", (char *)file, "-", NULL };
	char *cause = NULL;
	int rc;

	rc = sibling_run(argv, payload, strlen(payload), &cause);
	if (rc < 0) {
		rc = cli_error(cli, EXIT_SOFTWARE, "%s", cause);
		free(cause);
	} else if (rc != 0)
		cli_error(cli, rc, "rtcs-code failed (exit %d)", rc);
	return rc;
}

int
transfer_render(struct cli *cli, const char *payload, const char *png_file, int terminal)
{
	return code_render_to(cli, payload, terminal ? "utf8" : "png", terminal ? "-" : png_file);
}

/*
 * The PNG of -o FILE: written in a directory of our own beside it (mkdtemp:
 * 0700, a name nobody can plant, no link followed), made 0600 (it holds the
 * code's secret), then renamed over FILE: a reader never sees half of one.
 */
static int
code_write_png(struct code_view *v, const char *payload)
{
	const char *slash = strrchr(v->output, '/');
	char *dir = slash != NULL ? xprintf("%.*s/.rtcs-code.XXXXXX", (int)(slash - v->output),
	    v->output) : xstrdup(".rtcs-code.XXXXXX"), *tmp;
	int rc;

	if (mkdtemp(dir) == NULL) {
		rc = cli_error(v->cli, EXIT_IOERR, "cannot write beside %s: %s", v->output,
		    strerror(errno));
		free(dir);
		return rc;
	}
	tmp = xprintf("%s/code.png", dir);
	if ((rc = code_render_to(v->cli, payload, "png", tmp)) == 0 &&
	    (chmod(tmp, 0600) != 0 || rename(tmp, v->output) != 0))
		rc = cli_error(v->cli, EXIT_IOERR, "cannot replace %s: %s", v->output,
		    strerror(errno));
	if (rc != 0)
		unlink(tmp);
	rmdir(dir);
	free(tmp);
	free(dir);
	return rc;
}

/* The half-block drawing on the terminal, over the previous one (cursor up, clear below). */
static int
code_draw(struct code_view *v, const char *payload)
{
	char *dir = xprintf("%s/rtcs-code.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	char *tmp, *text = NULL, *cause = NULL;
	size_t len = 0, i;
	int rc;

	/* A directory of our own (mkdtemp, 0700): no name in /tmp another user could plant. */
	if (mkdtemp(dir) == NULL) {
		rc = cli_error(v->cli, EXIT_IOERR, "cannot make %s: %s", dir, strerror(errno));
		free(dir);
		return rc;
	}
	tmp = xprintf("%s/code.txt", dir);
	if ((rc = code_render_to(v->cli, payload, "utf8", tmp)) == 0 &&
	    fs_read_file(tmp, 1024 * 1024, &text, &len, &cause) != 0) {
		rc = cli_error(v->cli, EXIT_IOERR, "cannot read %s: %s", tmp, cause);
		free(cause);
	}
	unlink(tmp);
	rmdir(dir);
	free(tmp);
	free(dir);
	if (rc != 0)
		return rc;
	if (v->drawn > 0)
		printf("\033[%dA\033[J", v->drawn);
	fwrite(text, 1, len, stdout);
	for (v->drawn = 0, i = 0; i < len; i++)
		v->drawn += text[i] == '\n';
	free(text);
	return 0;
}

int
code_show(struct code_view *v, const char *payload, const char *rotates_at)
{
	cJSON *o;
	int rc;

	if (v->output != NULL && (rc = code_write_png(v, payload)) != 0)
		return rc;
	if (v->draw && !v->cli->json) {
		if ((rc = code_draw(v, payload)) != 0)
			return rc;
	} else if (v->print && v->cli->json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "event", "transfer.code");
		cJSON_AddStringToObject(o, "transfer", v->id);
		cJSON_AddStringToObject(o, "payload", payload);
		if (rotates_at != NULL)
			cJSON_AddStringToObject(o, "rotates_at", rotates_at);
		print_json(o);
		cJSON_Delete(o);
	} else if (v->print)
		printf("%s\n", payload);
	fflush(stdout);
	return 0;
}

/*
 * A transfer.code event of the wait (transfer_wait's on_code): the new code
 * is fetched with the displayer's secret, on a connection of its own, and
 * shown. A failed fetch is said and the wait goes on (the old code is still
 * valid for its grace, and the next rotation is told too).
 */
void
code_rotated(const cJSON *ev, void *arg)
{
	struct code_view *v = arg;
	struct client_err err = { 0 };
	struct client *c;
	cJSON *code = NULL;
	const char *payload;

	(void)ev;
	c = cli_client(v->cli);
	if (c != NULL && transfer_get_code(c, v->id, v->secret, &code, &err) == 0 &&
	    (payload = json_str(code, "payload")) != NULL)
		v->rc = code_show(v, payload, json_str(code, "rotates_at"));
	else if (c != NULL && err.msg != NULL && err.status != 409 && err.status != 410)
		cli_error(v->cli, err.exit, "cannot fetch the new code of %s: %s", v->id, err.msg);
	client_err_clear(&err);
	cJSON_Delete(code);
	client_free(c);
}
