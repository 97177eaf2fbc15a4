/*
 * The flat-file store (design.md 6; layout in rtcs-store(5)):
 *
 *   DIR/VERSION            "rtcs-store 1"
 *   DIR/lock               flock(2) held by the one server using the store
 *   DIR/tmp/               where every replacement is written before rename
 *   DIR/sessions/ID.json   one document per session, replaced atomically
 *   DIR/transfers/ID.json  one document per transfer, replaced atomically
 *   DIR/invites/ID.json    one document per invite, replaced atomically
 *   DIR/logs/ID.log        each session's log, append-only
 *   DIR/events.log         the server's event log, append-only
 *
 * A log line is "<seq> <crc32 of json, 8 hex> <json>\n", seq from 1 without gaps.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "hash.h"
#include "json.h"
#include "store.h"
#include "strmap.h"
#include "xmalloc.h"

#define STORE_VERSION_TEXT	"rtcs-store 1\n"
#define STORE_DOC_MAX		(16u << 20)
#define STORE_LOG_MAX		((size_t)4 << 30)

struct logfile {
	char	*path;
	int	 fd;
	int	 dirty;		/* written since the last sync */
	int	 created;	/* its directory entry is not durable yet */
	int	 retiring;	/* out of st->logs: freed once synced */
	char	*dir;		/* the directory holding it */
};

struct store {
	char	*dir;
	char	*tmp;
	enum store_sync sync;
	int	 flags;
	int	 lockfd;
	int	 sync_failed;	/* a sync failed: nothing pending can be trusted */
	struct strmap *logs;	/* session id -> struct logfile */
	struct logfile *events;
	struct logfile **dirty;	/* pending sync (batch) */
	size_t	 ndirty, dirtycap;
};

static int store_undirty(struct store *, struct logfile *);

static const char *const store_subdirs[] = { "tmp", "sessions", "transfers", "invites", "logs" };

static const char *
store_doc_dir(enum store_doc kind)
{
	return kind == STORE_DOC_SESSION ? "sessions" : kind == STORE_DOC_TRANSFER ? "transfers" :
	    "invites";
}

const char *
store_dir(const struct store *st)
{
	return st->dir;
}

/*
 * Reads DIR/VERSION, writing it only into a new store (fresh: the directory
 * held no data). A store with data but no VERSION is refused: it is not one
 * of ours, or it is damaged.
 */
static int
store_version(struct store *st, int fresh, int *busy, char **cause)
{
	char *path = xprintf("%s/VERSION", st->dir), *data = NULL, *c2 = NULL;
	size_t len;
	int rv = -1;

	if (access(path, F_OK) != 0 && errno == ENOENT) {
		if (fresh && !(st->flags & STORE_READONLY)) {
			rv = fs_write_atomic(st->dir, "VERSION", st->tmp, STORE_VERSION_TEXT,
			    strlen(STORE_VERSION_TEXT), st->sync != STORE_SYNC_NONE, cause);
			free(path);
			return rv;
		}
		*cause = xprintf("%s: missing: not a store, or a damaged one", path);
		*busy = STORE_BADFORMAT;
		free(path);
		return -1;
	}
	if (fs_read_file(path, 4096, &data, &len, &c2) != 0) {
		*cause = c2;
		free(path);
		return -1;
	}
	if (strcmp(data, STORE_VERSION_TEXT) == 0)
		rv = 0;
	else {
		*busy = STORE_BADFORMAT;
		*cause = xprintf("%s: unknown store format \"%.*s\" (this server reads \"%.*s\")",
		    path, (int)strcspn(data, "\n"), data,
		    (int)strlen(STORE_VERSION_TEXT) - 1, STORE_VERSION_TEXT);
	}
	free(data);
	free(path);
	return rv;
}

