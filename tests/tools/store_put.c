/*
 * store-put DIR KIND ID < JSON: writes one document into a stopped server's
 * store through the store interface (a valid checksum, whatever it says), so
 * tests can hand the server documents that are well framed but wrong inside.
 * store-put STORE KIND ID --append LOG REV < JSON: appends JSON to LOG as its
 * next record only if document KIND/ID is at revision REV (store_append_if),
 * as a message of a server whose memory is at REV would be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "store.h"

static void
done(void *arg, enum store_err err, uint64_t rev, const char *cause)
{
	int *rc = arg;

	*rc = err == STORE_OK ? 0 : 1;
	if (err != STORE_OK)
		fprintf(stderr, "store-put: %s\n", cause);
	else
		printf("rev %llu\n", (unsigned long long)rev);
}

static void
appended(void *arg, enum store_err err, uint64_t seq, const char *cause)
{
	int *rc = arg;

	*rc = err == STORE_OK ? 0 : 1;
	if (err != STORE_OK)
		fprintf(stderr, "store-put: %s\n", cause);
	else
		printf("seq %llu\n", (unsigned long long)seq);
}

struct last {
	const char	*log;
	uint64_t	 seq;
};

static int
log_last(void *arg, const char *log, uint64_t seq, char **cause)
{
	struct last *l = arg;

	(void)cause;
	if (strcmp(log, l->log) == 0)
		l->seq = seq;
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *const kinds[] = { "session", "transfer", "invite", "meta" };
	struct store_options opt = { .sync = STORE_SYNC_ALWAYS };
	struct store_loader ld = { 0 };
	struct store *st;
	enum store_err err;
	char *cause = NULL, *json;
	size_t len, k;
	int rc = 1;

	struct last last = { NULL, 0 };
	struct store_guard g;

	if (argc != 4 && !(argc == 7 && strcmp(argv[4], "--append") == 0)) {
		fprintf(stderr, "usage: store-put DIR session|transfer|invite|meta ID "
		    "[--append LOG REV] < JSON\n");
		return 64;
	}
	if (argc == 7) {
		last.log = argv[5];
		ld.arg = &last;
		ld.log = log_last;
	}
	for (k = 0; k < 4 && strcmp(argv[2], kinds[k]) != 0; k++)
		;
	if (k == 4 || fs_read_fd(STDIN_FILENO, 16 << 20, &json, &len, &cause) != 0) {
		fprintf(stderr, "store-put: bad kind or input\n");
		return 64;
	}
	while (len > 0 && json[len - 1] == '\n')
		json[--len] = '\0';
	if ((st = store_open(argv[1], NULL, &opt, &err, &cause)) == NULL ||
	    store_load(st, &ld, &err, &cause) < 0) {
		fprintf(stderr, "store-put: %s\n", cause);
		return 1;
	}
	if (argc == 7) {
		g = (struct store_guard){ (enum store_kind)k, argv[3], strtoull(argv[6], NULL, 10) };
		store_append_if(st, argv[5], last.seq, &g, json, len, appended, &rc);
	} else
		store_put(st, (enum store_kind)k, argv[3], STORE_REV_ANY, json, len, NULL, done, &rc);
	store_close(st);
	free(json);
	return rc;
}
