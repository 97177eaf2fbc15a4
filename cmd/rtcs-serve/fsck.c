/* rtcs-serve --fsck: every invariant of a store, checked without changing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "exitcode.h"
#include "fsck.h"
#include "json.h"
#include "log.h"
#include "xmalloc.h"

/* Each problem (and note) on stdout: "where: what", or JSON Lines with --json. */
static void
print_line(const struct config *cfg, const char *where, const char *key, const char *what,
    int fixed, int with_fixed)
{
	cJSON *o;
	char *text;

	if (!cfg->json) {
		printf("%s: %s\n", where, what);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "path", where);
	cJSON_AddStringToObject(o, key, what);
	if (with_fixed)
		cJSON_AddBoolToObject(o, "fixed", fixed);
	text = json_print(o);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(o);
}

static void
fsck_problem(void *arg, const char *where, const char *what, int fixed)
{
	print_line(arg, where, "problem", what, fixed, 1);
}

static void
fsck_note(void *arg, const char *where, const char *what)
{
	print_line(arg, where, "note", what, 0, 0);
}

/*
 * Loads the store read-only into a scratch core: the store reports every
 * file-level problem (formats, checksums, cut logs, torn tails, permissions)
 * and lists its quarantine, the core every reference that does not hold.
 * Exit 1 if there is any problem, 74 if the store cannot be read.
 */
int
fsck_run(struct config *cfg)
{
	struct store_options opt = { .sync = STORE_SYNC_NONE, .readonly = 1 };
	struct core_config cc = { cfg->code_ttl_ms, cfg->confirm, cfg->proof, cfg->media_ring_ms,
	    cfg->rotate_ms };
	struct store *st;
	struct core core;
	enum store_err err;
	char *cause = NULL;
	int problems, rc;

	if ((st = store_open(cfg->store_path, NULL, &opt, &err, &cause)) == NULL) {
		log_warnx("%s", cause);
		free(cause);
		return err == STORE_NOT_FOUND ? EXIT_NOINPUT : err == STORE_FORMAT_ERR ?
		    EXIT_NO : EXIT_IOERR;
	}
	core_init(&core, st, NULL, &cc);
	core.readonly = 1;
	problems = core_load(&core, fsck_problem, fsck_note, cfg, 1, &err, &cause);
	if (problems < 0 && err == STORE_IO) {
		log_warnx("%s", cause);
		rc = EXIT_IOERR;
	} else {
		if (problems < 0) {
			printf("%s: %s\n", cfg->store_path, cause);
			problems = 1;
		}
		if (!cfg->json)
			fprintf(stderr, "rtcs-serve: %s: %zu sessions, %llu events, %d problem%s\n",
			    cfg->store_path, core.nsessions, (unsigned long long)core.events_durable,
			    problems, problems == 1 ? "" : "s");
		rc = problems > 0 ? EXIT_NO : EXIT_OK;
	}
	free(cause);
	core_free(&core);
	store_close(st);
	return rc;
}