/* Leftovers in tmp/ are replacements that never got renamed: drop them. */
static void
store_clean_tmp(struct store *st)
{
	DIR *d = opendir(st->tmp);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

static struct logfile *
logfile_new(const char *dir, const char *name)
{
	struct logfile *lf = xcalloc(1, sizeof *lf);

	lf->dir = xstrdup(dir);
	lf->path = xprintf("%s/%s", dir, name);
	lf->fd = -1;
	return lf;
}

static void
logfile_free(void *p)
{
	struct logfile *lf = p;

	if (lf == NULL)
		return;
	if (lf->fd >= 0)
		close(lf->fd);
	free(lf->dir);
	free(lf->path);
	free(lf);
}

/* Whether dir holds no data yet (missing, empty, or only our empty skeleton). */
static int
store_fresh(const char *dir)
{
	DIR *d = opendir(dir), *sub;
	struct dirent *de, *se;
	char *p;
	size_t i;
	int fresh = 1, known;

	if (d == NULL)
		return errno == ENOENT;
	while (fresh && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "lock") == 0)
			continue;
		for (known = 0, i = 0; i < sizeof store_subdirs / sizeof store_subdirs[0]; i++)
			known |= strcmp(de->d_name, store_subdirs[i]) == 0;
		if (!known) {
			fresh = 0;
			break;
		}
		p = xprintf("%s/%s", dir, de->d_name);
		if ((sub = opendir(p)) == NULL)
			fresh = 0;
		else {
			while ((se = readdir(sub)) != NULL)
				if (strcmp(se->d_name, ".") != 0 && strcmp(se->d_name, "..") != 0)
					fresh = 0;
			closedir(sub);
		}
		free(p);
	}
	closedir(d);
	return fresh;
}

struct store *
store_open(const char *dir, enum store_sync sync, int flags, int *busy, char **cause)
{
	struct store *st = xcalloc(1, sizeof *st);
	char *p;
	size_t i;
	int fresh;

	*busy = 0;
	fresh = store_fresh(dir);
	st->dir = xstrdup(dir);
	st->tmp = xprintf("%s/tmp", dir);
	st->sync = sync;
	st->flags = flags;
	st->lockfd = -1;
	st->logs = strmap_new();
	if (flags & STORE_READONLY) {
		if (access(dir, R_OK | X_OK) != 0) {
			*cause = xprintf("cannot open store %s: %s", dir, strerror(errno));
			goto fail;
		}
		if (store_version(st, 0, busy, cause) != 0)
			goto fail;
		return st;
	}
	if (fs_mkdir_private(dir, cause) != 0)
		goto fail;
	p = xprintf("%s/lock", dir);
	st->lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lockfd < 0 || flock(st->lockfd, LOCK_EX | LOCK_NB) != 0) {
		*busy = (st->lockfd >= 0 && errno == EWOULDBLOCK) ? STORE_BUSY : 0;
		*cause = *busy ? xprintf("store %s is in use by another rtcs-serve", dir) :
		    xprintf("cannot lock %s: %s", p, strerror(errno));
		free(p);
		goto fail;
	}
	free(p);
	for (i = 0; i < sizeof store_subdirs / sizeof store_subdirs[0]; i++) {
		p = xprintf("%s/%s", dir, store_subdirs[i]);
		if (fs_mkdir_private(p, cause) != 0) {
			free(p);
			goto fail;
		}
		free(p);
	}
	if (store_version(st, fresh, busy, cause) != 0)
		goto fail;
	store_clean_tmp(st);
	st->events = logfile_new(dir, "events.log");
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	strmap_free(st->logs, logfile_free);
	while (st->ndirty > 0) {
		struct logfile *lf = st->dirty[--st->ndirty];
		if (lf != NULL && lf->retiring) {
			store_undirty(st, lf);
			logfile_free(lf);
		}
	}
	logfile_free(st->events);
	if (st->lockfd >= 0)
		close(st->lockfd);	/* releases the flock */
	free(st->dirty);
	free(st->tmp);
	free(st->dir);
	free(st);
}

/* ---- loading ---- */

struct store_scan {
	struct store *st;
	const struct store_loader *ld;
	int	 problems;
	char	*cause;		/* a callback refused: stop */
};

