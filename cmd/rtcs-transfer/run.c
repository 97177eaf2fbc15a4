/*
 * rtcs-transfer run: the whole push flow for an operator, attended or not,
 * and rendering codes with rtcs-code. A transfer that run started and that
 * does not complete is cancelled before it exits (SIGINT and SIGTERM too).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "client_transfer.h"
#include "exitcode.h"
#include "fsutil.h"
#include "json.h"
#include "log.h"
#include "sibling.h"
#include "xfer.h"
#include "xmalloc.h"

/*
 * What run shares with its signal thread: the transfer once it exists, and
 * the signal that interrupted it. The thread cancels the transfer, which
 * ends the main thread's wait on the event stream; the wake pipe ends a
 * wait for the match code.
 */
struct run {
	struct cli	*cli;
	const char	*sid;
	char		*token;		/* the origin's, for the calls run makes as it */
	pthread_mutex_t	 mu;
	const char	*id;		/* NULL until the request is answered */
	int		 signo;		/* 0 until SIGINT or SIGTERM */
	int		 cancelled;	/* 1 done, -1 the cancel failed */
	int		 wake[2];
	pthread_t	 thread;
	int		 threaded;
	sigset_t	 sigs;
	struct code_view view;		/* the code on show, redrawn as it rotates */
};

/* DELETE the transfer as its origin: 0, or -1 (err filled; "over already" is not an error). */
static int
run_cancel_call(struct run *r, const char *id, struct client_err *err)
{
	struct client *c = cli_client(r->cli);
	char *path = xprintf("/v1/transfers/%s", id);
	int rc = -1;

	if (c != NULL)
		rc = client_call(c, "DELETE", path, r->token, NULL, NULL, err);
	free(path);
	client_free(c);
	return rc;
}

static void *
run_signal_thread(void *arg)
{
	struct run *r = arg;
	struct client_err err = { 0 };
	const char *id;
	int sig = 0, rc;

	if (sigwait(&r->sigs, &sig) != 0)
		return NULL;
	pthread_mutex_lock(&r->mu);
	r->signo = sig;
	id = r->id;
	pthread_mutex_unlock(&r->mu);
	if (write(r->wake[1], "", 1) != 1)
		log_warn("run: wake-up");
	if (id == NULL)
		return NULL;	/* the main thread cancels it when the request returns */
	rc = run_cancel_call(r, id, &err);
	pthread_mutex_lock(&r->mu);
	r->cancelled = rc == 0 ? 1 : -1;
	pthread_mutex_unlock(&r->mu);
	client_err_clear(&err);
	return NULL;
}

static int
run_signo(struct run *r)
{
	int sig;

	pthread_mutex_lock(&r->mu);
	sig = r->signo;
	pthread_mutex_unlock(&r->mu);
	return sig;
}

