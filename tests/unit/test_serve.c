/* Unit tests for rtcs-serve's model: the transfer hand-over and what the store keeps of it. */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "serve.h"
#include "xmalloc.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static void
server_init(struct server *srv, struct config *cfg, int readonly, struct event_base *base)
{
	struct store_options opt = { .sync = cfg->sync, .readonly = readonly };
	enum store_err err;
	char *cause = NULL;

	memset(srv, 0, sizeof *srv);
	srv->base = base;
	srv->cfg = cfg;
	srv->lockfd = -1;
	srv->sessions = strmap_new();
	srv->tokens = strmap_new();
	srv->channels = strmap_new();
	srv->conns = strmap_new();
	TAILQ_INIT(&srv->followers);
	TAILQ_INIT(&srv->pending);
	srv->store = store_open(cfg->store_path, srv->base, &opt, &err, &cause);
	if (srv->store == NULL) {
		fprintf(stderr, "store_open: %s\n", cause);
		exit(1);
	}
	xfer_init(srv);
	if (model_load(srv, &err, &cause) != 0) {
		fprintf(stderr, "model_load: %s\n", cause ? cause : "problems");
		exit(1);
	}
}

/* A session as the server creates it: its document and its first entry together. */
static struct session *
session_made(struct server *srv, struct channel **a, char **ta)
{
	struct session *s = session_new(srv, "chat");
	char *cause = NULL;

	*a = channel_open(srv, s, "alice", "alice-phone", ta);
	CHECK(session_commit(srv, s, NULL, entry_new(s, "event"), &cause) == 0);
	return s;
}

static void
server_fini(struct server *srv)
{
	store_close(srv->store);
	model_free(srv);
	strmap_free(srv->conns, NULL);
}

static void
append_text(struct server *srv, struct session *s, const char *text)
{
	cJSON *e = entry_new(s, "message");
	char *cause = NULL;

	cJSON_AddStringToObject(e, "kind", "text");
	cJSON_AddStringToObject(e, "body", text);
	CHECK(session_append(srv, s, e, NULL, &cause) == 0);
}

static void
test_handover(const char *dir)
{
	struct config cfg;
	struct server srv, again;
	struct session *s, *s2;
	struct channel *a, *b, *n, *old2;
	char *ta, *tb, *tn = NULL, *cause = NULL, hash[HASH_HEX_LEN + 1];

	memset(&cfg, 0, sizeof cfg);
	cfg.store_path = (char *)dir;
	cfg.sync = STORE_SYNC_ALWAYS;
	server_init(&srv, &cfg, 0, NULL);
	s = session_new(&srv, "chat");
	a = channel_open(&srv, s, "alice", "alice-phone", &ta);
	b = channel_open(&srv, s, "bob", "bob-pc", &tb);
	CHECK(session_commit(&srv, s, NULL, entry_new(s, "event"), &cause) == 0);
	append_text(&srv, s, "one");
	append_text(&srv, s, "two");
	a->delivered_seq = 2;	/* alice's phone has seen up to "one" */

	n = channel_handover(&srv, a, "alice-tablet", "TAAAAAAAAAAAAAAAA", &tn, &cause);
	CHECK(n != NULL && tn != NULL);
	CHECK(n->start_seq == 3);	/* right after what the old device was delivered */
	CHECK(n->open && !a->open);
	CHECK(strcmp(a->closed_reason, "transferred") == 0);
	CHECK(strcmp(a->closed_to, "alice-tablet") == 0);
	CHECK(session_participant(s, "alice")->channel == n);
	CHECK(s->last_seq == 4 && a->close_seq == 4);
	CHECK(strstr(s->log[3], "\"event\":\"participant.moved\"") != NULL);
	CHECK(strstr(s->log[3], "\"to\":\"alice-tablet\"") != NULL);
	hash_hex(ta, strlen(ta), hash);
	CHECK(strmap_get(srv.tokens, hash) == NULL);	/* revoked */
	hash_hex(tn, strlen(tn), hash);
	CHECK(strmap_get(srv.tokens, hash) == n);
	hash_hex(tb, strlen(tb), hash);
	CHECK(strmap_get(srv.tokens, hash) == b);

	/* What the store kept loads back consistent (what --fsck checks). */
	cfg.fsck = 1;
	server_init(&again, &cfg, 1, NULL);
	s2 = session_find(&again, s->id);
	CHECK(s2 != NULL && s2->last_seq == 4 && s2->nchannels == 3);
	old2 = s2 ? strmap_get(again.channels, a->id) : NULL;
	CHECK(old2 != NULL && !old2->open && old2->token_hash == NULL);
	CHECK(s2 && strcmp(session_participant(s2, "alice")->channel->device, "alice-tablet") == 0);
	CHECK(strmap_get(again.tokens, hash) != NULL);	/* bob's token still works */
	server_fini(&again);

	free(ta);
	free(tb);
	free(tn);
	server_fini(&srv);
}