static void
store_problem(struct store_scan *sc, const char *path, int fixed, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
store_problem(struct store_scan *sc, const char *path, int fixed, const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	xvasprintf(&what, fmt, ap);
	va_end(ap);
	if (!fixed)
		sc->problems++;
	if (sc->ld->problem != NULL)
		sc->ld->problem(sc->ld->arg, path, what, fixed);
	free(what);
}

/* Parses one log line (without its newline); 0 if well formed. */
static int
store_parse_line(const char *line, size_t len, uint64_t *seq, const char **json,
    size_t *jlen, char **why)
{
	const char *p = line, *end = line + len;
	uint64_t v = 0;
	uint32_t crc = 0;
	cJSON *obj;
	char *c2 = NULL;
	int i;

	if (p == end || *p < '1' || *p > '9')
		goto bad;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p == end || *p++ != ' ')
		goto bad;
	for (i = 0; i < 8; i++, p++) {
		if (p == end)
			goto bad;
		if (*p >= '0' && *p <= '9')
			crc = crc << 4 | (uint32_t)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			crc = crc << 4 | (uint32_t)(*p - 'a' + 10);
		else
			goto bad;
	}
	if (p == end || *p++ != ' ')
		goto bad;
	if (hash_crc32(p, (size_t)(end - p)) != crc) {
		*why = xstrdup("checksum mismatch");
		return -1;
	}
	if ((obj = json_parse_object(p, (size_t)(end - p), &c2)) == NULL) {
		*why = xprintf("record does not parse: %s", c2);
		free(c2);
		return -1;
	}
	cJSON_Delete(obj);
	*seq = v;
	*json = p;
	*jlen = (size_t)(end - p);
	return 0;
bad:
	*why = xstrdup("malformed record");
	return -1;
}

/*
 * Reads one log. A bad or unterminated last line is a torn tail: cut (when
 * allowed) and reported. Anything else wrong is a violation that stops it.
 */
static void
store_scan_log(struct store_scan *sc, const char *path, const char *session)
{
	char *buf, *c2 = NULL, *why = NULL;
	const char *line, *nl, *json;
	size_t len, jlen, off = 0;
	uint64_t seq, want = 1;
	int rv = 0, lineno = 0;

	if (fs_read_file(path, STORE_LOG_MAX, &buf, &len, &c2) != 0) {
		store_problem(sc, path, 0, "%s", c2);
		free(c2);
		return;
	}
	while (off < len && sc->cause == NULL) {
		line = buf + off;
		lineno++;
		nl = memchr(line, '\n', len - off);
		if (nl == NULL) {
			why = xstrdup("unterminated last record (torn write)");
			break;
		}
		if (store_parse_line(line, (size_t)(nl - line), &seq, &json, &jlen, &why) != 0) {
			if ((size_t)(nl + 1 - buf) != len) {
				store_problem(sc, path, 0, "line %d: %s (not the last line)",
				    lineno, why);
				free(why);
				why = NULL;
				rv = -1;
			}
			break;
		}
		if (seq != want) {
			store_problem(sc, path, 0, "line %d: seq %" PRIu64 " where %" PRIu64
			    " was expected", lineno, seq, want);
			rv = -1;
			break;
		}
		if (session != NULL && sc->ld->log_record != NULL)
			rv = sc->ld->log_record(sc->ld->arg, session, seq, json, jlen, &sc->cause);
		else if (session == NULL && sc->ld->event != NULL)
			rv = sc->ld->event(sc->ld->arg, seq, json, jlen, &sc->cause);
		if (rv != 0)
			break;
		want++;
		off = (size_t)(nl + 1 - buf);
	}
	if (why != NULL) {
		/* The tail from off on is torn. */
		if (sc->st->flags & STORE_READONLY)
			store_problem(sc, path, 0, "line %d: %s: torn tail of %zu bytes",
			    lineno, why, len - off);
		else if (truncate(path, (off_t)off) == 0) {
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				fsync(fd);
				close(fd);
			}
			store_problem(sc, path, 1, "line %d: %s: cut the torn tail (%zu bytes)",
			    lineno, why, len - off);
		} else
			store_problem(sc, path, 0, "cannot cut torn tail: %s", strerror(errno));
		free(why);
	}
	free(buf);
}

/* Calls fn on every NAME.suffix in dir/sub, sorted by name. */
static void
store_scan_dir(struct store_scan *sc, const char *sub, const char *suffix,
    void (*fn)(struct store_scan *, const char *path, const char *id))
{
	char *dir = xprintf("%s/%s", sc->st->dir, sub), *path, *id;
	struct dirent **list = NULL;
	size_t sl = strlen(suffix), nl;
	int i, n;

	n = scandir(dir, &list, NULL, alphasort);
	if (n < 0) {
		if (errno != ENOENT || !(sc->st->flags & STORE_READONLY))
			store_problem(sc, dir, 0, "cannot read: %s", strerror(errno));
		free(dir);
		return;
	}
	for (i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		nl = strlen(name);
		if (name[0] == '.' || sc->cause != NULL) {
			free(list[i]);
			continue;
		}
		path = xprintf("%s/%s", dir, name);
		if (nl <= sl || strcmp(name + nl - sl, suffix) != 0)
			store_problem(sc, path, 0, "unexpected file");
		else {
			id = xstrndup(name, nl - sl);
			fn(sc, path, id);
			free(id);
		}
		free(path);
		free(list[i]);
	}
	free(list);
	free(dir);
}

