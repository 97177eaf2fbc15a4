/*
 * rtcs-session attach: one device in a session from a terminal. A thread
 * reads the device's stream and prints it; the main thread sends each line
 * of stdin. After stdin ends the stream goes on until the channel closes.
 * On a terminal, GNU readline's callback interface edits the line being
 * typed (history, a prompt naming the device), and what the stream prints
 * goes through the main thread, which lifts the line, prints, and redraws it.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "client.h"
#include "exitcode.h"
#include "log.h"
#include "session.h"
#include "xmalloc.h"

#define ATTACH_MAX_LINE (1024 * 1024)
#define ATTACH_HISTORY	1000	/* lines of history kept, in memory only */

struct attach {
	struct cli	*cli;
	struct client	*stream;	/* the stream thread's own handle */
	struct client	*send;		/* the main thread's */
	struct client	*lookup;	/* the stream thread's, for its hints */
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
	/* The line editor (stdin and stdout on a terminal). */
	int		 editing;
	int		 out[2];	/* stdout and stderr go here, the main thread prints them */
	int		 tty_out, tty_err;	/* the terminal, saved */
	FILE		*rl_out;
	char		*prompt;
	int		 detached;	/* Ctrl-D, SIGINT or SIGTERM: leave, exit 0 */
};

static struct attach *attach_self;	/* the readline callback has no argument */
static int attach_sig[2] = { -1, -1 };	/* SIGINT, SIGTERM, SIGWINCH -> the main loop */

static void *
attach_stream(void *arg)
{
	struct attach *a = arg;

	a->rc = client_stream(a->stream, a->path, a->token, a->timeout_ms,
	    print_stream_line, &a->st, &a->err);
	fflush(stdout);
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

/* readline hands over a whole line, or NULL at Ctrl-D. */
static void
attach_rl_line(char *line)
{
	struct attach *a = attach_self;

	if (line == NULL) {
		a->detached = 1;
		rl_callback_handler_remove();
		fputc('\n', a->rl_out);
		return;
	}
	if (*line != '\0')
		add_history(line);
	attach_send(a, line, strlen(line));
	free(line);
}

/*
 * What the stream thread (or an error) printed, as whole lines: the line
 * being typed is lifted, the text printed above it, the line redrawn.
 */
static void
attach_show(struct attach *a)
{
	char buf[65536], *saved;
	ssize_t n;
	int point;

	if ((n = read(a->out[0], buf, sizeof buf)) <= 0)
		return;
	if (a->detached) {
		fwrite(buf, 1, (size_t)n, a->rl_out);
		fflush(a->rl_out);
		return;
	}
	saved = rl_copy_text(0, rl_end);
	point = rl_point;
	rl_set_prompt("");
	rl_replace_line("", 0);
	rl_redisplay();
	fwrite(buf, 1, (size_t)n, a->rl_out);
	fflush(a->rl_out);
	rl_set_prompt(a->prompt);
	rl_replace_line(saved, 0);
	rl_point = point;
	rl_forced_update_display();
	free(saved);
}

static void
attach_on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int saved = errno;

	if (write(attach_sig[1], &c, 1) != 1)
		(void)0;	/* the pipe is full: a signal is pending already */
	errno = saved;
}

/*
 * The terminal mode: stdout and stderr become a pipe the main thread reads,
 * readline writes to the terminal itself; signals come through a pipe so
 * that the terminal is restored before leaving.
 */
static int
attach_editor_start(struct attach *a)
{
	struct sigaction sa;

	if (pipe2(a->out, O_CLOEXEC) != 0 || pipe2(attach_sig, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	if ((a->tty_out = dup(STDOUT_FILENO)) < 0 || (a->tty_err = dup(STDERR_FILENO)) < 0 ||
	    (a->rl_out = fdopen(a->tty_out, "w")) == NULL)
		return -1;
	setlocale(LC_CTYPE, "");
	rl_readline_name = "rtcs-session";
	rl_outstream = a->rl_out;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	stifle_history(ATTACH_HISTORY);
	a->prompt = xprintf("%s> ", sopts.as);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = attach_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	if (dup2(a->out[1], STDOUT_FILENO) < 0 || dup2(a->out[1], STDERR_FILENO) < 0)
		return -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	attach_self = a;
	rl_callback_handler_install(a->prompt, attach_rl_line);
	a->editing = 1;
	return 0;
}

/* Back to the terminal as it was: what is still in the pipe, then the real fds. */
static void
attach_editor_stop(struct attach *a)
{
	struct pollfd p = { a->out[0], POLLIN, 0 };

	if (!a->editing)
		return;
	fflush(stdout);
	fflush(stderr);
	a->detached = 1;
	rl_callback_handler_remove();	/* a second call does nothing */
	while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN))
		attach_show(a);
	dup2(a->tty_out, STDOUT_FILENO);
	dup2(a->tty_err, STDERR_FILENO);
	close(a->tty_err);
	fclose(a->rl_out);
	close(a->out[0]);
	close(a->out[1]);
	close(attach_sig[0]);
	close(attach_sig[1]);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGWINCH, SIG_DFL);
	clear_history();
	free(a->prompt);
	a->editing = 0;
}

