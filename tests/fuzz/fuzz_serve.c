/*
 * libFuzzer target: rtcs-serve's own request handling behind evhttp, whole.
 * A real server (the gate, evhttp, the route table, body and JSON checks,
 * every handler, the core, on a flat-file store in a temporary directory
 * with --sync none) runs on a thread of this process; each input is written
 * to a fresh connection, the answer read until the server closes or goes
 * quiet. The server must never crash, hang or stop on its own, and must
 * keep answering GET /v1/health.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;
static struct server srv;
static char sock_path[108];

static void *
serve(void *arg)
{
	char *cause = NULL;
	int exitcode = 0;

	(void)arg;
	server_run(&srv, &cause, &exitcode);
	fprintf(stderr, "fuzz_serve: rtcs-serve stopped: %s (exit %d)\n", cause ? cause : "?",
	    exitcode);
	abort();
}

static int
dial(void)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Sends data on a new connection; reads until EOF or quiet_ms of silence; the bytes read. */
static size_t
exchange(const void *data, size_t size, int quiet_ms, char *out, size_t outlen)
{
	struct pollfd p;
	size_t got = 0;
	ssize_t n;
	char buf[4096];
	int fd = dial();

	if (fd < 0)
		abort();	/* the server stopped listening */
	if (size > 0)
		(void)send(fd, data, size, MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	p.fd = fd;
	p.events = POLLIN;
	while (poll(&p, 1, quiet_ms) > 0 && (n = read(fd, buf, sizeof buf)) > 0) {
		if (out != NULL && got < outlen - 1)
			memcpy(out + got, buf, (size_t)n < outlen - 1 - got ? (size_t)n : outlen - 1 - got);
		got += (size_t)n;
	}
	close(fd);
	if (out != NULL)
		out[got < outlen - 1 ? got : outlen - 1] = '\0';
	return got;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/rtcs-fuzz-serve.XXXXXX";
	static char store[128], run[128];
	pthread_t th;
	char ready[16];
	int rp[2];

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(run, sizeof run, "%s/run", dir);
	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(sock_path, sizeof sock_path, "%s/rtcs.sock", run);
	if (mkdir(run, 0700) != 0)
		abort();
	log_init("rtcs-serve", LOG_LEVEL_QUIET);
	config_defaults(&cfg);
	cfg.socket_opt = sock_path;
	cfg.store_opt = store;
	cfg.socket_path = sock_path;
	cfg.store_path = store;
	if (pipe(rp) != 0)
		abort();
	cfg.ready_fd = rp[1];	/* the server writes a line there once it accepts */
	cfg.sync = STORE_SYNC_NONE;
	cfg.idle_timeout_s = 2;
	cfg.header_timeout_s = 1;
	cfg.decode_workers = 1;
	cfg.decode_queue = 2;
	cfg.decode_cpu_s = 1;
	srv.cfg = &cfg;
	if (pthread_create(&th, NULL, serve, NULL) != 0)
		abort();
	if (read(rp[0], ready, sizeof ready) <= 0)
		abort();
	close(rp[0]);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char health[] = "GET /v1/health HTTP/1.1\r\nHost: rtcs\r\n\r\n";
	static unsigned long n;
	char out[256];

	exchange(data, size, 50, NULL, 0);
	/* Now and then: the server still answers. */
	if (++n % 64 == 0) {
		exchange(health, sizeof health - 1, 5000, out, sizeof out);
		if (strncmp(out, "HTTP/1.1 200 ", 13) != 0) {
			fprintf(stderr, "fuzz_serve: health answered: %.80s\n", out);
			abort();
		}
	}
	return 0;
}
