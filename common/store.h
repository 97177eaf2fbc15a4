/*
 * The server's durable store, behind one small interface so that another
 * backend (NATS JetStream, design.md 11) can follow store_fs.c.
 *
 * The store knows documents (a JSON object per session and per transfer,
 * replaced as a whole) and append-only logs (one per session, one for the
 * server's events), each record a JSON text with a sequence number from 1.
 * It knows nothing of what the documents mean: the server keeps its own
 * in-memory index, built once through store_load().
 */
#ifndef RTCS_STORE_H
#define RTCS_STORE_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define STORE_FORMAT	1

enum store_sync {
	STORE_SYNC_ALWAYS,	/* every write is durable when the call returns */
	STORE_SYNC_BATCH,	/* appends are durable after store_sync() */
	STORE_SYNC_NONE,	/* never fsync (benchmarks) */
};

/* store_open() flags. */
#define STORE_READONLY	0x1	/* no lock, no repair, no writes (fsck, offline readers) */

/* Kinds of documents. */
enum store_doc { STORE_DOC_SESSION, STORE_DOC_TRANSFER, STORE_DOC_INVITE };

/*
 * What store_load() hands back, record by record, in order. Callbacks may be
 * NULL; a callback returning -1 (with *cause) stops the load. "problem" hears
 * about every violation found (path and what); with repair allowed, torn
 * tails are cut and reported with fixed = 1.
 */
struct store_loader {
	void	*arg;
	int	(*doc)(void *arg, enum store_doc kind, const char *id,
		    const cJSON *doc, char **cause);
	int	(*log_record)(void *arg, const char *session, uint64_t seq,
		    const char *json, size_t len, char **cause);
	int	(*event)(void *arg, uint64_t seq, const char *json, size_t len,
		    char **cause);
	void	(*problem)(void *arg, const char *path, const char *what, int fixed);
};

struct store;

/* Why store_open() failed (*busy), besides 0 (a system error). */
#define STORE_BUSY	1	/* another process holds the lock */
#define STORE_BADFORMAT	2	/* VERSION unknown, or missing from a store with data */

/*
 * Opens (creating if needed) the store in dir and takes its lock. Returns NULL
 * with *cause and *busy (STORE_BUSY, STORE_BADFORMAT or 0).
 */
struct store *store_open(const char *dir, enum store_sync sync, int flags,
	    int *busy, char **cause);
/*
 * Reads everything once: documents, then each session's log, then the event
 * log. Torn tails are cut (unless read-only). Returns the number of problems
 * left unrepaired, or -1 with *cause when the store cannot be used.
 */
int	 store_load(struct store *, const struct store_loader *, char **cause);
const char *store_dir(const struct store *);

/*
 * Replaces a document. -1 with *cause: nothing changed, unless
 * store_broken() says so (replaced, durability unknown: stop).
 */
int	 store_put_doc(struct store *, enum store_doc, const char *id,
	    const cJSON *doc, char **cause);
int	 store_append_log(struct store *, const char *session, uint64_t seq,
	    const char *json, size_t len, char **cause);
int	 store_append_event(struct store *, uint64_t seq, const char *json,
	    size_t len, char **cause);
/* Closes the cached descriptor of a session log that will not grow again. */
void	 store_retire_log(struct store *, const char *session);
/* Forgets a session log (a create that was undone): no sync, no descriptor kept. */
void	 store_forget_log(struct store *, const char *session);

/* Whether writes wait for store_sync() (batch mode with writes pending). */
int	 store_pending(const struct store *);
/*
 * Whether a failed sync or a failed undo left the store in a state no later
 * write can be trusted on (the server must stop).
 */
int	 store_broken(const struct store *);
/* Group commit: makes every pending write durable. */
int	 store_sync(struct store *, char **cause);
void	 store_close(struct store *);

/* Checks file-level invariants of a store on disk, calling problem for each. */
int	 store_check_files(const char *dir, const struct store_loader *);
#endif
