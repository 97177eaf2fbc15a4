/* rtcs-session: the shared declarations of its commands. */
#ifndef RTCS_SESSION_H
#define RTCS_SESSION_H
#include <cjson/cJSON.h>

#include "cli.h"

enum {
	OPT_KIND = CLI_OPT_PROG,
	OPT_AS,
	OPT_SINCE,
	OPT_FOLLOW,
	OPT_STORE,
	OPT_STATE,
	OPT_SEND,
	OPT_RECEIVE,
	OPT_RESUME,
	OPT_VIDEO,
	OPT_LINGER,
	OPT_DURATION,
	OPT_TRANSFER,
};

/* The commands' own options, whichever command takes them. */
struct session_opts {
	const char	*kind;
	const char	*as;
	const char	*store;
	const char	*state;
	long long	 since;		/* -1: not given */
	int		 follow;
	const char	*send;		/* media: the audio file */
	const char	*receive;	/* media: the WAV file to write */
	const char	*video;		/* media: RATEfps:SIZE */
	int		 resume;
	const char	*transfer;	/* media: wait for it, collect the token, then go */
	long long	 linger_ms;	/* -1: not given */
	long long	 duration_ms;	/* 0: not given */
};
extern struct session_opts sopts;

int	cmd_new(struct cli *, int, char **);
int	cmd_join(struct cli *, int, char **);
int	cmd_list(struct cli *, int, char **);
int	cmd_show(struct cli *, int, char **);
int	cmd_end(struct cli *, int, char **);
int	cmd_log(struct cli *, int, char **);
int	cmd_send(struct cli *, int, char **);
int	cmd_attach(struct cli *, int, char **);
int	cmd_media(struct cli *, int, char **);
int	cmd_devices(struct cli *, int, char **);
int	cmd_unlink(struct cli *, int, char **);

/* NAME@DEVICE[:KEYDIR] split in place; 0, or 64 after printing why. */
int	session_spec(struct cli *, char *spec, char **name, char **device, char **keydir);
/* 0 if id is a session id, else 65 after printing why. */
int	session_check_id(struct cli *, const char *id);
/* The path of a device's stream of session sid, from --since if given. */
char	*session_stream_path(const char *sid);

struct client;
struct client_err;

/* What a stream or log printer saw; its callback is print_stream_line. */
struct stream_state {
	int		 json;
	int		 stop_on_end;	/* stop after a session.ended entry */
	int		 closed;	/* channel.closed seen: the stream's last line */
	char		 reason[32];
	long long	 last_seq;
	/*
	 * attach: the device's own client, token and the command prefix of its
	 * hints, to tell a confirmation request's origin from a peer.
	 */
	struct client	*lookup;
	const char	*token;
	const char	*hint;		/* "rtcs-transfer [-S SOCK] [--keys DIR]" */
};
int	print_stream_line(cJSON *line, void *arg);
/* The exit code for a stream that ended: 0 when it closed for good. */
int	stream_exit(struct cli *, const char *what, const struct stream_state *, int rc,
	    struct client_err *);
/* Sends one text message as the device; 0 with *seq, or -1 with *err. */
int	session_send_text(struct client *, const char *sid, const char *device,
	    const char *token, const char *text, long long *seq, struct client_err *);

/*
 * --store: every session of the store, by id, as the server shows them, and
 * the log of log_sid (if not NULL) after --since: 0, or an exit code.
 */
int	session_store_load(struct cli *, const char *log_sid, cJSON **sessions, cJSON **log);

/* Printing, whatever the object came from (server or store). */
void	print_json(const cJSON *);
void	print_entry(const cJSON *entry);
/* The same with what a stream knows (hints that paste; NULL: none). */
void	print_entry_in(const cJSON *entry, const struct stream_state *);
void	print_session(const cJSON *session);
void	print_session_line(const cJSON *session);
#endif
