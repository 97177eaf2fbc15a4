/*
 * The flat-file backend's own objects, shared by its files, which call each
 * other in one direction only: store_fs.c (open, close, the operations
 * table) -> store_fs_load.c (loading, repairs) -> store_fs_doc.c (documents)
 * -> store_fs_journal.c (the documents' journal and its checkpoint) ->
 * store_fs_log.c (logs, the checkpoint) -> store_fs_commit.c (the group
 * commit, which knows writes by their files and tells each through its own
 * done function).
 */
#ifndef RTCS_STORE_FS_H
#define RTCS_STORE_FS_H
#include <sys/queue.h>
#include <sys/types.h>

#include "store_be.h"
#include "store_format.h"
#include "strmap.h"

struct fs;
struct syncer;

#define FS_VERSION_TEXT		"rtcs-store 3\n"
#define FS_VERSION_2		"rtcs-store 2\n"	/* read, and upgraded: no journal yet */
/* A framed document the journal takes: its record (the text escaped, at most twice as long) fits. */
#define FS_JOURNAL_DOC_MAX	((STORE_RECORD_MAX - 4096) / 2)
#define FS_MAX_OPEN_LOGS	STORE_MAX_OPEN_LOGS	/* log descriptors kept open, by default */

struct fs_log {
	TAILQ_ENTRY(fs_log) lru;	/* while its descriptor is open */
	char	*name, *path;
	char	*dir;			/* the directory holding it (synced when it is new) */
	int	 fd;			/* -1: closed, reopened on demand */
	int	 created;		/* made by us; its directory entry not synced yet */
	int	 dirty;			/* written since the last sync */
	uint64_t last;			/* appended */
	off_t	 size;			/* where the next record goes */
	uint64_t durable;		/* synced: what reads and watches see */
	off_t	 durable_size;
	uint64_t covered;		/* checkpointed, in its document or the checkpoint */
	uint64_t cur_seq;		/* a record known to start at cur_off (0: none) */
	uint64_t group;			/* the last group commit that counted it */
	off_t	 cur_off;
};
TAILQ_HEAD(fs_logq, fs_log);

/*
 * A write waiting for the group commit (store_fs_commit.c): an append (lf:
 * its log, written already), a document put later (lf: the journal, id set)
 * or a document's file from the journal's checkpoint (lf NULL, ckpt 1; fd:
 * its new file, written, renamed over dst in dir at the commit). done hears,
 * once, how the commit went; then everything here is freed.
 */
struct fs_pending {
	void		(*done)(struct fs *, struct fs_pending *, enum store_err,
			    const char *cause);
	struct fs_log	*lf;
	uint64_t	 seq;		/* an append's */
	uint64_t	 covers;	/* a document's: the log position its header vouches for */
	off_t		 end;
	int		 fd;		/* a document's (-1: none) */
	int		 ckpt;		/* a checkpoint's file: no put waits for it */
	char		*tmp, *dst, *dir;
	enum store_kind	 kind;
	char		*id;
	uint64_t	 rev;
	char		*json;		/* the record, or the document put later (framed) */
	size_t		 len;
	store_append_cb	 acb;
	store_put_cb	 pcb;
	void		*arg;
};

struct fs {
	struct store	*st;
	char		*dir, *tmp;
	struct store_options opt;
	int		 lockfd;
	int		 broken;	/* a failed sync or undo: nothing more can be trusted */
	int		 loaded;	/* store_load ran: every document and log is known */
	struct event	*commit_ev, *ckpt_ev;
	struct strmap	*revs[STORE_NKINDS];	/* id -> uint64_t * (current revision) */
	struct strmap	*logs;			/* name -> struct fs_log */
	struct fs_logq	 lru;
	int		 nopen;
	struct fs_pending *pend;	/* waiting for the next group commit */
	size_t		 npend, pendcap;
	struct fs_pending *flight;	/* the group on the sync thread */
	size_t		 nflight;
	struct syncer	*syncer;	/* made at the first group commit */
	uint64_t	 group;
	/* The next group waits for as many writes as the last held, until then at most. */
	size_t		 want;
	int64_t		 want_until;	/* CLOCK_MONOTONIC us */
	int64_t		 flight_t0;	/* when the group on the thread began */
	uint64_t	 ckpt_rev;
	struct store_stats stats;
	struct fs_log	*journal[2];	/* journal/a.log, journal/b.log */
	int		 jcur;		/* the one appended to */
	struct strmap	*jdocs;		/* "KIND/ID" -> documents newer there than in their files */
	int		 jflushing;	/* files of the running checkpoint not durable yet */
	int		 jfailed;	/* one of them failed: the old journal is not emptied */
	struct event	*jev;
};

/* How a scan of a log's records ended (fs_log_scan). */
struct fs_scan_end {
	uint64_t last;		/* the last good record's seq (0: none) */
	off_t	 good_end;	/* where it ends */
	off_t	 file_end;
	char	*why;		/* NULL: clean to the end; else what is wrong at good_end */
	int	 at_tail;	/* the bad part is the last line (a torn tail) */
	int	 io;		/* a read error (why says which) */
};