static int fail_fdatasync, fail_dirsync;

/* Override libc's for the store: a disk that fails its syncs on demand. */
int
fsync(int fd)
{
	struct stat sb;

	if (fail_dirsync && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
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

/*
 * A hand-over whose document was replaced but whose directory could not be
 * synced is committed: the server stops (no undo in memory) and the store
 * says the participant moved.
 */
static void
test_dirsync_fails(const char *dir)
{
	struct config cfg;
	struct server srv, again;
	struct session *s, *s2;
	struct channel *a;
	char *ta, *id, *cause = NULL;
	pid_t pid;
	int status;

	memset(&cfg, 0, sizeof cfg);
	cfg.store_path = (char *)dir;
	cfg.sync = STORE_SYNC_ALWAYS;
	server_init(&srv, &cfg, 0, NULL);
	s = session_made(&srv, &a, &ta);
	id = xstrdup(s->id);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		char *tn = NULL;
		fail_dirsync = 1;
		if (channel_handover(&srv, a, "alice-tablet", NULL, &tn, &cause) == NULL)
			_exit(0);	/* undone in memory: wrong */
		_exit(3);		/* acknowledged without durability: wrong */
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 70);
	free(ta);
	server_fini(&srv);

	/* The next start appends the participant.moved the document carried. */
	server_init(&again, &cfg, 0, NULL);
	s2 = session_find(&again, id);
	CHECK(s2 != NULL && s2->nchannels == 2 && s2->last_seq == 2 &&
	    strstr(s2->log[1], "\"participant.moved\"") != NULL);
	server_fini(&again);
	cfg.fsck = 0;
	free(id);
}

/* --sync always: a failed fsync stops the server (a seq is never reused). */
static void
test_sync_fails(const char *dir)
{
	struct config cfg;
	struct server srv;
	struct session *s;
	struct channel *a;
	char *ta;
	pid_t pid;
	int status;

	memset(&cfg, 0, sizeof cfg);
	cfg.store_path = (char *)dir;
	cfg.sync = STORE_SYNC_ALWAYS;
	server_init(&srv, &cfg, 0, NULL);
	s = session_made(&srv, &a, &ta);
	append_text(&srv, s, "one");
	fflush(NULL);
	if ((pid = fork()) == 0) {
		char *cause = NULL;
		cJSON *e = entry_new(s, "message");
		fail_fdatasync = 1;
		cJSON_AddStringToObject(e, "body", "two");
		session_append(&srv, s, e, NULL, &cause);
		_exit(0);	/* still running: wrong */
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	free(ta);
	server_fini(&srv);
}

/* --sync batch: a document is written after the log entries it vouches for are durable. */
static void
test_batch_doc(const char *dir)
{
	struct config cfg;
	struct server srv;
	struct session *s;
	struct channel *a;
	char *ta, *cause = NULL;

	memset(&cfg, 0, sizeof cfg);
	cfg.store_path = (char *)dir;
	cfg.sync = STORE_SYNC_BATCH;
	server_init(&srv, &cfg, 0, event_base_new());
	s = session_made(&srv, &a, &ta);
	append_text(&srv, s, "one");
	CHECK(store_pending(srv.store) && s->durable_seq == 1);
	CHECK(session_save(&srv, s, &cause) == 0);
	CHECK(!store_pending(srv.store) && s->durable_seq == 2);
	free(ta);
	server_fini(&srv);
	event_base_free(srv.base);
}

int
main(void)
{
	char tmpl[] = "/tmp/rtcs-unit.XXXXXX", *dir, *cmd;

	log_init("test_serve", LOG_LEVEL_WARN);
	if ((dir = mkdtemp(tmpl)) == NULL)
		return 1;
	test_handover(dir);
	test_batch_doc(dir);
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
