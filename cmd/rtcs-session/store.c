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
	cJSON		*sessions;	/* id -> Session, as the API shows it */
	const char	*log_sid;	/* the session whose log is wanted, or NULL */
	long long	 since;
	cJSON		*log;		/* its entries after since */
};

/* A stored session without what only the store keeps. */
static int
store_read_doc(void *arg, enum store_doc kind, const char *id, const cJSON *doc, char **cause)
{
	struct store_read *r = arg;
	cJSON *s, *ch;

	(void)cause;
	if (kind != STORE_DOC_SESSION)
		return 0;
	s = cJSON_Duplicate(doc, 1);
	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(s, "channels"))
		cJSON_DeleteItemFromObjectCaseSensitive(ch, "token_hash");
	cJSON_DeleteItemFromObjectCaseSensitive(s, "last_seq");
	cJSON_AddNumberToObject(s, "last_seq", 0);
	cJSON_AddItemToObject(r->sessions, id, s);
	return 0;
}

static int
store_read_log(void *arg, const char *session, uint64_t seq, const char *json, size_t len,
    char **cause)
{
	struct store_read *r = arg;
	cJSON *s = cJSON_GetObjectItemCaseSensitive(r->sessions, session), *e;

	if (s != NULL)
		cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "last_seq"), (double)seq);
	if (r->log_sid == NULL || strcmp(session, r->log_sid) != 0 || (long long)seq <= r->since)
		return 0;
	if ((e = json_parse_object(json, len, cause)) == NULL)
		return -1;
	cJSON_AddItemToArray(r->log, e);
	return 0;
}

int
session_store_load(struct cli *cli, const char *log_sid, cJSON **sessions, cJSON **log)
{
	struct store_read r = { cJSON_CreateObject(), log_sid, sopts.since, cJSON_CreateArray() };
	struct store_loader ld = { &r, store_read_doc, store_read_log, NULL, NULL };
	struct store *st;
	char *cause = NULL;
	int busy = 0, rc = 0;

	if ((st = store_open(sopts.store, STORE_SYNC_NONE, STORE_READONLY, &busy, &cause)) == NULL) {
		rc = cli_error(cli, EXIT_NOINPUT, "cannot read the store %s: %s", sopts.store, cause);
		goto out;
	}
	if (store_load(st, &ld, &cause) < 0)
		rc = cli_error(cli, EXIT_DATAERR, "cannot read the store %s: %s", sopts.store, cause);
	store_close(st);
out:
	free(cause);
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
