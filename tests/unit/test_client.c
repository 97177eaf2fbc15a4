/* Unit tests for the client side: the exit-code table, transfer states, and scan_submit without a server. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "client_transfer.h"
#include "exitcode.h"
#include "keys.h"

/* submit.c belongs to rtcs-transfer (rtcs-scan --submit runs it); compiled in here. */
#include "../../cmd/rtcs-transfer/submit.c"

struct transfer_opts topts = { .since = -1 };	/* main.c owns it in the program */

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static void
test_exit_table(void)
{
	CHECK(client_exit_for(200, NULL) == EXIT_OK);
	CHECK(client_exit_for(201, NULL) == EXIT_OK);
	CHECK(client_exit_for(401, "unauthorized") == EXIT_NOPERM);
	CHECK(client_exit_for(403, "forbidden") == EXIT_NOPERM);
	CHECK(client_exit_for(403, NULL) == EXIT_NOPERM);
	CHECK(client_exit_for(404, "not_found") == EXIT_NOINPUT);
	CHECK(client_exit_for(400, "bad_field") == EXIT_DATAERR);
	CHECK(client_exit_for(409, "already_claimed") == EXIT_NO);
	CHECK(client_exit_for(409, "session_ended") == EXIT_NO);
	CHECK(client_exit_for(409, "conflict") == EXIT_DATAERR);
	CHECK(client_exit_for(410, "expired") == EXIT_NO);
	CHECK(client_exit_for(410, NULL) == EXIT_NO);
	CHECK(client_exit_for(403, "match_mismatch") == EXIT_NO);
	CHECK(client_exit_for(400, "code_mismatch") == EXIT_NO);
	CHECK(client_exit_for(413, NULL) == EXIT_DATAERR);
	CHECK(client_exit_for(429, "rate_limited") == EXIT_UNAVAILABLE);
	CHECK(client_exit_for(500, "internal") == EXIT_SOFTWARE);
	CHECK(client_exit_for(502, NULL) == EXIT_SOFTWARE);
	CHECK(client_exit_for(503, "unavailable") == EXIT_UNAVAILABLE);
	CHECK(client_exit_for(405, NULL) == EXIT_PROTOCOL);
	CHECK(client_exit_for(302, NULL) == EXIT_PROTOCOL);
}

static void
test_states(void)
{
	CHECK(transfer_state_reached("scanned", "scanned"));
	CHECK(transfer_state_reached("completed", "scanned"));
	CHECK(!transfer_state_reached("issued", "scanned"));
	CHECK(!transfer_state_reached("failed", "completed"));
	CHECK(transfer_state_reached("failed", "failed"));
	CHECK(!transfer_state_reached("completed", "failed"));
	CHECK(transfer_state_reached("completed", NULL));
	CHECK(!transfer_state_reached("verified", "bogus"));
	CHECK(transfer_state_terminal("failed") && transfer_state_terminal("completed"));
	CHECK(!transfer_state_terminal("committing"));
	CHECK(transfer_state_rank("issued") == 0 && transfer_state_rank("nope") == -1);
}

static void
test_no_server(void)
{
	struct client *c = client_new("/nonexistent/rtcs.sock", 1000);
	struct client_err err = { 0 };
	cJSON *out = NULL;

	CHECK(c != NULL);
	CHECK(client_call(c, "GET", "/v1/health", NULL, NULL, &out, &err) == -1);
	CHECK(err.exit == EXIT_UNAVAILABLE);
	CHECK(err.msg != NULL && strstr(err.msg, "cannot reach rtcs-serve at /nonexistent/rtcs.sock") != NULL);
	client_err_clear(&err);
	client_free(c);
}

