/*
 * The client side of transfers shared by rtcs-transfer and rtcs-scan:
 * which secret a device shows for a transfer, submitting image data,
 * waiting for a state, and collecting the claimant's new channel token.
 * Nothing here prints or exits: failures come back in a client_err.
 */
#ifndef RTCS_CLIENT_TRANSFER_H
#define RTCS_CLIENT_TRANSFER_H
#include <stddef.h>
#include <cjson/cJSON.h>

struct client;
struct client_err;

/* States in order; "failed" is the one terminal failure (its reason says why). */
int	 transfer_state_rank(const char *state);	/* -1 if unknown */
int	 transfer_state_terminal(const char *state);
/* Whether state satisfies "--for want" (want "failed" only by failing). */
int	 transfer_state_reached(const char *state, const char *want);
/* A failed transfer's reason code in words ("" for ""; an unknown code as it is). */
const char *transfer_reason_text(const char *reason);

/*
 * The secret DEVICE presents for transfer id: its channel token for session
 * (if session is NULL or "", the transfer's session as the server knows it,
 * else the device's only token), else its claim secret for the transfer,
 * else none (*secret NULL, *kind "none"). *kind is "token", "claim" or "none".
 */
int	 transfer_device_secret(struct client *, const char *keys_dir, const char *device,
	    const char *session, const char *id, char **secret, const char **kind,
	    struct client_err *);

/* GET /v1/transfers/{id} as the operator: the transfer object (caller frees *out). */
int	 transfer_get(struct client *, const char *id, cJSON **out, struct client_err *);
/* The same with a secret (a claim's: a bound pull's object then has its "check"). */
int	 transfer_get_as(struct client *, const char *id, const char *secret, cJSON **out,
	    struct client_err *);

/*
 * GET /v1/transfers/{id}/code with the displayer's secret (a push origin's
 * token, a pull's claim): {id, payload, rotates_at, expires_at, rotate}.
 */
int	 transfer_get_code(struct client *, const char *id, const char *secret, cJSON **out,
	    struct client_err *);

/*
 * POST /v1/transfers/{id}/image for device: the decoded payload, or the PNG
 * bytes (png non-NULL: sent base64). *out is the answer {transfer, role,
 * match?, claim?}; a claim secret in it is stored in DEVICE.claim.
 */
int	 transfer_submit_image(struct client *, const char *keys_dir, const char *device,
	    const char *id, const char *secret, const char *payload,
	    const void *png, size_t pnglen, cJSON **out, struct client_err *);

/*
 * Where transfer t (its object, as transfer_get gives it) stands, as the
 * transfer.state event of id would tell it; *events_seq gets the event seq it
 * was read at, where a watcher of what comes next starts. Caller frees.
 */
cJSON	*transfer_now_event(const char *id, const cJSON *t, long long *events_seq);

/* A transfer.state event of the transfer being waited on (for progress or --json). */
typedef void (*transfer_event_cb)(const cJSON *event, void *arg);

struct transfer_wait {
	const char	*id;
	const char	*want;		/* a state; NULL: "completed" */
	long long	 timeout_ms;	/* 0: forever */
	transfer_event_cb on_event;	/* may be NULL */
	void		*arg;
	/*
	 * The claim secret of a pull's new device (may be NULL): once the
	 * origin's scan binds the offer, the check code is fetched with it and
	 * on_check called once.
	 */
	const char	*claim;
	void		(*on_check)(const char *check, void *arg);
	/* A transfer.code event of id (its code rotated; may be NULL). */
	void		(*on_code)(const cJSON *event, void *arg);
	void		*code_arg;
	/* Results. */
	char		 state[16];
	char		 reason[32];
	char		 check[8];
	/* Inside. */
	struct client	*client;
	long long	 events_seq;
};

/*
 * Waits on the server's event stream, from the event seq the transfer was
 * read at (not the log's start), until the transfer reaches w->want.
 * Returns 0 when it did, 1 when the transfer ended otherwise (w->state and
 * w->reason say how), -1 on error (exit 124 in *err on timeout).
 */
int	 transfer_wait(struct client *, struct transfer_wait *w, struct client_err *);

/*
 * For the claimant of a completed transfer: fetches the new channel's token
 * with the claim secret kept in DEVICE.claim, stores it in DEVICE.token for
 * the session and forgets the claim. *session_out (if asked) gets the session.
 * The server hands the token out once: if it cannot be stored, *lost gets it
 * (and *session_out the session) for the caller to print, and -1 is returned.
 */
int	 transfer_collect_token(struct client *, const char *keys_dir, const char *device,
	    const char *id, char **session_out, char **lost, struct client_err *);
/*
 * Stores a token the server hands out once in DIR/DEVICE.token for session
 * sid: 0, or -1 with *lost a copy of the token for the caller to print.
 */
int	 transfer_store_token(const char *keys_dir, const char *device, const char *sid,
	    const char *token, char **lost, struct client_err *);
/*
 * The target device of invite id collects its new sessions' tokens with the
 * owner secret kept in DEVICE.invite, storing each in DEVICE.token.
 * *sessions gets [{session, token?}] (token only when it could not be
 * stored); 0, or -1 with err.
 */
int	 invite_collect_tokens(struct client *, const char *keys_dir, const char *device,
	    const char *id, cJSON **sessions, struct client_err *);
#endif
