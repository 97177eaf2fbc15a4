/* rtcs-serve --fsck: every invariant of a store on disk, checked without changing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "serve.h"
#include "xmalloc.h"

/*
 * Loads the store read-only into a scratch index: the loader reports every
 * file-level problem (formats, checksums, seq gaps, torn tails, permissions)
 * and model_load every reference that does not hold. Exit 1 if any.
 */
int
fsck_run(struct config *cfg)
{
	struct server srv;
	char *cause = NULL;
	int busy, problems;

	memset(&srv, 0, sizeof srv);
	srv.cfg = cfg;
	srv.lockfd = -1;
	srv.sessions = strmap_new();
	srv.tokens = strmap_new();
	srv.channels = strmap_new();
	xfer_init(&srv);
	srv.store = store_open(cfg->store_path, STORE_SYNC_NONE, STORE_READONLY, &busy, &cause);
	if (srv.store == NULL) {
		log_warnx("%s", cause);
		free(cause);
		model_free(&srv);
		return EXIT_NOINPUT;
	}
	problems = model_load(&srv, 1, &cause);
	if (problems < 0) {
		printf("%s: %s\n", cfg->store_path, cause);
		free(cause);
		problems = 1;
	}
	if (!cfg->json)
		fprintf(stderr, "rtcs-serve: %s: %zu sessions, %llu events, %d problem%s\n",
		    cfg->store_path, srv.nsessions, (unsigned long long)srv.nevents, problems,
		    problems == 1 ? "" : "s");
	model_free(&srv);
	store_close(srv.store);
	return problems > 0 ? EXIT_NO : EXIT_OK;
}