static void
test_submit(void)
{
	struct scan_submit_opts o;
	char dir[] = "/tmp/rtcs-unit.XXXXXX";
	const char *good = "RTCS:1:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA";

	CHECK(mkdtemp(dir) != NULL);
	memset(&o, 0, sizeof o);
	o.prog = "test_client";
	o.keys = dir;
	o.socket = "/nonexistent/rtcs.sock";
	CHECK(scan_submit(&o, good, NULL, 0) == EXIT_USAGE);		/* no device */
	o.device = "Bad Name";
	CHECK(scan_submit(&o, good, NULL, 0) == EXIT_USAGE);
	o.device = "tablet";
	CHECK(scan_submit(&o, "HELLO", NULL, 0) == EXIT_DATAERR);
	CHECK(scan_submit(&o, NULL, NULL, 0) == EXIT_DATAERR);
	o.upload = 1;
	CHECK(scan_submit(&o, good, NULL, 0) == EXIT_USAGE);		/* upload without image */
	CHECK(scan_submit(&o, good, "\x89PNG", 4) == EXIT_UNAVAILABLE);
	o.upload = 0;
	CHECK(scan_submit(&o, good, NULL, 0) == EXIT_UNAVAILABLE);
	CHECK(scan_submit(&o, "RTCS:1:I:IAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, 0) ==
	    EXIT_UNAVAILABLE);
	rmdir(dir);
}

/* Removes a test key directory: its key file path (freed), the lock, itself. */
static void
keys_dir_remove(const char *dir, char *path)
{
	unlink(path);
	free(path);
	path = xprintf("%s/.lock", dir);
	unlink(path);
	free(path);
	rmdir(dir);
}

/* A file whose last line lacks its newline: the rewrite adds it and no NUL. */
static void
test_keys_put_no_newline(void)
{
	char dir[] = "/tmp/rtcs-unit.XXXXXX", *path, *cause = NULL, buf[128];
	FILE *f;
	size_t n;

	CHECK(mkdtemp(dir) != NULL);
	path = xprintf("%s/d.token", dir);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("S1 aaaa", f);
	fclose(f);
	CHECK(keys_put(dir, "d", "token", "S2", "bbbb", &cause) == 0);
	CHECK((f = fopen(path, "r")) != NULL);
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	CHECK(n == 16 && memcmp(buf, "S1 aaaa\nS2 bbbb\n", 16) == 0);
	keys_dir_remove(dir, path);
}

/* design.md 8: a key file or directory open to others is refused (77). */
static void
test_keys_get_private(void)
{
	char dir[] = "/tmp/rtcs-unit.XXXXXX", *path, *cause = NULL, *v = NULL;
	int why;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(keys_put(dir, "d", "token", "S1", "aaaa", &cause) == 0);
	CHECK(keys_get(dir, "d", "token", "S1", &v, NULL, &why, &cause) == 0 && strcmp(v, "aaaa") == 0);
	free(v);
	path = xprintf("%s/d.token", dir);
	chmod(path, 0644);
	CHECK(keys_get(dir, "d", "token", "S1", &v, NULL, &why, &cause) == -1 && why == KEYS_UNSAFE);
	CHECK(keys_exit_code(why) == EXIT_NOPERM);
	free(cause);
	chmod(path, 0600);
	chmod(dir, 0750);
	CHECK(keys_get(dir, "d", "token", "S1", &v, NULL, &why, &cause) == -1 && why == KEYS_UNSAFE);
	free(cause);
	chmod(dir, 0700);
	CHECK(keys_get(dir, "d", "token", "S9", &v, NULL, &why, &cause) == -1 && why == KEYS_MISSING);
	free(cause);
	keys_dir_remove(dir, path);
}

static int
test_stream_cb(cJSON *ev, void *arg)
{
	(void)ev;
	(*(int *)arg)++;
	return 0;
}

/* A stream whose body is empty: no line, no read of a buffer never allocated (make sanitize). */
static void
test_stream_empty(void)
{
	char dir[] = "/tmp/rtcs-unit.XXXXXX", *sock, req[4096];
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct client_err err = { 0 };
	struct client *c;
	int fd, conn, lines = 0, status;
	pid_t pid;

	CHECK(mkdtemp(dir) != NULL);
	sock = xprintf("%s/s", dir);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
	CHECK((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	CHECK(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0 && listen(fd, 1) == 0);
	if ((pid = fork()) == 0) {
		if ((conn = accept(fd, NULL, NULL)) >= 0 && read(conn, req, sizeof req) > 0 &&
		    write(conn, resp, strlen(resp)) > 0)
			close(conn);
		_exit(0);
	}
	close(fd);
	c = client_new(sock, 5000);
	CHECK(client_stream(c, "/v1/events", NULL, 5000, test_stream_cb, &lines, &err) == 0);
	CHECK(lines == 0);
	client_err_clear(&err);
	client_free(c);
	waitpid(pid, &status, 0);
	unlink(sock);
	free(sock);
	rmdir(dir);
}

int
main(void)
{
	test_stream_empty();
	test_keys_put_no_newline();
	test_keys_get_private();
	test_exit_table();
	test_states();
	test_no_server();
	test_submit();
	if (failures) {
		fprintf(stderr, "test_client: %d failures\n", failures);
		return 1;
	}
	printf("test_client: ok\n");
	return 0;
}
