/*
 * The server's durable store: one interface, chosen backends. store_fs*.c
 * keeps it in a directory of flat files (the embedded default, rtcs-store(5));
 * the second backend is etcd through its JSON gateway (design.md 11), picked
 * by the form of --store ("etcd://..." against a path), as OpenSMTPD picks
 * its queue backend by name. Nothing above this file knows files exist.
 *
 * Two kinds of objects:
 * - documents: one JSON object per kind and id, with a revision (1 on create,
 *   +1 per put), replaced whole: create-only, compare-and-swap on the
 *   revision, or unconditional; a put that finds another revision gets
 *   STORE_CONFLICT and changes nothing.
 * - logs: append-only records numbered from 1 without gaps, one log per
 *   session (named by its id) and the server's event log (STORE_EVENTS). An
 *   append names the last seq it expects; someone else's append first is
 *   STORE_CONFLICT. Ranges are read back in bounded pages; a log, or every
 *   document of a kind, can be watched for what others write.
 *
 * A put may carry one record to append to a log with it ("then"): the store
 * commits both or neither, so a change and the log entry that tells of it
 * never part (the flat files append the record at the next start if a crash
 * came between the two writes).
 *
 * Every operation completes through its callback on the server's event loop.
 * A backend may call it before the call returns (the flat files do, except
 * for what waits for the group commit: appends under --sync batch, the
 * event log's appends, store_put_later): make
 * the store call the last thing a function does with the state it read.
 * Callbacks get typed errors and a cause for people (valid during the call).
 * Offline readers (--fsck, rtcs-session --store) open the store read-only,
 * with no event loop: their reads complete before the call returns.
 */
#ifndef RTCS_STORE_H
#define RTCS_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Log files a store keeps open at most, by default. */
#define STORE_MAX_OPEN_LOGS	1024

struct event_base;

#define STORE_FORMAT	2

enum store_err {
	STORE_OK,
	STORE_CONFLICT,		/* another revision, or another last seq, than expected */
	STORE_NOT_FOUND,
	STORE_IO,		/* a system error (store_broken() tells if the store can go on) */
	STORE_CORRUPT,		/* what is stored fails its checksum or its format */
	STORE_FULL,		/* no space left (ENOSPC, EDQUOT, a quota) */
	STORE_BUSY,		/* open: another server holds the store */
	STORE_FORMAT_ERR,	/* open: not a store, or a format this build does not read */
	STORE_INVALID,		/* a request no store takes (a bad id, a newline in a record) */
};

enum store_kind { STORE_SESSION, STORE_TRANSFER, STORE_INVITE, STORE_META, STORE_NKINDS };

enum store_sync {
	STORE_SYNC_ALWAYS,	/* every write is durable before its callback */
	STORE_SYNC_BATCH,	/* appends are group-committed: one sync per loop turn */
	STORE_SYNC_NONE,	/* never sync (benchmarks) */
};

#define STORE_REV_CREATE	0		/* put only if there is no such document */
#define STORE_REV_ANY		UINT64_MAX	/* put whatever revision is there */
#define STORE_EVENTS		"events"	/* the server's event log */
#define STORE_ID_MAX		64

struct store_options {
	enum store_sync sync;
	int	 readonly;	/* no lock, no repair, no write: --fsck, offline readers */
	int	 checkpoint_ms;	/* how often log positions are checkpointed (0: 1000) */
	int	 max_open_logs;	/* log files kept open at most (0: STORE_MAX_OPEN_LOGS) */
	int	 quota_mib;	/* etcd: its backend quota, MiB (0: etcd's default, 2048) */
	long	 compact_s;	/* etcd: compact and defragment every so often (0: never) */
};

struct store_doc {
	enum store_kind	 kind;
	const char	*id;
	uint64_t	 rev;
	const char	*json;
	size_t		 len;
};

struct store_record {
	const char	*log;
	uint64_t	 seq;
	const char	*json;
	size_t		 len;
};

/* The record a put appends with its document (seq: the log's last + 1). */
struct store_then {
	const char	*log;
	uint64_t	 seq;
	const char	*json;
	size_t		 len;
};

typedef void (*store_done_cb)(void *arg, enum store_err, const char *cause);
typedef void (*store_put_cb)(void *arg, enum store_err, uint64_t rev, const char *cause);
typedef void (*store_get_cb)(void *arg, enum store_err, const struct store_doc *,
	    const char *cause);
typedef void (*store_append_cb)(void *arg, enum store_err, uint64_t seq, const char *cause);
/* A page of a log: n records from the one asked for, in order; n 0 at the end. */
typedef void (*store_page_cb)(void *arg, enum store_err, const struct store_record *,
	    size_t n, const char *cause);
typedef void (*store_record_cb)(void *arg, const struct store_record *);
typedef void (*store_doc_cb)(void *arg, const struct store_doc *);

/*
 * What store_load() hands back at start: every document (kind by kind, in
 * id order), then every log with its last seq. A callback returning -1 (with
 * *cause) stops the load. problem hears of every violation (fixed 1: it was
 * repaired, what was removed is in quarantine); note of what is not one (a
 * file in quarantine). Callbacks may be NULL.
 */
struct store_loader {
	void	*arg;
	int	(*doc)(void *arg, const struct store_doc *, char **cause);
	int	(*log)(void *arg, const char *log, uint64_t last_seq, char **cause);
	void	(*problem)(void *arg, const char *where, const char *what, int fixed);
	void	(*note)(void *arg, const char *where, const char *what);
};

struct store;
struct store_watch;

/*
 * Opens the store spec names (a directory; "etcd://..." is not built yet).
 * base is the event loop the callbacks run on (NULL for a read-only reader).
 * NULL with *err (STORE_BUSY, STORE_FORMAT_ERR, STORE_IO, ...) and *cause.
 */