/* One step of the flow: a JSON line with --json, a line on a terminal's stderr otherwise. */
static void
run_step(struct run *r, const char *step, cJSON *extra, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
run_step(struct run *r, const char *step, cJSON *extra, const char *fmt, ...)
{
	cJSON *o = extra != NULL ? extra : cJSON_CreateObject();
	va_list ap;

	if (r->cli->json) {
		cJSON_AddStringToObject(o, "step", step);
		pthread_mutex_lock(&r->mu);
		if (r->id != NULL && cJSON_GetObjectItemCaseSensitive(o, "transfer") == NULL)
			cJSON_AddStringToObject(o, "transfer", r->id);
		pthread_mutex_unlock(&r->mu);
		print_json(o);
	} else if (fmt != NULL && r->cli->level >= 0 && isatty(STDERR_FILENO)) {
		fprintf(stderr, "%s: ", r->cli->prog);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	cJSON_Delete(o);
}

/* The origin's displayer proof: the PNG it shows if there is one, else the payload. */
static int
run_displayer_proof(struct run *r, struct client *c, const char *id, const char *payload)
{
	struct client_err err = { 0 };
	char *dir = cli_keys_dir(r->cli), *png = NULL, *cause = NULL;
	size_t len = 0;
	cJSON *resp = NULL;
	int rc = 0;

	if (topts.output != NULL && fs_read_file(topts.output, 1024 * 1024, &png, &len, &cause) != 0) {
		rc = cli_error(r->cli, EXIT_IOERR, "cannot read %s: %s", topts.output, cause);
		free(cause);
	} else if (transfer_submit_image(c, dir, topts.from, id, r->token, payload, png, len,
	    &resp, &err) != 0)
		rc = cli_fail(r->cli, id, &err);
	cJSON_Delete(resp);
	free(png);
	free(dir);
	return rc;
}

/*
 * A match code in a line: the line's last word if it is 6 digits ("123456",
 * "match code: 123456", what rtcs-scan --submit prints), or the "match" of a
 * JSON object (rtcs-scan --submit --json).
 */
static int
run_code_in(const char *line, const char *key, size_t digits, char *out, size_t len)
{
	const char *w, *m;
	size_t n = strcspn(line, "\r\n");
	cJSON *o;
	char *cause = NULL;

	if (line[0] == '{' && (o = json_parse_object(line, n, &cause)) != NULL) {
		m = json_str(o, key);
		if (m != NULL && strlen(m) == digits && strspn(m, "0123456789") == digits)
			snprintf(out, len, "%s", m);
		cJSON_Delete(o);
		return m != NULL && *out != '\0' ? 0 : -1;
	}
	free(cause);
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	for (w = line + n; w > line && w[-1] != ' ' && w[-1] != '\t'; w--)
		;
	if ((size_t)(line + n - w) != digits || strspn(w, "0123456789") < digits)
		return -1;
	snprintf(out, len, "%.*s", (int)digits, w);
	return 0;
}

int
transfer_read_code(int fd, int wake, const char *key, size_t digits, char *out, size_t len)
{
	char buf[4096];
	size_t have = 0;
	struct pollfd p[2] = { { fd, POLLIN, 0 }, { wake, POLLIN, 0 } };
	char *nl;
	ssize_t n;

	out[0] = '\0';
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents != 0)
			return -2;
		if ((n = read(fd, buf + have, sizeof buf - 1 - have)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return have > 0 && (buf[have] = '\0', run_code_in(buf, key, digits, out, len) == 0) ? 0 : -1;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			if (run_code_in(buf, key, digits, out, len) == 0)
				return 0;
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof buf - 1)
			have = 0;	/* a line that long holds no code: forget it */
	}
}

/* The match code: --match N, the first one on stdin (--match -), else typed on the terminal. */
static int
run_match(struct run *r, const char *claimant, char *buf, size_t len)
{
	int fd, rc;

	if (topts.match != NULL && strcmp(topts.match, "-") != 0) {
		snprintf(buf, len, "%s", topts.match);
		return 0;
	}
	if (topts.match != NULL) {
		run_step(r, "match", NULL, "reading the match code %s shows from standard input",
		    claimant);
		rc = transfer_read_code(STDIN_FILENO, r->wake[0], "match", 6, buf, len);
		if (rc == -1)
			return cli_error(r->cli, EXIT_NOINPUT, "no match code on standard input");
		return rc == 0 ? 0 : EXIT_NO;
	}
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return cli_error(r->cli, EXIT_USAGE, "no terminal to type the match code on: "
		    "give --match - to read it from standard input");
	dprintf(fd, "match code shown on %s: ", claimant);
	rc = transfer_read_code(fd, r->wake[0], "match", 6, buf, len);
	close(fd);
	if (rc == -1)
		return cli_error(r->cli, EXIT_DATAERR, "no 6-digit match code typed");
	return rc == 0 ? 0 : EXIT_NO;
}

/* Whether we have a controlling terminal to ask on. */
static int
run_has_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* Whether the origin's confirmation is required, and who the claimant is. */
static int
run_origin_confirms(struct client *c, const char *id, char *claimant, size_t len)
{
	struct client_err err = { 0 };
	cJSON *t = NULL, *n;
	int found = 0;

	snprintf(claimant, len, "%s", topts.to);
	if (transfer_get(c, id, &t, &err) != 0) {
		client_err_clear(&err);
		return 1;
	}
	if (json_str(t, "claimant") != NULL)
		snprintf(claimant, len, "%s", json_str(t, "claimant"));
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(t, "confirmations"), "required"))
		if (cJSON_IsString(n) && strcmp(n->valuestring, topts.from) == 0)
			found = 1;
	cJSON_Delete(t);
	return found;
}

static int
run_confirm(struct run *r, struct client *c, const char *id, const char *match)
{
	struct client_err err = { 0 };
	cJSON *body = cJSON_CreateObject(), *resp = NULL;
	char *path = xprintf("/v1/transfers/%s/confirm", id);
	int rc = 0;

	cJSON_AddStringToObject(body, "match", match);
	if (client_call(c, "POST", path, r->token, body, &resp, &err) != 0)
		rc = cli_fail(r->cli, id, &err);
	cJSON_Delete(body);
	cJSON_Delete(resp);
	free(path);
	return rc;
}

