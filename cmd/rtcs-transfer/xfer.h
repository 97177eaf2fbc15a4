/* rtcs-transfer: the shared declarations of its commands. */
#ifndef RTCS_XFER_H
#define RTCS_XFER_H
#include <cjson/cJSON.h>

#include "cli.h"

enum {
	OPT_AS = CLI_OPT_PROG,
	OPT_TO,
	OPT_TTL,
	OPT_CONFIRM,
	OPT_PROOF,
	OPT_SESSION,
	OPT_MATCH,
	OPT_FOR,
	OPT_FROM,
	OPT_NAME,
	OPT_KIND,
	OPT_STATE,
	OPT_SINCE,
	OPT_UPLOAD,
	OPT_WAIT,
	OPT_CHECK,
	OPT_USES,
	OPT_FOLLOW,
	OPT_ROTATE,
};

struct transfer_opts {
	const char	*as;
	const char	*to;
	const char	*from;
	const char	*confirm;
	const char	*proof;
	const char	*session;
	const char	*match;
	const char	*check;		/* confirm --check: a pull's 2-digit check code */
	const char	*want;		/* --for */
	const char	*name;
	const char	*kind;
	const char	*state;
	const char	*output;	/* -o FILE */
	long long	 ttl_ms;	/* 0: the server's default */
	long long	 since;		/* -1: not given */
	long long	 uses;		/* invite --uses: 0, any number */
	long long	 rotate;	/* request, run --rotate S: -1 the server's */
	int		 follow;	/* request --follow: redraw the code until it is scanned */
	int		 upload;	/* submit: the PNG on stdin */
	int		 wait;		/* submit: until the transfer ends */
};
extern struct transfer_opts topts;

/* A code on show (code.c): where and how it is shown again when it rotates. */
struct code_view {
	struct cli	*cli;
	const char	*id;
	const char	*secret;	/* the displayer's, for GET .../code */
	const char	*output;	/* -o FILE: a PNG, replaced atomically */
	int		 draw;		/* drawn on the terminal, redrawn in place */
	int		 print;		/* else the payload printed (a JSON line with --json) */
	int		 drawn;		/* lines of the last drawing */
	int		 rc;		/* the last redraw's exit code */
};
int	code_show(struct code_view *, const char *payload, const char *rotates_at);
/* transfer_wait's on_code: fetch the new code and show it. */
void	code_rotated(const cJSON *event, void *arg);

int	cmd_request(struct cli *, int, char **);
int	cmd_offer(struct cli *, int, char **);
int	cmd_invite(struct cli *, int, char **);
int	cmd_show(struct cli *, int, char **);
int	cmd_list(struct cli *, int, char **);
int	cmd_confirm(struct cli *, int, char **);
int	cmd_reject(struct cli *, int, char **);
int	cmd_cancel(struct cli *, int, char **);
int	cmd_wait(struct cli *, int, char **);
int	cmd_watch(struct cli *, int, char **);
int	cmd_run(struct cli *, int, char **);
int	cmd_submit(struct cli *, int, char **);
int	cmd_explain(struct cli *, int, char **);
/* invite collect|list|revoke (argv[0] is the word). */
int	invite_subcommand(struct cli *, int, char **);

/* 0 if id looks like an id with this prefix letter, else 65 after printing why. */
int	transfer_check_id(struct cli *, const char *id, char prefix, const char *what);
/* POST /v1/transfers (push) as the origin: the answer in *resp, or an exit code. */
int	transfer_push(struct cli *, struct client *, const char *sid, const char *origin,
	    cJSON **resp);
/*
 * Reads lines of fd until one carries a code of that many digits as its last
 * word ("123456", "match code: 123456") or as a JSON object's member key:
 * 0, -1 at the end of fd, -2 when wake (-1: none) becomes readable.
 */
int	transfer_read_code(int fd, int wake, const char *key, size_t digits, char *out,
	    size_t len);
/* Renders payload with rtcs-code: "-t png -o FILE", or on the terminal. */
int	transfer_render(struct cli *, const char *payload, const char *png_file, int terminal);
/* --as DEVICE's secret for transfer id (token for its session, or claim): 0 or an exit code. */
int	transfer_secret(struct cli *, struct client *, const char *device, const char *id,
	    char **secret);
/*
 * Waits for want; prints progress (and, given a pull's claim secret, the
 * check code once bound; given a code on show, each new code); 0 reached, 1 the transfer ended otherwise, else an
 * exit code.
 */
int	transfer_wait_for(struct cli *, struct client *, const char *id, const char *want,
	    const char *claim, struct code_view *view, char *state, size_t statelen);

void	print_json(const cJSON *);
void	print_transfer(const cJSON *t);
void	print_transfer_line(const cJSON *t);
void	print_event(const cJSON *ev);
#endif