struct store *store_open(const char *spec, struct event_base *base,
	    const struct store_options *, enum store_err *err, char **cause);
/*
 * Reads everything once, at start (it blocks: the server is not serving
 * yet). Nothing is changed unless every file could be read: any read error
 * is -1 with *err STORE_IO. Repairs (a torn tail cut, an orphan log, a
 * record a put carried that a crash kept out of its log) are made only in a
 * writable store and move what they remove to quarantine. Returns the number
 * of problems left unrepaired (a server refuses to start on any), or -1.
 */
int	 store_load(struct store *, const struct store_loader *, enum store_err *err,
	    char **cause);
/*
 * Whether other servers share the store (etcd): what they write reaches this
 * one's watches (a kind watch hears their documents), and a write may find
 * a revision or a last seq they made.
 */
int	 store_shared(const struct store *);
/*
 * Whether a shared store can be reached now (always 1 for the flat files):
 * while it cannot, this server may have missed what others wrote. fn hears
 * each change (available 0 or 1).
 */
int	 store_available(const struct store *);
/* Whether the store is near its quota (etcd: 90%): nothing new should be begun. */
int	 store_full_soon(const struct store *);
void	 store_on_available(struct store *, void (*fn)(void *arg, int available), void *arg);
/* Where the store is (its directory or its URL), for messages. */
const char *store_where(const struct store *);
const char *store_err_name(enum store_err);

void	 store_get(struct store *, enum store_kind, const char *id, store_get_cb, void *arg);
/* Replaces (or creates) a document if its revision is expect_rev (or see STORE_REV_*). */
void	 store_put(struct store *, enum store_kind, const char *id, uint64_t expect_rev,
	    const char *json, size_t len, const struct store_then *then, store_put_cb,
	    void *arg);
/*
 * As store_put (no record), for a document whose loss in a crash the next
 * start mends from what is durable already, such as a transfer's record
 * after the switch its session's document made: the caller is not held up
 * while it is made durable (the flat files: at the group commit, off the
 * loop), and its callback comes once it is. A get or put of the same
 * document meanwhile waits for it.
 */
void	 store_put_later(struct store *, enum store_kind, const char *id, uint64_t expect_rev,
	    const char *json, size_t len, store_put_cb, void *arg);
/* Appends one record as seq expect_last + 1 if the log's last is expect_last. */
void	 store_append(struct store *, const char *log, uint64_t expect_last,
	    const char *json, size_t len, store_append_cb, void *arg);
/*
 * The same, only if a document is still at a revision (STORE_CONFLICT if
 * not): a message of a channel whose session another server has changed
 * since (its token revoked, say) is refused at write time. A store that
 * only this server writes (the flat files) has nothing else to compare.
 */
struct store_guard {
	enum store_kind	 kind;
	const char	*id;
	uint64_t	 rev;
};
void	 store_append_if(struct store *, const char *log, uint64_t expect_last,
	    const struct store_guard *, const char *json, size_t len, store_append_cb, void *arg);
/* Durable records from seq from on: at most max_records, about max_bytes (at least one). */
void	 store_read(struct store *, const char *log, uint64_t from, size_t max_records,
	    size_t max_bytes, store_page_cb, void *arg);
/*
 * Removes a document if it is still at expect_rev, and with it the whole of
 * log if not NULL (retention: --retain). Only a store that can (etcd, see
 * store_can_remove); the others keep everything. Other servers' watches
 * hear the removal as a document with json NULL.
 */
int	 store_can_remove(const struct store *);
void	 store_remove(struct store *, enum store_kind, const char *id, uint64_t expect_rev,
	    const char *log, store_done_cb, void *arg);
/* Calls back once every write made so far is durable. */
void	 store_flush(struct store *, store_done_cb, void *arg);
/*
 * Calls back once this server has heard every write any server had
 * acknowledged before the call (a shared store: its watch has caught up);
 * at once for a store only this server writes. STORE_IO when the
 * store cannot say (its watch is down, or does not catch up in 2 s).
 */
void	 store_barrier(struct store *, store_done_cb, void *arg);

/*
 * Watches a log: fn hears every durable record from seq from on, in order
 * (those already there first), until store_unwatch. Or every document of a
 * kind as each put of it becomes durable.
 */
struct store_watch *store_watch_log(struct store *, const char *log, uint64_t from,
	    store_record_cb fn, void *arg);
struct store_watch *store_watch_kind(struct store *, enum store_kind, store_doc_cb fn,
	    void *arg);
void	 store_unwatch(struct store_watch *);

/* What the store did since it opened (health, the bench). */
struct store_stats {
	const char	*backend;
	uint64_t	 appends;		/* records appended */
	uint64_t	 puts;			/* documents written */
	uint64_t	 syncs;			/* fsyncs and fdatasyncs */
	uint64_t	 checkpoints;		/* checkpoints written */
	uint64_t	 checkpoint_us;		/* time spent writing them, in all */
	uint64_t	 checkpoint_logs;	/* logs the last one named */
};
void	 store_stats(const struct store *, struct store_stats *);

/*
 * Whether a failed sync or a failed undo left the store where no later
 * write can be trusted: the server must stop.
 */
int	 store_broken(const struct store *);
/* Whether writes wait for the group commit or etcd, or callers for a barrier. */
int	 store_pending(const struct store *);
/* Commits what is pending, writes the checkpoint, releases the lock. */
void	 store_close(struct store *);

/* File-level checks for --fsck (modes, owners, files that are not ours). */
int	 store_check_files(struct store *, const struct store_loader *);
#endif
