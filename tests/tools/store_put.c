/*
 * store-put DIR KIND ID < JSON: writes one document into a stopped server's
 * store through the store interface (a valid checksum, whatever it says), so
 * tests can hand the server documents that are well framed but wrong inside.
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

	if (argc != 4) {
		fprintf(stderr, "usage: store-put DIR session|transfer|invite|meta ID < JSON\n");
		return 64;
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
	store_put(st, (enum store_kind)k, argv[3], STORE_REV_ANY, json, len, NULL, done, &rc);
	store_close(st);
	free(json);
	return rc;
}
