/*
 * rtcs-session --store DIR: list, show and log read the server's store
 * offline, read-only, and print the same objects the server would send.
 * Built when common/store.h (rtcs-serve's store interface) is in the tree.
 */
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "session.h"

#if __has_include("store.h")
#include "json.h"
#include "store.h"
#include "xmalloc.h"

struct store_read {
	struct store	*st;
	cJSON		*sessions;	/* id -> Session, as the API shows it */
	const char	*log_sid;	/* the session whose log is wanted, or NULL */
	long long	 since;
	cJSON		*log;		/* its entries after since */
	enum store_err	 err;
	char		*cause;
	size_t		 got;
};

/* A stored session without what only the store keeps. */
static int
store_read_doc(void *arg, const struct store_doc *d, char **cause)
{
	struct store_read *r = arg;
	cJSON *s, *ch;

	if (d->kind != STORE_SESSION)
		return 0;
	if ((s = json_parse_object(d->json, d->len, cause)) == NULL)
		return -1;
	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(s, "channels"))
		cJSON_DeleteItemFromObjectCaseSensitive(ch, "token_hash");
	cJSON_DeleteItemFromObjectCaseSensitive(s, "last_seq");
	cJSON_AddNumberToObject(s, "last_seq", 0);
	cJSON_AddItemToObject(r->sessions, d->id, s);
	return 0;
}

static void
store_read_page(void *arg, enum store_err err, const struct store_record *recs, size_t n,
    const char *cause)
{
	struct store_read *r = arg;
	cJSON *e;
	size_t i;

	r->err = err;
	r->got = 0;
	if (err != STORE_OK) {
		r->cause = xstrdup(cause);
		return;
	}
	for (i = 0; i < n; i++) {
		if ((e = json_parse_object(recs[i].json, recs[i].len, &r->cause)) == NULL) {
			r->err = STORE_CORRUPT;
			return;
		}
		cJSON_AddItemToArray(r->log, e);
	}
	r->got = n;
}

/* Each log's last seq; the wanted log's entries read in pages. */
static int
store_read_log(void *arg, const char *log, uint64_t last, char **cause)
{
	struct store_read *r = arg;
	cJSON *s = cJSON_GetObjectItemCaseSensitive(r->sessions, log);
	uint64_t from = r->since > 0 ? (uint64_t)r->since + 1 : 1;

	if (s != NULL)
		cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "last_seq"), (double)last);
	if (r->log_sid == NULL || strcmp(log, r->log_sid) != 0)
		return 0;
	while (from <= last) {
		store_read(r->st, log, from, 1024, 1 << 20, store_read_page, r);
		if (r->err != STORE_OK || r->got == 0) {
			*cause = r->cause ? r->cause : xstrdup("short read");
			r->cause = NULL;
			return -1;
		}
		from += r->got;
	}
	return 0;
}

int
session_store_load(struct cli *cli, const char *log_sid, cJSON **sessions, cJSON **log)
{
	struct store_read r = { NULL, cJSON_CreateObject(), log_sid, sopts.since,
	    cJSON_CreateArray(), STORE_OK, NULL, 0 };
	struct store_loader ld = { &r, store_read_doc, store_read_log, NULL, NULL };
	struct store_options opt = { .sync = STORE_SYNC_NONE, .readonly = 1 };
	enum store_err err;
	char *cause = NULL;
	int rc = 0;

	if ((r.st = store_open(sopts.store, NULL, &opt, &err, &cause)) == NULL) {
		rc = cli_error(cli, err == STORE_NOT_FOUND ? EXIT_NOINPUT : err == STORE_IO ?
		    EXIT_IOERR : EXIT_DATAERR, "cannot read the store %s: %s", sopts.store, cause);
		goto out;
	}
	if (store_load(r.st, &ld, &err, &cause) < 0)
		rc = cli_error(cli, err == STORE_IO ? EXIT_IOERR : EXIT_DATAERR,
		    "cannot read the store %s: %s", sopts.store, cause);
	store_close(r.st);
out:
	free(cause);
	free(r.cause);
	if (rc != 0) {
		cJSON_Delete(r.sessions);
		cJSON_Delete(r.log);
		return rc;
	}
	*sessions = r.sessions;
	*log = r.log;
	return 0;
}
#else
int
session_store_load(struct cli *cli, const char *log_sid, cJSON **sessions, cJSON **log)
{
	(void)log_sid;
	*sessions = *log = NULL;
	return cli_error(cli, EXIT_SOFTWARE, "reading a store offline (--store %s) is not built "
	    "into this version; ask rtcs-serve", sopts.store);
}
#endif
