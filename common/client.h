/*
 * The HTTP client of rtcs-serve: libcurl over the UNIX socket, JSON bodies
 * in and out, and the one place where a failed call becomes an exit code.
 */
#ifndef RTCS_CLIENT_H
#define RTCS_CLIENT_H
#include <stdatomic.h>

#include <cjson/cJSON.h>

#define CLIENT_DEFAULT_TIMEOUT_MS	30000
#define CLIENT_MAX_BODY		(16 * 1024 * 1024)	/* one response body */
#define CLIENT_MAX_LINE		(2 * 1024 * 1024)	/* one line of a stream */

struct client;

/* Why a call failed: the exit code to use (exitcode.h) and a line for people. */
struct client_err {
	int	 exit;
	long	 status;	/* HTTP status, 0 if there was no answer */
	char	 code[48];	/* the server's error code, "" if none */
	char	*msg;		/* owned; no program name, no newline */
};

/* A stream line handler: 0 reads on, any other value stops the stream and is returned. */
typedef int (*client_line_cb)(cJSON *line, void *arg);

struct client *client_new(const char *socket_path, long long timeout_ms);
void	 client_free(struct client *);
const char *client_socket(const struct client *);

/*
 * One request. path starts with "/v1/"; token NULL makes an operator call;
 * body may be NULL. On 2xx returns 0 and *out (if out) holds the parsed
 * object (NULL for an empty body). Otherwise -1 and *err is filled.
 */
int	 client_call(struct client *, const char *method, const char *path,
	    const char *token, const cJSON *body, cJSON **out, struct client_err *err);

/*
 * GET of a JSON Lines stream: each line is parsed and handed to cb (which
 * owns nothing: the object is freed after the call). timeout_ms 0 waits
 * forever. Returns 0 when the server ended the stream, the callback's value
 * when it stopped it, -1 on error (*err filled; exit 124 on timeout).
 */
int	 client_stream(struct client *, const char *path, const char *token,
	    long long timeout_ms, client_line_cb cb, void *arg, struct client_err *err);

/*
 * Another thread's way to end a stream: once *stop is non-zero, a
 * client_stream on this handle returns 0 within about a second, as if the
 * server had ended it.
 */
void	 client_set_stop(struct client *, const atomic_int *stop);

/* The exit code for an HTTP status and the server's error code (may be NULL). */
int	 client_exit_for(long status, const char *code);
/* Fills err with a local failure (exit code and message). */
void	 client_err_set(struct client_err *, int exit, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 client_err_clear(struct client_err *);
#endif
