/*
 * rtcs-session attach: one device in a session from a terminal. A thread
 * reads the device's stream and prints it; the main thread sends each line
 * of stdin. After stdin ends the stream goes on until the channel closes.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "exitcode.h"
#include "log.h"
#include "session.h"
#include "xmalloc.h"

#define ATTACH_MAX_LINE (1024 * 1024)

struct attach {
	struct cli	*cli;
	struct client	*stream;	/* the stream thread's own handle */
	struct client	*send;		/* the main thread's */
	const char	*sid;
	char		*token;
	char		*path;
	long long	 timeout_ms;
	struct stream_state st;
	struct client_err err;
	int		 rc;
	int		 wake[2];	/* the stream thread says it is done */
	char		*buf;		/* stdin bytes not yet a whole line */
	size_t		 len, cap;
	int		 skipping;	/* inside a line too long to send */
	int		 send_rc;	/* the first failed send's exit code */
	int		 unauthorized;	/* a send got 401: the token is dead, send no more */
};

static void *
attach_stream(void *arg)
{
	struct attach *a = arg;

	a->rc = client_stream(a->stream, a->path, a->token, a->timeout_ms,
	    print_stream_line, &a->st, &a->err);
	if (write(a->wake[1], "", 1) != 1)
		log_warn("attach: wake-up");
	return NULL;
}

static void
attach_send(struct attach *a, char *line, size_t n)
{
	struct client_err err = { 0 };
	long long seq;
	int rc;

	while (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	if (n == 0 || a->unauthorized)
		return;
	if (session_send_text(a->send, a->sid, sopts.as, a->token, line, &seq, &err) == 0) {
		log_debug("sent as %lld", seq);
		return;
	}
	if (err.status == 401)
		a->unauthorized = 1;
	rc = cli_fail(a->cli, a->sid, &err);
	if (a->send_rc == 0)
		a->send_rc = rc;
}

/* Reads what stdin has; 0 at its end. Whole lines are sent at once. */
static int
attach_input(struct attach *a)
{
	char *nl, *start;
	ssize_t n;

	if (a->cap - a->len < 4096) {
		a->cap = a->cap ? a->cap * 2 : 8192;
		a->buf = xrealloc(a->buf, a->cap);
	}
	n = read(STDIN_FILENO, a->buf + a->len, a->cap - a->len - 1);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		if (a->len > 0 && !a->skipping)
			attach_send(a, a->buf, a->len);
		a->len = 0;
		return 0;
	}
	a->len += (size_t)n;
	start = a->buf;
	while ((nl = memchr(start, '\n', a->len - (size_t)(start - a->buf))) != NULL) {
		if (!a->skipping)
			attach_send(a, start, (size_t)(nl - start));
		a->skipping = 0;
		start = nl + 1;
	}
	a->len -= (size_t)(start - a->buf);
	memmove(a->buf, start, a->len);
	if (a->len > ATTACH_MAX_LINE) {
		log_warnx("attach: line longer than %d bytes not sent", ATTACH_MAX_LINE);
		a->skipping = 1;
		a->len = 0;
	}
	return 1;
}

/* Sends stdin until the stream thread says it is done. */
static void
attach_loop(struct attach *a)
{
	struct pollfd pfd[2];
	nfds_t nfds = 2;

	pfd[0].fd = a->wake[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = STDIN_FILENO;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, nfds, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("attach: poll");
			return;
		}
		if (pfd[0].revents != 0)
			return;
		if (nfds > 1 && pfd[1].revents != 0 && attach_input(a) == 0)
			nfds = 1;	/* stdin is over: keep receiving */
	}
}

int
cmd_attach(struct cli *cli, int argc, char **argv)
{
	struct attach a;
	pthread_t t;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one session ID");
	if (sopts.as == NULL)
		return cli_usage_error(cli, "--as DEVICE is required");
	if ((rc = session_check_id(cli, argv[0])) != 0)
		return rc;
	memset(&a, 0, sizeof a);
	if ((rc = cli_device_key(cli, sopts.as, "token", argv[0], &a.token, NULL)) != 0)
		return rc;
	a.cli = cli;
	a.sid = argv[0];
	a.timeout_ms = cli->timeout_ms;
	a.st.json = cli->json;
	a.path = session_stream_path(a.sid);
	if ((a.stream = cli_client(cli)) == NULL || (a.send = cli_client(cli)) == NULL) {
		rc = EXIT_SOFTWARE;
		goto out;
	}
	if (pipe(a.wake) != 0) {
		rc = cli_error(cli, EXIT_SOFTWARE, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((errno = pthread_create(&t, NULL, attach_stream, &a)) != 0) {
		rc = cli_error(cli, EXIT_SOFTWARE, "cannot start a thread: %s", strerror(errno));
		goto out;
	}
	attach_loop(&a);
	pthread_join(t, NULL);
	rc = stream_exit(cli, a.sid, &a.st, a.rc, &a.err);
	/* A lost message fails attach, unless the channel then closed for good. */
	if (a.send_rc != 0 && !(a.st.closed && rc == 0))
		rc = a.send_rc;
out:
	if (a.wake[0] > 0) {
		close(a.wake[0]);
		close(a.wake[1]);
	}
	client_free(a.stream);
	client_free(a.send);
	free(a.buf);
	free(a.path);
	free(a.token);
	return rc;
}
