/*
 * The flat-file store's logs (rtcs-store(5)): one append-only file a log,
 * a record a line. Appends are undone when a write fails; under --sync
 * batch they wait for the group commit (one fdatasync per file for every
 * append of a loop turn). Ranges are read back by seq through a binary
 * search of the file, so nothing of a log is held in memory but its ends.
 * The checkpoint file remembers how far each log was durable.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "failpoint.h"
#include "fsutil.h"
#include "json.h"
#include "store_format.h"
#include "store_fs.h"
#include "xmalloc.h"

#define SCAN_CHUNK	(64 * 1024)
#define SEEK_LINEAR	(16 * 1024)	/* below this span, scan instead of bisecting */

/* Where a kind's documents are: DIR/KIND/ID.json. */
const char *
fs_kind_dir(enum store_kind kind)
{
	switch (kind) {
	case STORE_SESSION:	return "sessions";
	case STORE_TRANSFER:	return "transfers";
	case STORE_INVITE:	return "invites";
	case STORE_META:	return "meta";
	case STORE_NKINDS:	break;
	}
	return "meta";
}

struct fs_log *
fs_log_get(struct fs *fs, const char *name)
{
	struct fs_log *lf = strmap_get(fs->logs, name);

	if (lf != NULL)
		return lf;
	lf = xcalloc(1, sizeof *lf);
	lf->name = xstrdup(name);
	lf->dir = strcmp(name, STORE_EVENTS) == 0 ? xstrdup(fs->dir) :
	    xprintf("%s/logs", fs->dir);
	lf->path = strcmp(name, STORE_EVENTS) == 0 ? xprintf("%s/events.log", lf->dir) :
	    xprintf("%s/%s.log", lf->dir, name);
	lf->fd = -1;
	strmap_put(fs->logs, name, lf);
	return lf;
}

static void
fs_log_close(struct fs *fs, struct fs_log *lf)
{
	if (lf->fd < 0)
		return;
	close(lf->fd);
	lf->fd = -1;
	TAILQ_REMOVE(&fs->lru, lf, lru);
	fs->nopen--;
}

void
fs_log_free(struct fs *fs, struct fs_log *lf)
{
	fs_log_close(fs, lf);
	free(lf->name);
	free(lf->path);
	free(lf->dir);
	free(lf);
}

/* The log's descriptor, opened on demand; the least recently used clean one makes room. */
int
fs_log_fd(struct fs *fs, struct fs_log *lf, char **cause)
{
	struct fs_log *old;
	int e;

	if (lf->fd >= 0) {
		TAILQ_REMOVE(&fs->lru, lf, lru);
		TAILQ_INSERT_HEAD(&fs->lru, lf, lru);
		return 0;
	}
	if (fs->nopen >= (fs->opt.max_open_logs > 0 ? fs->opt.max_open_logs : FS_MAX_OPEN_LOGS)) {
		/* Any may go: a group commit syncs a log by its name, not its descriptor. */
		old = TAILQ_LAST(&fs->lru, fs_logq);
		if (old != NULL)
			fs_log_close(fs, old);
	}
	if ((e = failpoint_errno("store-open-log")) != 0)
		errno = e;
	else if (fs->opt.readonly)
		lf->fd = open(lf->path, O_RDONLY | O_CLOEXEC);
	else {
		lf->fd = open(lf->path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (lf->fd >= 0)
			lf->created = 1;
		else if (errno == EEXIST)
			lf->fd = open(lf->path, O_RDWR | O_APPEND | O_CLOEXEC);
	}
	if (lf->fd < 0) {
		*cause = xprintf("cannot open %s: %s", lf->path, strerror(errno));
		return -1;
	}
	TAILQ_INSERT_HEAD(&fs->lru, lf, lru);
	fs->nopen++;
	return 0;
}

/* Writes record last + 1; a failed write is undone so no torn line stays behind. */
int
fs_log_write(struct fs *fs, struct fs_log *lf, const char *json, size_t len,
    enum store_err *err, char **cause)
{
	char head[32];
	struct iovec iov[3];
	size_t hl, want;
	ssize_t n = -1;
	int e;

	if (fs_log_fd(fs, lf, cause) != 0) {
		*err = store_errno(errno);
		return -1;
	}
	hl = store_record_head(head, lf->last + 1, json, len);
	iov[0].iov_base = head;
	iov[0].iov_len = hl;
	iov[1].iov_base = (void *)(uintptr_t)json;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)(uintptr_t)"\n";
	iov[2].iov_len = 1;
	want = hl + len + 1;
	if ((e = failpoint_errno("store-append")) != 0)
		errno = e;
	else
		n = writev(lf->fd, iov, 3);
	if (n < 0 || (size_t)n != want) {
		e = n < 0 ? errno : ENOSPC;
		*err = store_errno(e);
		*cause = xprintf("cannot append to %s: %s", lf->path, strerror(e));
		/* Never acknowledged: take it back (a torn tail would be cut at start anyway). */
		if (ftruncate(lf->fd, lf->size) != 0)
			fs->broken = 1;	/* the record may stay: its seq must not be reused */
		return -1;
	}
	lf->last++;
	lf->size += (off_t)want;
	lf->dirty = 1;
	fs->stats.appends++;
	return 0;
}

