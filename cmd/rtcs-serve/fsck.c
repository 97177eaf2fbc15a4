/* rtcs-serve --fsck: every invariant of a store, checked without changing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "serve.h"
#include "xmalloc.h"

/*
 * Loads the store read-only into a scratch index: the store reports every
 * file-level problem (formats, checksums, seq gaps, cut logs, torn tails,
 * permissions) and lists its quarantine, model_load every reference that does
 * not hold. Exit 1 if there is any problem, 74 if the store cannot be read.
 */
int
fsck_run(struct config *cfg)
{
	struct store_options opt = { .sync = STORE_SYNC_NONE, .readonly = 1 };
	struct server srv;
	enum store_err err;
	char *cause = NULL;
	int problems, rc;

	memset(&srv, 0, sizeof srv);
	srv.cfg = cfg;
	srv.lockfd = -1;
	srv.sessions = strmap_new();
	srv.tokens = strmap_new();
	srv.channels = strmap_new();
	xfer_init(&srv);
	srv.store = store_open(cfg->store_path, NULL, &opt, &err, &cause);
	if (srv.store == NULL) {
		log_warnx("%s", cause);
		free(cause);
		model_free(&srv);
		return err == STORE_NOT_FOUND ? EXIT_NOINPUT : err == STORE_FORMAT_ERR ?
		    EXIT_NO : EXIT_IOERR;
	}
	problems = model_load(&srv, &err, &cause);
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
			    cfg->store_path, srv.nsessions, (unsigned long long)srv.nevents,
			    problems, problems == 1 ? "" : "s");
		rc = problems > 0 ? EXIT_NO : EXIT_OK;
	}
	free(cause);
	store_close(srv.store);
	model_free(&srv);
	return rc;
}