static void
store_scan_doc(struct store_scan *sc, const char *path, const char *id, enum store_doc kind)
{
	char *data, *c2 = NULL;
	size_t len;
	cJSON *doc;
	const char *docid;

	if (fs_read_file(path, STORE_DOC_MAX, &data, &len, &c2) != 0) {
		store_problem(sc, path, 0, "%s", c2);
		free(c2);
		return;
	}
	if ((doc = json_parse_object(data, len, &c2)) == NULL) {
		store_problem(sc, path, 0, "does not parse: %s", c2);
		free(c2);
		free(data);
		return;
	}
	free(data);
	/* A callback that refuses sets sc->cause: the load stops. */
	if ((docid = json_str(doc, "id")) == NULL || strcmp(docid, id) != 0)
		store_problem(sc, path, 0, "document id does not match its file name");
	else if (sc->ld->doc != NULL)
		sc->ld->doc(sc->ld->arg, kind, id, doc, &sc->cause);
	cJSON_Delete(doc);
}

/*
 * A session document whose log is missing or empty belongs to a create that
 * crashed before it was acknowledged (the log is written first): dropped
 * (reported), like an orphan log.
 */
static void
store_scan_session(struct store_scan *sc, const char *path, const char *id)
{
	char *log = xprintf("%s/logs/%s.log", sc->st->dir, id);
	struct stat sb;

	if (stat(log, &sb) != 0 || sb.st_size == 0) {
		if (sc->st->flags & STORE_READONLY)
			store_problem(sc, path, 0, "session has no log (%s): an unacknowledged "
			    "create, dropped at the next start", log);
		else if (unlink(path) == 0)
			store_problem(sc, path, 1, "removed a session document without a log "
			    "(an unacknowledged create)");
		else
			store_problem(sc, path, 0, "cannot remove a session document without a "
			    "log: %s", strerror(errno));
		free(log);
		return;
	}
	free(log);
	store_scan_doc(sc, path, id, STORE_DOC_SESSION);
}

static void
store_scan_transfer(struct store_scan *sc, const char *path, const char *id)
{
	store_scan_doc(sc, path, id, STORE_DOC_TRANSFER);
}

static void
store_scan_invite(struct store_scan *sc, const char *path, const char *id)
{
	store_scan_doc(sc, path, id, STORE_DOC_INVITE);
}

/*
 * A log whose session document is missing belongs to a create that crashed
 * before it was acknowledged: removed (reported), never kept.
 */
static void
store_scan_session_log(struct store_scan *sc, const char *path, const char *id)
{
	char *doc = xprintf("%s/sessions/%s.json", sc->st->dir, id);

	if (access(doc, F_OK) != 0) {
		if (sc->st->flags & STORE_READONLY)
			store_problem(sc, path, 0, "log without a session document");
		else if (unlink(path) == 0)
			store_problem(sc, path, 1, "removed a log without a session document "
			    "(an unacknowledged create)");
		else
			store_problem(sc, path, 0, "cannot remove orphan log: %s", strerror(errno));
	} else
		store_scan_log(sc, path, id);
	free(doc);
}

int
store_load(struct store *st, const struct store_loader *ld, char **cause)
{
	struct store_scan sc = { st, ld, 0, NULL };
	char *path;

	store_scan_dir(&sc, "sessions", ".json", store_scan_session);
	store_scan_dir(&sc, "transfers", ".json", store_scan_transfer);
	store_scan_dir(&sc, "invites", ".json", store_scan_invite);
	store_scan_dir(&sc, "logs", ".log", store_scan_session_log);
	path = xprintf("%s/events.log", st->dir);
	if (sc.cause == NULL && access(path, F_OK) == 0)
		store_scan_log(&sc, path, NULL);
	free(path);
	if (sc.cause != NULL) {
		*cause = sc.cause;
		return -1;
	}
	return sc.problems;
}