int
fs_log_sync(struct fs *fs, struct fs_log *lf, char **cause)
{
	char *why = NULL;
	int e = 0;

	if (lf->dirty && fs->opt.sync != STORE_SYNC_NONE) {
		if ((e = failpoint_errno("store-fsync-log")) == 0 &&
		    (fs_log_fd(fs, lf, &why) != 0 || fdatasync(lf->fd) != 0))
			e = errno;
		free(why);
		fs->stats.syncs++;
		if (e != 0) {
			/* What reached the disk is unknown after a failed fsync. */
			fs->broken = 1;
			*cause = xprintf("cannot sync %s: %s", lf->path, strerror(e));
			return -1;
		}
	}
	lf->dirty = 0;
	if (lf->created && fs->opt.sync != STORE_SYNC_NONE) {
		if (fs_fsync_dir(lf->dir, cause) != 0) {
			fs->broken = 1;
			return -1;
		}
	}
	lf->created = 0;
	return 0;
}

/* Record seq is durable: reads and watches may have it now. */
void
fs_log_committed(struct fs *fs, struct fs_log *lf, uint64_t seq, off_t end, const char *json,
    size_t len)
{
	struct store_record rec = { lf->name, seq, json, len };

	lf->durable = seq;
	lf->durable_size = end;
	store_notify_record(fs->st, &rec);
}

/* ---- reading ---- */

static void
scan_bad(struct fs_scan_end *e, char *why, off_t line_end)
{
	e->why = why;
	e->at_tail = line_end >= e->file_end;
}

/*
 * Reads the records of fd from offset from on, the first one numbered
 * first_seq, calling fn (may be NULL; returning non-zero stops) on each.
 * Stops at the end or at the first bad record: *e says where and why.
 * Returns -1 on a read error (e->io), else 0.
 */