static void
run_event(const cJSON *ev, void *arg)
{
	struct run *r = arg;
	const char *state = json_str(ev, "state");
	cJSON *o = cJSON_CreateObject();

	if (state == NULL || strcmp(state, "failed") == 0 || strcmp(state, "completed") == 0) {
		cJSON_Delete(o);	/* run's own last step says how it ended */
		return;
	}
	if (json_str(ev, "claimant") != NULL)
		cJSON_AddStringToObject(o, "claimant", json_str(ev, "claimant"));
	run_step(r, state, o, "the transfer is %s", state);
}

/* Waits for want: 0, or an exit code (1 when the transfer ended otherwise) after saying why. */
static int
run_wait(struct run *r, struct client *c, const char *id, const char *want)
{
	struct transfer_wait w;
	struct client_err err = { 0 };
	int rc;

	memset(&w, 0, sizeof w);
	w.id = id;
	w.want = want;
	w.timeout_ms = r->cli->timeout_ms;
	w.on_event = run_event;
	w.arg = r;
	w.on_code = code_rotated;
	w.code_arg = &r->view;
	if ((rc = transfer_wait(c, &w, &err)) < 0)
		return cli_fail(r->cli, id, &err);
	if (rc == 0)
		return 0;
	if (run_signo(r) != 0)
		return EXIT_NO;		/* cancelled by the signal thread: run_finish says so */
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "reason", w.reason);
	run_step(r, "failed", o, NULL);
	return cli_error(r->cli, EXIT_NO, "the transfer %s%s%s", w.state, w.reason[0] ? ": " : "",
	    transfer_reason_text(w.reason));
}

/* After the request: show, prove, wait for the scan, confirm, wait for the switch. */
static int
run_flow(struct run *r, struct client *c, const char *id, const char *payload, const char *proof)
{
	char match[16], claimant[80];
	int rc;

	r->view.cli = r->cli;
	r->view.id = id;
	r->view.secret = r->token;
	r->view.output = topts.output;
	r->view.draw = isatty(STDOUT_FILENO) && !r->cli->json;
	r->view.print = !r->cli->json;
	if ((rc = code_show(&r->view, payload, NULL)) != 0)
		return rc;
	r->view.print = 1;	/* with --json, each new code is a line of its own */
	if (topts.output != NULL) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "file", topts.output);
		run_step(r, "shown", o, "the code is in %s", topts.output);
	} else
		run_step(r, "shown", NULL, NULL);
	if ((proof == NULL || strcmp(proof, "both") == 0) &&
	    (rc = run_displayer_proof(r, c, id, payload)) != 0)
		return rc;
	run_step(r, "waiting", NULL, "waiting for %s to scan the code", topts.to);
	if ((rc = run_wait(r, c, id, "verified")) != 0)
		return rc;
	if (run_origin_confirms(c, id, claimant, sizeof claimant)) {
		if ((rc = run_match(r, claimant, match, sizeof match)) != 0 ||
		    (rc = run_confirm(r, c, id, match)) != 0)
			return rc;
		run_step(r, "confirmed", NULL, "confirmed with the match code");
	}
	if ((rc = run_wait(r, c, id, "completed")) != 0)
		return rc;
	if (r->view.rc != 0)
		return r->view.rc;
	if (r->cli->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "state", "completed");
		cJSON_AddStringToObject(o, "session", r->sid);
		cJSON_AddStringToObject(o, "from", topts.from);
		cJSON_AddStringToObject(o, "to", claimant);
		run_step(r, "completed", o, NULL);
	} else if (r->cli->level >= 0)
		printf("session %s moved from %s to %s\n", r->sid, topts.from, claimant);
	return EXIT_OK;
}

/* The signals run answers by cancelling, blocked here and taken by a thread of their own. */
static int
run_start(struct run *r)
{
	sigemptyset(&r->sigs);
	sigaddset(&r->sigs, SIGINT);
	sigaddset(&r->sigs, SIGTERM);
	if (pipe2(r->wake, O_CLOEXEC) != 0)
		return cli_error(r->cli, EXIT_SOFTWARE, "pipe: %s", strerror(errno));
	pthread_mutex_init(&r->mu, NULL);
	if ((errno = pthread_sigmask(SIG_BLOCK, &r->sigs, NULL)) != 0 ||
	    (errno = pthread_create(&r->thread, NULL, run_signal_thread, r)) != 0)
		return cli_error(r->cli, EXIT_SOFTWARE, "cannot start a thread: %s", strerror(errno));
	r->threaded = 1;
	return 0;
}