/* ---- writing ---- */

int
store_put_doc(struct store *st, enum store_doc kind, const char *id, const cJSON *doc,
    char **cause)
{
	char *dir = xprintf("%s/%s", st->dir, store_doc_dir(kind));
	char *name = xprintf("%s.json", id), *text = json_print(doc);
	int rv;

	/*
	 * Documents change rarely: even in batch mode they are synced at once,
	 * after what they refer to (a new session's log) is durable.
	 */
	if (st->ndirty > 0 && store_sync(st, cause) != 0)
		rv = -1;
	else
		rv = fs_write_atomic(dir, name, st->tmp, text, strlen(text),
	    st->sync != STORE_SYNC_NONE, cause);
	if (rv == FS_REPLACED_UNSYNCED) {
		st->sync_failed = 1;	/* replaced: the caller cannot undo it */
		rv = -1;
	}
	free(text);
	free(name);
	free(dir);
	return rv;
}

static int
logfile_open(struct logfile *lf, char **cause)
{
	if (lf->fd >= 0)
		return 0;
	lf->fd = open(lf->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (lf->fd >= 0)
		lf->created = 1;
	else if (errno == EEXIST)
		lf->fd = open(lf->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (lf->fd < 0) {
		*cause = xprintf("cannot open %s: %s", lf->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
logfile_sync(struct logfile *lf, char **cause)
{
	if (lf->dirty && lf->fd >= 0 && fdatasync(lf->fd) != 0) {
		*cause = xprintf("cannot sync %s: %s", lf->path, strerror(errno));
		return -1;
	}
	lf->dirty = 0;
	if (lf->created) {
		if (fs_fsync_dir(lf->dir, cause) != 0)
			return -1;
		lf->created = 0;
	}
	return 0;
}

/* Appends one record; a failed write is undone so no torn line stays behind. */
static int
store_append(struct store *st, struct logfile *lf, uint64_t seq, const char *json,
    size_t len, char **cause)
{
	char head[40];
	struct stat sb;
	struct iovec iov[3];
	ssize_t n;
	size_t want;
	int hl;

	if (memchr(json, '\n', len) != NULL) {
		*cause = xstrdup("record contains a newline");
		return -1;
	}
	if (logfile_open(lf, cause) != 0 || fstat(lf->fd, &sb) != 0) {
		if (*cause == NULL)
			*cause = xprintf("cannot stat %s: %s", lf->path, strerror(errno));
		return -1;
	}
	hl = snprintf(head, sizeof head, "%" PRIu64 " %08" PRIx32 " ", seq, hash_crc32(json, len));
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)hl;
	iov[1].iov_base = (void *)(uintptr_t)json;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)(uintptr_t)"\n";
	iov[2].iov_len = 1;
	want = (size_t)hl + len + 1;
	if ((n = writev(lf->fd, iov, 3)) < 0 || (size_t)n != want) {
		*cause = xprintf("cannot append to %s: %s", lf->path,
		    n < 0 ? strerror(errno) : "short write");
		goto undo;
	}
	lf->dirty = 1;
	switch (st->sync) {
	case STORE_SYNC_ALWAYS:
		if (logfile_sync(lf, cause) != 0) {
			/* What reached the disk is unknown after a failed fsync. */
			st->sync_failed = 1;
			goto undo;
		}
		return 0;
	case STORE_SYNC_BATCH:
		if (st->ndirty == st->dirtycap) {
			st->dirtycap = st->dirtycap ? st->dirtycap * 2 : 16;
			st->dirty = xreallocarray(st->dirty, st->dirtycap, sizeof *st->dirty);
		}
		st->dirty[st->ndirty++] = lf;
		return 0;
	case STORE_SYNC_NONE:
		lf->dirty = 0;
		return 0;
	}
	return 0;
undo:
	/* The record was never acknowledged: take it back (else cut at the next start). */
	if (ftruncate(lf->fd, sb.st_size) == 0)
		lf->dirty = 0;
	else
		st->sync_failed = 1;	/* the record stays: its seq must not be reused */
	return -1;
}

int
store_append_log(struct store *st, const char *session, uint64_t seq, const char *json,
    size_t len, char **cause)
{
	struct logfile *lf = strmap_get(st->logs, session);
	char *dir, *name;

	if (lf == NULL) {
		dir = xprintf("%s/logs", st->dir);
		name = xprintf("%s.log", session);
		lf = logfile_new(dir, name);
		free(dir);
		free(name);
		strmap_put(st->logs, session, lf);
	}
	return store_append(st, lf, seq, json, len, cause);
}

int
store_append_event(struct store *st, uint64_t seq, const char *json, size_t len, char **cause)
{
	return store_append(st, st->events, seq, json, len, cause);
}

/* Drops lf from the pending list; 1 if it was there. */
static int
store_undirty(struct store *st, struct logfile *lf)
{
	size_t i;
	int found = 0;

	for (i = 0; i < st->ndirty; i++) {
		if (st->dirty[i] == lf) {
			memmove(&st->dirty[i], &st->dirty[i + 1],
			    (st->ndirty - i - 1) * sizeof *st->dirty);
			st->ndirty--;
			i--;
			found = 1;
		}
	}
	return found;
}

void
store_retire_log(struct store *st, const char *session)
{
	struct logfile *lf = strmap_get(st->logs, session);
	char *c2 = NULL;
	size_t i;

	if (lf == NULL)
		return;
	strmap_del(st->logs, session);
	for (i = 0; i < st->ndirty; i++) {
		if (st->dirty[i] == lf) {
			lf->retiring = 1;	/* store_sync() closes it after the sync */
			return;
		}
	}
	if (logfile_sync(lf, &c2) != 0)
		free(c2);
	logfile_free(lf);
}

void
store_forget_log(struct store *st, const char *session)
{
	struct logfile *lf = strmap_get(st->logs, session);

	if (lf == NULL)
		return;
	strmap_del(st->logs, session);
	store_undirty(st, lf);
	logfile_free(lf);
}

int
store_broken(const struct store *st)
{
	return st->sync_failed;
}

int
store_pending(const struct store *st)
{
	return st->ndirty > 0;
}

int
store_sync(struct store *st, char **cause)
{
	struct logfile *lf;
	size_t i, j;
	int rv = 0;

	for (i = 0; i < st->ndirty; i++) {
		lf = st->dirty[i];
		if (lf == NULL)
			continue;
		if (rv == 0 && !st->sync_failed && logfile_sync(lf, cause) != 0)
			st->sync_failed = 1;
		if (lf->retiring) {
			/* listed once per append: free it once */
			for (j = i + 1; j < st->ndirty; j++)
				if (st->dirty[j] == lf)
					st->dirty[j] = NULL;
			logfile_free(lf);
		}
	}
	st->ndirty = 0;
	if (st->sync_failed) {
		if (*cause == NULL)
			*cause = xstrdup("an earlier sync failed");
		rv = -1;
	}
	return rv;
}

/* ---- file-level checks (fsck) ---- */

static void
store_check_mode(struct store_scan *sc, const char *path, int isdir)
{
	struct stat sb;

	if (lstat(path, &sb) != 0) {
		store_problem(sc, path, 0, "cannot stat: %s", strerror(errno));
		return;
	}
	if (isdir && !S_ISDIR(sb.st_mode))
		store_problem(sc, path, 0, "not a directory");
	else if (!isdir && !S_ISREG(sb.st_mode))
		store_problem(sc, path, 0, "not a regular file");
	else if ((sb.st_mode & 0777) != (isdir ? 0700u : 0600u))
		store_problem(sc, path, 0, "mode %04o, must be %04o",
		    (unsigned)(sb.st_mode & 0777), isdir ? 0700u : 0600u);
	else if (sb.st_uid != getuid())
		store_problem(sc, path, 0, "owned by uid %u, not by us", (unsigned)sb.st_uid);
}

static void
store_check_tree(struct store_scan *sc, const char *path, int depth)
{
	struct dirent *de;
	DIR *d;
	char *p;
	struct stat sb;

	store_check_mode(sc, path, 1);
	if (depth > 1 || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = xprintf("%s/%s", path, de->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			store_check_tree(sc, p, depth + 1);
		else
			store_check_mode(sc, p, 0);
		free(p);
	}
	closedir(d);
}

int
store_check_files(const char *dir, const struct store_loader *ld)
{
	struct store_scan sc = { NULL, ld, 0, NULL };

	store_check_tree(&sc, dir, 0);
	return sc.problems;
}
