/*
 * The command table of the client programs (git/tmux style): common
 * options everywhere, one exec function per command, usage errors as one line.
 */
#ifndef RTCS_CLI_H
#define RTCS_CLI_H
#include <getopt.h>
#include <stdio.h>

/* Long-only common options; programs number their own from CLI_OPT_PROG. */
enum {
	CLI_OPT_KEYS = 1000,
	CLI_OPT_JSON,
	CLI_OPT_TIMEOUT,
	CLI_OPT_PROG = 1100,
};

struct cli;

struct cli_cmd {
	const char	*name;
	const char	*usage;		/* what follows the name */
	const char	*summary;
	const char	*shortopts;	/* the command's own short options, getopt syntax */
	const struct option *opts;	/* its own long options, {0}-terminated, or NULL */
	int		(*exec)(struct cli *, int argc, char **argv);
};

struct cli {
	const char	*prog;
	const struct cli_cmd *cmds;	/* terminated by a NULL name */
	const char	*options_help;	/* lines describing the programs' own options */
	/* A program option (val from its struct option): 0, or an exit code. */
	int		(*opt)(struct cli *, int val, const char *arg);

	/* Common options, filled by cli_main. */
	const char	*socket;
	const char	*keys;
	int		 json;
	int		 level;		/* log level: -q / -v */
	long long	 timeout_ms;	/* 0 if not given */
	const struct cli_cmd *cmd;
	const char	*object;	/* the id the command acts on, for messages */
};

struct client;
struct client_err;

/* Parses options, runs the command and returns the exit code. */
int	cli_main(struct cli *, int argc, char **argv);
/* Prints "prog: message (see prog --help)" on stderr and returns 64. */
int	cli_usage_error(const struct cli *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The client for -S / $RTCS_SOCKET with --timeout; NULL after printing why. */
struct client *cli_client(struct cli *);
/*
 * Every error is one line "prog: WHAT: WHY" on stderr. WHAT is the command
 * and the id it acts on ("confirm T..."; cli->object, or id if not NULL);
 * WHY never repeats that id and never shows a raw server code.
 */
/* A failed call: prints it and returns its exit code (err is cleared). */
int	cli_fail(struct cli *, const char *id, struct client_err *);
/* The same for a program without a command table (rtcs-scan's submit mode). */
int	cli_fail_as(const char *prog, const char *what, const char *id, struct client_err *);
/* Prints "prog: what: msg" (what NULL: "prog: msg") on stderr. */
void	cli_print(const char *prog, const char *what, const char *msg);
/* Prints "prog: WHAT: message" on stderr and returns exit. */
int	cli_error(const struct cli *, int exit, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Why a call failed, for people: the server's words without the id, or ours for its code. */
char	*cli_why(const struct client_err *, const char *id);
/*
 * "PROG [-S SOCKET] [--keys DIR]" for a hint line that pastes in another
 * terminal: the socket and key directory given on our command line, made absolute.
 */
char	*cli_hint_prefix(const char *prog, const char *socket, const char *keys);
/* The key directory (--keys, $RTCS_KEYS, default), newly allocated. */
char	*cli_keys_dir(const struct cli *);
/*
 * DEVICE's secret for key (a session or transfer id; NULL: its only one) from
 * DIR/DEVICE.ext ("token" or "claim"): 0, or an exit code after printing why
 * (66 when the device has no such key). *key_out gets the key if asked.
 */
int	cli_device_key(const struct cli *, const char *device, const char *ext,
	    const char *key, char **value, char **key_out);
/* Writes (value) or removes (NULL) a key: 0, or an exit code after printing why. */
int	cli_device_put(const struct cli *, const char *device, const char *ext,
	    const char *key, const char *value);
/* The same in the key directory keydir (NULL: the one of --keys). */
int	cli_device_put_in(const struct cli *, const char *keydir, const char *device,
	    const char *ext, const char *key, const char *value);
#endif