int
fs_log_scan(int fd, off_t from, uint64_t first_seq, int (*fn)(void *, uint64_t seq,
    uint32_t crc, const char *json, size_t len, off_t off), void *arg, struct fs_scan_end *e)
{
	size_t cap = SCAN_CHUNK, have = 0, start = 0, jl, ll;
	char *buf = xmalloc(cap), *nl, *why = NULL;
	const char *json;
	off_t off = from;
	struct stat sb;
	uint64_t seq, want = first_seq;
	uint32_t crc;
	ssize_t n;
	int er, rv = 0;

	memset(e, 0, sizeof *e);
	e->good_end = from;
	e->last = first_seq - 1;
	e->file_end = fstat(fd, &sb) == 0 ? sb.st_size : 0;
	for (;;) {
		while ((nl = memchr(buf + start, '\n', have - start)) != NULL) {
			ll = (size_t)(nl - (buf + start));
			if (store_record_parse(buf + start, ll, &seq, &crc, &json, &jl, &why) != 0) {
				scan_bad(e, why, off + (off_t)(nl + 1 - buf));
				goto out;
			}
			if (seq != want) {
				scan_bad(e, xprintf("seq %llu where %llu was expected",
				    (unsigned long long)seq, (unsigned long long)want),
				    off + (off_t)(nl + 1 - buf));
				goto out;
			}
			if (fn != NULL && fn(arg, seq, crc, json, jl, off + (off_t)start) != 0) {
				e->last = seq - 1;
				goto out;
			}
			want++;
			e->last = seq;
			start = (size_t)(nl + 1 - buf);
			e->good_end = off + (off_t)start;
		}
		if (start > 0) {
			memmove(buf, buf + start, have - start);
			off += (off_t)start;
			have -= start;
			start = 0;
		}
		if (have == cap) {
			if (cap >= STORE_RECORD_MAX) {
				scan_bad(e, xprintf("record over %u bytes", STORE_RECORD_MAX),
				    e->file_end);
				goto out;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		if ((er = failpoint_errno("store-read-log")) != 0) {
			errno = er;
			n = -1;
		} else
			n = pread(fd, buf + have, cap - have, off + (off_t)have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e->io = 1;
			e->why = xprintf("cannot read: %s", strerror(errno));
			rv = -1;
			goto out;
		}
		if (n == 0) {
			if (have > 0)
				scan_bad(e, xstrdup("unterminated last record (torn write)"),
				    e->file_end);
			goto out;
		}
		have += (size_t)n;
	}
out:
	free(buf);
	return rv;
}

/* Where the record at or after pos starts, and its seq; 0 if none before limit. */
static int
next_record(int fd, off_t pos, off_t limit, off_t *start, uint64_t *seq)
{
	char buf[4096], *nl;
	off_t at = pos > 0 ? pos - 1 : 0;
	ssize_t n;
	size_t i;

	if (pos == 0)
		goto head;
	for (;;) {
		if (at >= limit || (n = pread(fd, buf, sizeof buf, at)) <= 0)
			return 0;
		if ((nl = memchr(buf, '\n', (size_t)n)) != NULL) {
			at += nl - buf + 1;
			break;
		}
		at += n;
	}
head:
	if (at >= limit || (n = pread(fd, buf, 24, at)) <= 0)
		return 0;
	for (*seq = 0, i = 0; i < (size_t)n && buf[i] >= '0' && buf[i] <= '9'; i++)
		*seq = *seq * 10 + (uint64_t)(buf[i] - '0');
	*start = at;
	return i > 0;
}

struct seek_to {
	uint64_t seq;
	off_t	 off;
	int	 found;
};

static int
seek_found(void *arg, uint64_t seq, uint32_t crc, const char *json, size_t len, off_t off)
{
	struct seek_to *s = arg;

	(void)crc;
	(void)json;
	(void)len;
	if (seq != s->seq)
		return 0;
	s->off = off;
	s->found = 1;
	return 1;
}

/* The offset of record seq (at most durable): bisect the file, then scan. */
static int
fs_log_seek(struct fs_log *lf, uint64_t seq, off_t *off, char **cause)
{
	off_t lo = 0, hi = lf->durable_size, mid, r;
	uint64_t loseq = 1, q;
	struct seek_to s = { seq, 0, 0 };
	struct fs_scan_end e;

	if (lf->cur_seq != 0 && lf->cur_seq <= seq) {
		lo = lf->cur_off;
		loseq = lf->cur_seq;
	}
	while (hi - lo > SEEK_LINEAR) {
		mid = lo + (hi - lo) / 2;
		if (!next_record(lf->fd, mid, hi, &r, &q) || r >= hi) {
			hi = mid;
			continue;
		}
		if (q == seq) {
			*off = r;
			return 0;
		}
		if (q < seq) {
			lo = r;
			loseq = q;
		} else
			hi = mid;
	}
	if (fs_log_scan(lf->fd, lo, loseq, seek_found, &s, &e) != 0 || !s.found) {
		*cause = e.why != NULL ? xprintf("%s: %s", lf->path, e.why) :
		    xprintf("%s: no record %llu", lf->path, (unsigned long long)seq);
		free(e.why);
		return -1;
	}
	free(e.why);
	*off = s.off;
	return 0;
}

/* A page from offset off (record from): whole lines only, bounded. */
static void
fs_read_page(struct fs_log *lf, off_t off, uint64_t from, size_t max_records,
    size_t max_bytes, store_page_cb cb, void *arg)
{
	size_t want = max_bytes < 4096 ? 4096 : max_bytes, have = 0, n = 0, jl, start = 0;
	struct store_record *recs = xcalloc(max_records, sizeof *recs);
	char *buf, *nl, *why = NULL, *cause;
	const char *json;
	uint64_t seq;
	uint32_t crc;
	ssize_t got;

	if ((off_t)want > lf->durable_size - off)
		want = (size_t)(lf->durable_size - off);
	buf = xmalloc(want + 1);
	while (have < want) {
		if ((got = pread(lf->fd, buf + have, want - have, off + (off_t)have)) <= 0) {
			if (got < 0 && errno == EINTR)
				continue;
			cause = xprintf("cannot read %s: %s", lf->path,
			    got < 0 ? strerror(errno) : "file shorter than its records");
			cb(arg, STORE_IO, NULL, 0, cause);
			free(cause);
			goto out;
		}
		have += (size_t)got;
		/* A first record larger than the window: read on to its end. */
		if (have == want && memchr(buf, '\n', have) == NULL &&
		    off + (off_t)want < lf->durable_size && want < STORE_RECORD_MAX) {
			want = want * 2 > STORE_RECORD_MAX ? STORE_RECORD_MAX : want * 2;
			if ((off_t)want > lf->durable_size - off)
				want = (size_t)(lf->durable_size - off);
			buf = xrealloc(buf, want + 1);
		}
	}
	while (n < max_records && (n == 0 || start < max_bytes) &&
	    (nl = memchr(buf + start, '\n', have - start)) != NULL) {
		if (store_record_parse(buf + start, (size_t)(nl - buf - start), &seq, &crc, &json,
		    &jl, &why) != 0 || seq != from + n) {
			cause = xprintf("%s: record %llu: %s", lf->path,
			    (unsigned long long)(from + n), why ? why : "out of order");
			cb(arg, STORE_CORRUPT, NULL, 0, cause);
			free(cause);
			free(why);
			goto out;
		}
		recs[n].log = lf->name;
		recs[n].seq = seq;
		recs[n].json = json;
		recs[n].len = jl;
		n++;
		start = (size_t)(nl + 1 - buf);
	}
	lf->cur_seq = from + n;
	lf->cur_off = off + (off_t)start;
	cb(arg, STORE_OK, recs, n, NULL);
out:
	free(recs);
	free(buf);
}

void
fs_read(void *be, const char *log, uint64_t from, size_t max_records, size_t max_bytes,
    store_page_cb cb, void *arg)
{
	struct fs *fs = be;
	struct fs_log *lf = strmap_get(fs->logs, log);
	char *cause = NULL;
	off_t off;

	if (lf == NULL) {
		cb(arg, STORE_NOT_FOUND, NULL, 0, "no such log");
		return;
	}
	/* A put's record waiting for its sync was told done with its put: read it. */
	if (from > lf->durable && from <= lf->last && !fs_log_grouped(fs, lf) &&
	    fs_commit(fs, &cause) != 0) {
		cb(arg, STORE_IO, NULL, 0, cause);
		free(cause);
		return;
	}
	if (from > lf->durable) {
		cb(arg, STORE_OK, NULL, 0, NULL);
		return;
	}
	if (fs_log_fd(fs, lf, &cause) != 0) {
		cb(arg, STORE_IO, NULL, 0, cause);
		free(cause);
		return;
	}
	if (from == 1)
		off = 0;
	else if (lf->cur_seq == from)
		off = lf->cur_off;
	else if (fs_log_seek(lf, from, &off, &cause) != 0) {
		cb(arg, STORE_CORRUPT, NULL, 0, cause);
		free(cause);
		return;
	}
	if (max_records > lf->durable - from + 1)
		max_records = (size_t)(lf->durable - from + 1);
	fs_read_page(lf, off, from, max_records, max_bytes, cb, arg);
}

uint64_t
fs_durable_last(void *be, const char *log)
{
	struct fs_log *lf = strmap_get(((struct fs *)be)->logs, log);

	return lf != NULL ? lf->durable : 0;
}

/* ---- appending, the group commit ---- */

/*
 * Whether an append to lf waits for the group commit: every append under
 * --sync batch; under --sync always the server's event log too, since it
 * tells of changes durable already and its watchers hear it at the commit,
 * so the events of one call cost one fdatasync, not one each. Without an
 * event loop (offline tools, tests of the core) nothing waits.
 */
int
fs_log_grouped(const struct fs *fs, const struct fs_log *lf)
{
	if (fs->st->base == NULL)
		return 0;	/* no loop to commit on: synced at once */
	return fs->opt.sync == STORE_SYNC_BATCH || (fs->opt.sync == STORE_SYNC_ALWAYS &&
	    strcmp(lf->name, STORE_EVENTS) == 0);
}

/* Appended but not durable yet: waiting for the group commit. */
int
fs_log_waiting(const struct fs_log *lf)
{
	return lf->last > lf->durable;
}

static void fs_checkpoint_soon(struct fs *);

/* An append the group commit made durable, or failed. */
static void
fs_append_done(struct fs *fs, struct fs_pending *p, enum store_err err, const char *cause)
{
	if (err == STORE_OK)
		fs_log_committed(fs, p->lf, p->seq, p->end, p->json, p->len);
	if (p->acb != NULL)
		p->acb(p->arg, err, err == STORE_OK ? p->seq : 0, cause);
	fs_checkpoint_soon(fs);
}

/* Queues an append (written already: lf's last) for the group commit; cb NULL for a put's record. */
void
fs_pend_append(struct fs *fs, struct fs_log *lf, const char *json, size_t len,
    store_append_cb cb, void *arg)
{
	struct fs_pending p;

	memset(&p, 0, sizeof p);
	p.done = fs_append_done;
	p.lf = lf;
	p.seq = lf->last;
	p.end = lf->size;
	p.fd = -1;
	p.acb = cb;
	p.arg = arg;
	fs_pend(fs, &p, json, len);
}

void
fs_append(void *be, const char *log, uint64_t expect_last, const char *json, size_t len,
    store_append_cb cb, void *arg)
{
	struct fs *fs = be;
	struct fs_log *lf;
	enum store_err err;
	char *cause = NULL;
	int behind;

	if (fs->opt.readonly || !fs->loaded || fs->broken) {
		cb(arg, fs->broken ? STORE_IO : STORE_INVALID, 0, fs->broken ?
		    "the store is broken (a sync failed): restart the server" :
		    fs->opt.readonly ? "the store is open read-only" : "the store is not loaded");
		return;
	}
	lf = fs_log_get(fs, log);
	if (lf->last != expect_last) {
		cause = xprintf("log %s is at %llu, not %llu", log, (unsigned long long)lf->last,
		    (unsigned long long)expect_last);
		cb(arg, STORE_CONFLICT, 0, cause);
		free(cause);
		return;
	}
	behind = fs_log_waiting(lf);	/* a put's record: this one is told after it */
	if (fs_log_write(fs, lf, json, len, &err, &cause) != 0) {
		cb(arg, err, 0, cause);
		free(cause);
		return;
	}
	if (behind || fs_log_grouped(fs, lf)) {
		fs_pend_append(fs, lf, json, len, cb, arg);
		return;
	}
	if (fs_log_sync(fs, lf, &cause) != 0) {
		cb(arg, STORE_IO, 0, cause);
		free(cause);
		return;
	}
	fs_log_committed(fs, lf, lf->last, lf->size, json, len);
	fs_checkpoint_soon(fs);
	cb(arg, STORE_OK, lf->last, NULL);
}

void
fs_flush(void *be, store_done_cb cb, void *arg)
{
	struct fs *fs = be;
	char *cause = NULL;

	if (fs_commit(fs, &cause) != 0)
		cb(arg, STORE_IO, cause ? cause : "the store is broken");
	else
		cb(arg, STORE_OK, NULL);
	free(cause);
}

/* ---- the checkpoint ---- */

static void
fs_checkpoint_ev(evutil_socket_t fd, short what, void *arg)
{
	struct fs *fs = arg;
	char *cause = NULL;

	(void)fd;
	(void)what;
	/* A failed checkpoint loses nothing: the next one tries again. */
	if (fs_write_checkpoint(fs, &cause) != 0)
		fs_checkpoint_soon(fs);
	free(cause);
}

void
fs_timer_soon(struct fs *fs, struct event **ev, void (*fn)(evutil_socket_t, short, void *))
{
	struct timeval tv;
	int ms = fs->opt.checkpoint_ms > 0 ? fs->opt.checkpoint_ms : 1000;

	if (fs->st->base == NULL || fs->opt.readonly)
		return;
	if (*ev == NULL)
		*ev = evtimer_new(fs->st->base, fn, fs);
	if (evtimer_pending(*ev, NULL))
		return;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(*ev, &tv);
}

static void
fs_checkpoint_soon(struct fs *fs)
{
	fs_timer_soon(fs, &fs->ckpt_ev, fs_checkpoint_ev);
}

struct ckpt_build {
	cJSON	*logs;
	int	 n;
};

static void
ckpt_add(const char *key, void *val, void *arg)
{
	struct fs_log *lf = val;
	struct ckpt_build *b = arg;

	if (lf->durable <= lf->covered)
		return;
	cJSON_AddNumberToObject(b->logs, key, (double)lf->durable);
	b->n++;
}

static void
ckpt_mark(const char *key, void *val, void *arg)
{
	struct fs_log *lf = val;
	const cJSON *logs = arg, *v = cJSON_GetObjectItemCaseSensitive(logs, key);

	if (cJSON_IsNumber(v) && (uint64_t)v->valuedouble > lf->covered)
		lf->covered = (uint64_t)v->valuedouble;
}

/*
 * Writes DIR/checkpoint: every log durable beyond what its document's
 * header says (a session) or the last checkpoint did. At load, a log that
 * ends before its checkpoint lost acknowledged records.
 */
int
fs_write_checkpoint(struct fs *fs, char **cause)
{
	struct ckpt_build b = { cJSON_CreateObject(), 0 };
	cJSON *doc = cJSON_CreateObject();
	char *json, *text;
	size_t len;
	int rv = 0;

	strmap_each(fs->logs, ckpt_add, &b);
	cJSON_AddItemToObject(doc, "logs", b.logs);
	if (b.n > 0 && !fs->opt.readonly && !fs->broken) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		json = json_print(doc);
		text = store_frame_doc(json, strlen(json), fs->ckpt_rev + 1, 0, NULL, 0, NULL, 0,
		    &len);
		rv = fs_write_atomic(fs->dir, "checkpoint", fs->tmp, text, len,
		    fs->opt.sync != STORE_SYNC_NONE, cause);
		if (rv == 0) {
			fs->ckpt_rev++;
			strmap_each(fs->logs, ckpt_mark, b.logs);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			fs->stats.checkpoints++;
			fs->stats.checkpoint_logs = (uint64_t)b.n;
			fs->stats.checkpoint_us += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
			    (t1.tv_nsec - t0.tv_nsec) / 1000);
			if (fs->opt.sync != STORE_SYNC_NONE)
				fs->stats.syncs += 2;
		}
		free(text);
		free(json);
	}
	cJSON_Delete(doc);
	return rv == 0 ? 0 : -1;
}

static void
log_free_cb(void *val)
{
	struct fs_log *lf = val;

	if (lf->fd >= 0)
		close(lf->fd);
	free(lf->name);
	free(lf->path);
	free(lf->dir);
	free(lf);
}

void
fs_logs_free(struct fs *fs)
{
	TAILQ_INIT(&fs->lru);
	fs->nopen = 0;
	strmap_free(fs->logs, log_free_cb);
	fs->logs = NULL;
	if (fs->ckpt_ev != NULL)
		event_free(fs->ckpt_ev);
	fs->ckpt_ev = NULL;
}
