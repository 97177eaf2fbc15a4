/*
 * Unit tests of rtcs-serve's core on a real flat-file store: the hand-over
 * through a transfer, what a restart reads back, and failed syncs (the core
 * changes nothing in memory and says the store is broken).
 */
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "hash.h"
#include "log.h"
#include "xmalloc.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static int fail_fdatasync, broken_told;
static ino_t fail_dir;	/* this directory's fsync fails */

/* Override libc's for the store: a disk that fails its syncs on demand. */
int
fsync(int fd)
{
	struct stat sb;

	if (fail_dir != 0 && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_ino == fail_dir) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

int
fdatasync(int fd)
{
	if (fail_fdatasync) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

static void
broken(void *arg)
{
	(void)arg;
	broken_told++;
}

static void
core_open(struct core *c, struct store **st, const char *dir, int readonly)
{
	struct store_options opt = { .sync = STORE_SYNC_ALWAYS, .readonly = readonly };
	struct core_config cc = { .code_ttl_ms = 120000, .confirm = TC_NONE, .proof = TP_SCANNER,
	    .media_ring_ms = 2000, .name = "test", .rotate_ms = 0 };
	enum store_err err;
	char *cause = NULL;

	if ((*st = store_open(dir, NULL, &opt, &err, &cause)) == NULL) {
		fprintf(stderr, "store_open: %s\n", cause);
		exit(1);
	}
	core_init(c, *st, NULL, &cc);
	c->broken = broken;
	if (core_load(c, NULL, NULL, NULL, 0, &err, &cause) != 0) {
		fprintf(stderr, "core_load: %s\n", cause ? cause : "problems");
		exit(1);
	}
	if (!readonly)
		core_recover(c, &cause);
}

static void
core_close(struct core *c, struct store *st)
{
	core_free(c);
	store_close(st);
}

/* What a callback said. */
struct got {
	int		 called;
	enum core_err	 err;
	struct core_session *s;
	struct core_xfer *x;
	uint64_t	 seq;
	char		*tokens[2];
	char		*payload;
};

static void
got_created(void *arg, const struct core_status *st, struct core_session *s, char **tokens)
{
	struct got *g = arg;

	g->called++;
	g->err = st->err;
	g->s = s;
	g->tokens[0] = xstrdup(tokens[0]);
	g->tokens[1] = xstrdup(tokens[1]);
}

static void
got_seq(void *arg, const struct core_status *st, uint64_t seq)
{
	struct got *g = arg;

	g->called++;
	g->err = st->err;
	g->seq = seq;
}

static void
got_xfer(void *arg, const struct core_status *st, struct core_xfer *x,
    const struct core_xfer_reply *r)
{
	struct got *g = arg;

	g->called++;
	g->err = st->err;
	g->x = x;
	if (r->payload != NULL)
		g->payload = xstrdup(r->payload);
}

static struct core_session *
make_session(struct core *c, struct got *g)
{
	const char *names[] = { "alice", "bob" }, *devices[] = { "alice-phone", "bob-pc" };

	memset(g, 0, sizeof *g);
	core_session_create(c, "chat", 2, names, devices, got_created, g);
	CHECK(g->called == 1 && g->err == CE_OK && g->s != NULL);
	return g->s;
}

static uint64_t
say(struct core *c, struct core_channel *ch, const char *text)
{
	cJSON *f = cJSON_CreateObject();
	struct got g = { 0 };

	cJSON_AddStringToObject(f, "kind", "text");
	cJSON_AddStringToObject(f, "body", text);
	core_message(c, ch, f, got_seq, &g);
	CHECK(g.called == 1);
	return g.err == CE_OK ? g.seq : 0;
}

/* alice moves from her phone to alice-tablet: push, scanner proof, no confirmation. */
static struct core_xfer *
move_alice(struct core *c, struct core_channel *phone, struct got *g)
{
	struct core_actor tablet = { NULL, NULL, "alice-tablet", NULL };
	struct got img = { 0 };
	struct core_xfer *x;

	memset(g, 0, sizeof *g);
	core_xfer_push(c, phone, "alice-tablet", 120000, 0, TC_NONE, TP_SCANNER, got_xfer, g);
	CHECK(g->called == 1 && g->err == CE_OK && g->x != NULL && g->payload != NULL);
	x = g->x;
	core_xfer_image(c, x, &tablet, g->payload, got_xfer, &img);
	CHECK(img.called == 1);
	g->err = img.err;
	free(img.payload);
	return x;
}

static void
test_handover(const char *dir)
{
	struct core c, again;
	struct store *st, *st2;
	struct core_session *s, *s2;
	struct core_channel *a, *b, *n, *old2;
	struct core_xfer *x;
	struct got g, m;
	char hash[HASH_HEX_LEN + 1], sid[32], aid[32], tid[32];

	core_open(&c, &st, dir, 0);
	s = make_session(&c, &g);
	a = s->participants[0].channel;
	b = s->participants[1].channel;
	CHECK(say(&c, b, "one") == 2 && say(&c, b, "two") == 3);
	a->delivered_seq = 2;	/* alice's phone has seen up to "one" */
	x = move_alice(&c, a, &m);
	CHECK(m.err == CE_OK && x->t.state == TS_COMPLETED);
	n = core_participant(s, "alice")->channel;
	CHECK(n != a && n->open && !a->open && strcmp(n->device, "alice-tablet") == 0);
	CHECK(n->start_seq == 3);	/* right after what the old device was delivered */
	CHECK(strcmp(a->closed_reason, "transferred") == 0 &&
	    strcmp(a->closed_to, "alice-tablet") == 0);
	CHECK(s->durable == 4 && a->close_seq == 4);
	CHECK(n->opened_by != NULL && strcmp(n->opened_by, x->t.id) == 0 && n->token_box != NULL);
	hash_hex(g.tokens[0], strlen(g.tokens[0]), hash);
	CHECK(strmap_get(c.tokens, hash) == NULL);	/* the phone's token is revoked */
	CHECK(core_channel_by_token(&c, g.tokens[1]) == b);
	snprintf(sid, sizeof sid, "%s", s->id);
	snprintf(aid, sizeof aid, "%s", a->id);
	snprintf(tid, sizeof tid, "%s", x->t.id);
	core_close(&c, st);

	/* What the store kept loads back consistent, with the new channel collectable. */
	core_open(&again, &st2, dir, 1);
	s2 = core_session_find(&again, sid);
	CHECK(s2 != NULL && s2->durable == 4 && s2->nchannels == 3);
	old2 = s2 ? strmap_get(again.channels, aid) : NULL;
	CHECK(old2 != NULL && !old2->open && old2->token_hash == NULL);
	CHECK(s2 && strcmp(core_participant(s2, "alice")->channel->device, "alice-tablet") == 0);
	CHECK(core_channel_by_token(&again, g.tokens[1]) != NULL);
	x = core_xfer_find(&again, tid);
	CHECK(x != NULL && x->t.state == TS_COMPLETED);
	core_close(&again, st2);
	free(g.tokens[0]);
	free(g.tokens[1]);
	free(m.payload);
}

/* A failed fsync: the store is broken, the core says so, memory is as it was. */
static void
test_sync_fails(const char *dir)
{
	struct core c;
	struct store *st;
	struct core_session *s;
	struct got g;
	uint64_t before;

	core_open(&c, &st, dir, 0);
	s = make_session(&c, &g);
	before = s->durable;
	broken_told = 0;
	fail_fdatasync = 1;
	CHECK(say(&c, s->participants[1].channel, "lost?") == 0);
	fail_fdatasync = 0;
	CHECK(broken_told == 1 && store_broken(st) && s->durable == before);
	core_close(&c, st);
	free(g.tokens[0]);
	free(g.tokens[1]);
}

/*
 * A hand-over whose document was replaced but whose directory could not be
 * synced: the store is broken (the server stops); a restart finds the switch
 * made, the transfer completed, and the participant.moved entry appended.
 */
static void
test_dirsync_fails(const char *dir)
{
	struct core c, again;
	struct store *st, *st2;
	struct core_session *s, *s2;
	struct core_xfer *x;
	struct got g, m;
	struct stat sb;
	char id[32], tid[32], *sessions = xprintf("%s/sessions", dir);

	CHECK(stat(sessions, &sb) == 0);
	free(sessions);
	core_open(&c, &st, dir, 0);
	s = make_session(&c, &g);
	snprintf(id, sizeof id, "%s", s->id);
	broken_told = 0;
	fail_dir = sb.st_ino;
	x = move_alice(&c, s->participants[0].channel, &m);
	fail_dir = 0;
	snprintf(tid, sizeof tid, "%s", x->t.id);
	CHECK(broken_told >= 1 && m.err != CE_OK);
	CHECK(strcmp(core_participant(s, "alice")->channel->device, "alice-phone") == 0);
	core_close(&c, st);

	core_open(&again, &st2, dir, 0);
	s2 = core_session_find(&again, id);
	CHECK(s2 != NULL && s2->nchannels == 3 && s2->durable == 2);
	CHECK(s2 && strcmp(core_participant(s2, "alice")->channel->device, "alice-tablet") == 0);
	x = core_xfer_find(&again, tid);
	CHECK(x != NULL && x->t.state == TS_COMPLETED);
	core_close(&again, st2);
	free(g.tokens[0]);
	free(g.tokens[1]);
	free(m.payload);
}

int
main(void)
{
	char tmpl[] = "/tmp/rtcs-unit.XXXXXX", *dir, *cmd;

	log_init("test_serve", LOG_LEVEL_QUIET);
	if ((dir = mkdtemp(tmpl)) == NULL)
		return 1;
	test_handover(dir);
	test_sync_fails(dir);
	test_dirsync_fails(dir);
	cmd = xprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		failures++;
	free(cmd);
	if (failures != 0)
		return 1;
	printf("test_serve: ok\n");
	return 0;
}