/* store_fs_log.c */
const char *fs_kind_dir(enum store_kind);
/* Arms *ev (made on first use, fn's argument the store) for one checkpoint interval. */
void	 fs_timer_soon(struct fs *, struct event **ev, void (*fn)(int, short, void *));
struct fs_log *fs_log_get(struct fs *, const char *name);
void	 fs_log_free(struct fs *, struct fs_log *);
int	 fs_log_fd(struct fs *, struct fs_log *, char **cause);
int	 fs_log_write(struct fs *, struct fs_log *, const char *json, size_t len,
	    enum store_err *, char **cause);
void	 fs_log_committed(struct fs *, struct fs_log *, uint64_t seq, off_t end,
	    const char *json, size_t len);
int	 fs_log_sync(struct fs *, struct fs_log *, char **cause);
int	 fs_log_scan(int fd, off_t from, uint64_t first_seq, int (*fn)(void *, uint64_t seq,
	    uint32_t crc, const char *json, size_t len, off_t off), void *arg,
	    struct fs_scan_end *);
int	 fs_log_grouped(const struct fs *, const struct fs_log *);
int	 fs_log_waiting(const struct fs_log *);
void	 fs_pend_append(struct fs *, struct fs_log *, const char *json, size_t len,
	    store_append_cb, void *);
void	 fs_append(void *be, const char *log, uint64_t expect_last, const char *json,
	    size_t len, store_append_cb, void *);
void	 fs_read(void *be, const char *log, uint64_t from, size_t max_records,
	    size_t max_bytes, store_page_cb, void *);
void	 fs_flush(void *be, store_done_cb, void *);
uint64_t fs_durable_last(void *be, const char *log);
int	 fs_write_checkpoint(struct fs *, char **cause);
void	 fs_logs_free(struct fs *);

/* store_fs_commit.c */
/* Queues a write (copied, with its json) for the group commit at the end of this loop turn. */
void	 fs_pend(struct fs *, const struct fs_pending *, const char *json, size_t len);
/* Makes every waiting write durable now (the thread's group first): 0, or -1 with *cause. */
int	 fs_commit(struct fs *, char **cause);
/* Whether a put of this document waits for the group commit. */
int	 fs_doc_waiting(const struct fs *, enum store_kind, const char *id);
/* The waiting writes' callers are gone (closing): nobody is told. */
void	 fs_quiet(struct fs *);
void	 fs_commit_free(struct fs *);

/* store_fs_journal.c */
char	*fs_journal_path(const struct fs *, int i);
/* Whether puts go to the journal (a loop, loaded, writable), and whether a framed document fits. */
int	 fs_journal_used(const struct fs *);
int	 fs_journal_fits(size_t len);
/* Appends a document's framed text to the journal (not synced); 0 or -1 with *err, *cause. */
int	 fs_journal_write(struct fs *, enum store_kind, const char *id, const char *text,
	    size_t len, enum store_err *, char **cause);
int	 fs_journal_sync(struct fs *, char **cause);
/* Queues p (done, kind, id, rev set) for the group commit, after the journal's record. */
void	 fs_journal_pend(struct fs *, struct fs_pending *p, const char *text, size_t len);
/* A document's newest framed text, until its file holds it (the checkpoint writes it). */
void	 fs_journal_keep(struct fs *, enum store_kind, const char *id, uint64_t rev,
	    const char *text, size_t len);
const char *fs_journal_doc(const struct fs *, enum store_kind, const char *id, size_t *len);
void	 fs_journal_drop(struct fs *, enum store_kind, const char *id);
/* A record's parts; 0, or -1 with *why. */
int	 fs_journal_parse(const char *json, size_t len, enum store_kind *, char **id,
	    char **text, char **why);
/* Writes a document's framed text to its file now (replaced atomically, synced). */
int	 fs_journal_write_file(struct fs *, enum store_kind, const char *id, const char *text,
	    size_t len, char **cause);
/* Writes every document kept to its file (synced) and empties both journals. */
int	 fs_journal_empty(struct fs *, char **cause);
void	 fs_journal_free(struct fs *);

/* store_fs_doc.c */
void	 fs_set_rev(struct fs *, enum store_kind, const char *id, uint64_t rev);
void	 fs_get(void *be, enum store_kind, const char *id, store_get_cb, void *);
void	 fs_put(void *be, enum store_kind, const char *id, uint64_t expect_rev,
	    const char *json, size_t len, const struct store_then *, store_put_cb, void *);
void	 fs_put_later(void *be, enum store_kind, const char *id, uint64_t expect_rev,
	    const char *json, size_t len, store_put_cb, void *);

/* store_fs_load.c */
int	 fs_load(void *be, const struct store_loader *, enum store_err *, char **);
int	 fs_check_files(void *be, const struct store_loader *);
#endif