/* A signal in terminal mode: a new size is redrawn; SIGINT and SIGTERM detach. */
static void
attach_signal(struct attach *a)
{
	unsigned char c;

	while (read(attach_sig[0], &c, 1) == 1) {
		if (c == SIGWINCH)
			rl_resize_terminal();
		else if (!a->detached) {
			a->detached = 1;
			rl_callback_handler_remove();
			fputc('\n', a->rl_out);
		}
	}
}

/* Sends stdin until the stream thread says it is done, or the user leaves. */
static void
attach_loop(struct attach *a)
{
	struct pollfd pfd[4];
	nfds_t nfds;

	pfd[0].fd = a->wake[0];
	pfd[1].fd = STDIN_FILENO;
	pfd[2].fd = a->editing ? a->out[0] : -1;
	pfd[3].fd = a->editing ? attach_sig[0] : -1;
	pfd[0].events = pfd[1].events = pfd[2].events = pfd[3].events = POLLIN;
	nfds = 4;
	for (;;) {
		if (poll(pfd, nfds, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("attach: poll");
			return;
		}
		if (pfd[2].revents != 0)
			attach_show(a);
		if (pfd[3].revents != 0)
			attach_signal(a);
		if (pfd[0].revents != 0)
			return;
		if (pfd[1].fd >= 0 && pfd[1].revents != 0) {
			if (a->editing)
				rl_callback_read_char();
			else if (attach_input(a) == 0)
				pfd[1].fd = -1;	/* stdin is over: keep receiving */
		}
		if (a->detached) {
			client_interrupt(a->stream);	/* the stream thread's call ends at once */
			pfd[1].fd = -1;
		}
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
	a.tty_out = a.tty_err = -1;
	if ((rc = cli_device_key(cli, sopts.as, "token", argv[0], &a.token, NULL)) != 0)
		return rc;
	a.cli = cli;
	a.sid = argv[0];
	a.timeout_ms = cli->timeout_ms;
	a.st.json = cli->json;
	a.st.token = a.token;
	a.st.hint = cli_hint_prefix("rtcs-transfer", cli->socket, cli->keys);
	a.path = session_stream_path(a.sid);
	if ((a.stream = cli_client(cli)) == NULL || (a.send = cli_client(cli)) == NULL ||
	    (a.lookup = cli_client(cli)) == NULL) {
		rc = EXIT_SOFTWARE;
		goto out;
	}
	a.st.lookup = a.lookup;
	if (pipe(a.wake) != 0) {
		rc = cli_error(cli, EXIT_SOFTWARE, "pipe: %s", strerror(errno));
		goto out;
	}
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !cli->json &&
	    attach_editor_start(&a) != 0) {
		rc = cli_error(cli, EXIT_SOFTWARE, "cannot set up the terminal: %s", strerror(errno));
		goto out;
	}
	if ((errno = pthread_create(&t, NULL, attach_stream, &a)) != 0) {
		attach_editor_stop(&a);
		rc = cli_error(cli, EXIT_SOFTWARE, "cannot start a thread: %s", strerror(errno));
		goto out;
	}
	attach_loop(&a);
	pthread_join(t, NULL);
	attach_editor_stop(&a);
	if (a.detached && client_interrupted(a.stream)) {
		client_err_clear(&a.err);
		rc = EXIT_OK;	/* the user left */
		goto out;
	}
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
	client_free(a.lookup);
	free((char *)a.st.hint);
	free(a.buf);
	free(a.path);
	free(a.token);
	return rc;
}
