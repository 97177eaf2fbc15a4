/*
 * rtcs-serve's offline commands, which read the store without changing it:
 * --fsck (every invariant checked) and --print-key (the signing key's line).
 */
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
/* The store opened read-only into a scratch core: NULL with the exit code in *rc. */
static struct store *
offline_open(struct config *cfg, struct core *core, int *rc)
{
	struct store_options opt = { .sync = STORE_SYNC_NONE, .readonly = 1 };
	struct core_config cc;
	struct store *st;
	enum store_err err;
	char *cause = NULL;

	if ((st = store_open(cfg->store_path, NULL, &opt, &err, &cause)) == NULL) {
		log_warnx("%s", cause);
		free(cause);
		*rc = err == STORE_NOT_FOUND ? EXIT_NOINPUT : err == STORE_FORMAT_ERR ?
		    EXIT_NO : EXIT_IOERR;
		return NULL;
	}
	config_core(cfg, &cc);
	core_init(core, st, NULL, &cc);
	core->readonly = 1;
	return st;
}

int
fsck_run(struct config *cfg)
{
	struct store *st;
	struct core core;
	enum store_err err;
	char *cause = NULL;
	int problems, rc;

	if ((st = offline_open(cfg, &core, &rc)) == NULL)
		return rc;
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

static void
quiet_problem(void *arg, const char *where, const char *what, int fixed)
{
	(void)arg;
	(void)fixed;
	log_info("%s: %s", where, what);
}

/*
 * --print-key: "NAME KEY", the line a client's servers.known keeps for this
 * server (--name) and its store's signing key. 66 if the store has none yet.
 */
int
printkey_run(struct config *cfg)
{
	char hex[PAYLOAD_PK_HEX + 1];
	struct store *st;
	struct core core;
	enum store_err err;
	char *cause = NULL;
	int rc;

	if ((st = offline_open(cfg, &core, &rc)) == NULL)
		return rc;
	if (core_load(&core, quiet_problem, NULL, cfg, 0, &err, &cause) < 0) {
		log_warnx("%s", cause);
		rc = err == STORE_IO ? EXIT_IOERR : EXIT_DATAERR;
	} else if (!core.have_sign) {
		log_warnx("%s has no signing key yet: rtcs-serve makes it at its first start",
		    cfg->store_path);
		rc = EXIT_NOINPUT;
	} else {
		payload_pk_hex(core.sign_pk, hex);
		printf("%s %s\n", core.name, hex);
		rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_IOERR;
	}
	free(cause);
	core_free(&core);
	store_close(st);
	return rc;
}