/*
 * The end: a transfer that did not complete is cancelled, and an interrupted
 * run says so and exits 128 + the signal's number, as the shell's own would.
 */
static int
run_finish(struct run *r, int rc)
{
	struct client_err err = { 0 };
	int sig, cancelled;

	if (r->threaded && run_signo(r) == 0)
		pthread_cancel(r->thread);
	if (r->threaded)
		pthread_join(r->thread, NULL);
	sig = r->signo;
	cancelled = r->cancelled;
	if (r->id != NULL && (rc != 0 || sig != 0) && cancelled == 0)
		cancelled = run_cancel_call(r, r->id, &err) == 0 ? 1 : -1;
	client_err_clear(&err);
	if (sig != 0 && rc == 0)
		log_info("interrupted after the transfer completed");
	else if (sig != 0) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
		run_step(r, "cancelled", o, NULL);
		cli_error(r->cli, 128 + sig, "interrupted by %s: %s", sig == SIGINT ? "SIGINT" : "SIGTERM",
		    r->id == NULL ? "no transfer was started" : cancelled == 1 ?
		    "the transfer is cancelled" : "the transfer could not be cancelled");
		rc = 128 + sig;
	} else if (rc != 0 && r->id != NULL && cancelled == 1 && r->cli->level >= 0)
		fprintf(stderr, "%s: run %s: the transfer %s it started is cancelled\n", r->cli->prog,
		    r->sid, r->id);
	if (r->wake[0] > 0) {
		close(r->wake[0]);
		close(r->wake[1]);
	}
	pthread_mutex_destroy(&r->mu);
	return rc;
}

int
cmd_run(struct cli *cli, int argc, char **argv)
{
	struct run r;
	struct client *c = NULL;
	cJSON *resp = NULL, *t, *o;
	const char *id = NULL, *payload, *confirm;
	int rc;

	if (argc != 1)
		return cli_usage_error(cli, "expects one SESSION");
	if (topts.from == NULL || topts.to == NULL)
		return cli_usage_error(cli, "--from DEVICE and --to DEVICE are required");
	if ((rc = transfer_check_id(cli, argv[0], 'S', "session")) != 0)
		return rc;
	memset(&r, 0, sizeof r);
	r.cli = cli;
	r.sid = argv[0];
	if ((rc = cli_device_key(cli, topts.from, "token", r.sid, &r.token, NULL)) != 0)
		return rc;
	if ((rc = run_start(&r)) != 0 || (c = cli_client(cli)) == NULL) {
		rc = rc ? rc : EXIT_SOFTWARE;
		goto out;
	}
	if ((rc = transfer_push(cli, c, r.sid, topts.from, &resp)) != 0)
		goto out;
	t = cJSON_GetObjectItemCaseSensitive(resp, "transfer");
	if ((id = json_str(t, "id")) == NULL || (payload = json_str(resp, "payload")) == NULL) {
		rc = cli_error(cli, EXIT_PROTOCOL, "rtcs-serve returned no transfer or payload");
		goto out;
	}
	pthread_mutex_lock(&r.mu);
	r.id = id;
	pthread_mutex_unlock(&r.mu);
	if (run_signo(&r) != 0)
		goto out;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", id);	/* kept from the first versions' one object */
	cJSON_AddStringToObject(o, "payload", payload);
	cJSON_AddStringToObject(o, "session", r.sid);
	if (json_str(resp, "expires_at") != NULL)
		cJSON_AddStringToObject(o, "expires_at", json_str(resp, "expires_at"));
	run_step(&r, "requested", o, NULL);
	/* Unattended, the origin's confirmation needs the code on stdin: say so before any scan. */
	confirm = json_str(t, "confirm");
	if (confirm != NULL && (strcmp(confirm, "origin") == 0 || strcmp(confirm, "all") == 0) &&
	    topts.match == NULL && !run_has_tty()) {
		rc = cli_usage_error(cli, "the origin confirms with the match code the new device "
		    "shows, and there is no terminal to type it on: give --match - (read from "
		    "standard input), or --confirm none or peers");
		goto out;
	}
	rc = run_flow(&r, c, id, payload, json_str(t, "proof") ? json_str(t, "proof") : topts.proof);
out:
	rc = run_finish(&r, rc);
	cJSON_Delete(resp);
	client_free(c);
	free(r.token);
	return rc;
}
