/*
 * The transfer state machine (design.md 3.1, 4): pure logic, no I/O. The
 * server resolves who is calling, feeds the calls in, persists the record
 * with transfer_to_json and performs the switch when a call returns commit.
 */
#ifndef RTCS_TRANSFER_H
#define RTCS_TRANSFER_H
#include <cjson/cJSON.h>

#include "names.h"
#include "payload.h"
#include "payload_sign.h"

#define TRANSFER_ATTEMPTS	5
#define TRANSFER_MAX_CONFIRM	64
#define TRANSFER_MATCH_LEN	6
#define TRANSFER_CHECK_LEN	2
#define TRANSFER_TOKEN_MAX	64
/* Rotating codes (design.md 7.1): the period's bounds, the grace of the previous secret. */
#define TRANSFER_ROTATE_MIN_S	2
#define TRANSFER_ROTATE_GRACE_MS	2000
/* Past secrets' hashes kept to answer code_rotated; older ones count as never valid. */
#define TRANSFER_PAST_SECRETS	16

enum transfer_state { TS_ISSUED, TS_SCANNED, TS_VERIFIED, TS_COMMITTING, TS_COMPLETED, TS_FAILED };
enum transfer_dir { TD_PUSH, TD_PULL };
enum transfer_proof { TP_BOTH, TP_SCANNER };
enum transfer_confirm { TC_NONE, TC_ORIGIN, TC_PEERS, TC_ALL };

/* What a call may fail with; transfer_err_code/_status give the wire form. */
enum transfer_err {
	TE_OK, TE_ENDED, TE_EXPIRED, TE_ALREADY_CLAIMED, TE_CODE_MISMATCH,
	TE_WRONG_DEVICE, TE_MATCH_MISMATCH, TE_FORBIDDEN, TE_BAD_STATE,
	TE_BURNT, TE_CONFLICT, TE_CHECK_MISMATCH, TE_NO_CODE, TE_CODE_ROTATED,
};

enum transfer_actor_kind { TA_ANON, TA_CHANNEL, TA_CLAIMANT };

/* Who calls, as resolved by the server from the Authorization header. */
struct transfer_actor {
	enum transfer_actor_kind kind;
	const char	*device;	/* channel's device, claimant, or the body's name */
	const char	*session;	/* TA_CHANNEL: the channel's session */
	const char	*participant;	/* TA_CHANNEL */
	const char	*channel;	/* TA_CHANNEL */
	const char	*claim;		/* TA_ANON: the claim secret it chose (checked), or NULL */
};

/* What the server knows of the session that the state machine needs. */
struct transfer_ctx {
	const char *const *peer_channels;	/* open channels of the other participants */
	const char *const *peer_devices;	/* and their devices, for people */
	size_t		 npeers;
	int		 claimant_in_session;	/* the would-be claimant already has a channel there */
};

struct transfer {
	char	id[PAYLOAD_ID_LEN + 1];
	char	session[PAYLOAD_ID_LEN + 1];		/* "" until a pull is bound */
	char	participant[NAME_MAX_LEN + 1];
	char	origin_device[NAME_MAX_LEN + 1];
	char	origin_channel[PAYLOAD_ID_LEN + 1];
	char	target[NAME_MAX_LEN + 1];		/* "" = any device */
	char	claimant[NAME_MAX_LEN + 1];		/* "" until the first valid scan (push) */
	enum transfer_dir	dir;
	enum transfer_proof	proof;
	enum transfer_confirm	confirm;
	enum transfer_state	state;
	char	reason[32];
	int	attempts_left;
	int	proof_displayer, proof_scanner;
	char	secret_hash[65], claim_hash[65], match_hash[65], image_hash[65];
	char	check_hash[65];		/* pull: the check code the new device shows (keyed hash) */
	char	check_box[96];		/* the same code sealed under the server's key, to show it */
	/* The public key the claim secret derives: any server seals the claimant's token to it. */
	char	claim_pub[65];
	/* Confirmers are channels (a device's name may come back on another channel). */
	char	required[TRANSFER_MAX_CONFIRM][PAYLOAD_ID_LEN + 1];
	char	required_device[TRANSFER_MAX_CONFIRM][NAME_MAX_LEN + 1];
	int	received[TRANSFER_MAX_CONFIRM];
	int	nrequired;
	long long created_at, expires_at, scanned_at, verified_at;
	long long committing_at, completed_at, failed_at;	/* ms since the epoch; 0 = not yet */
	char	new_channel[PAYLOAD_ID_LEN + 1];	/* the claimant's channel, once switched */
	/* Rotation: 0 = off; past[0] is the previous secret (valid until rotated_at + grace). */
	long long rotate_ms, rotated_at, rotates_at;
	char	past_hash[TRANSFER_PAST_SECRETS][65];
	int	npast;
};

/* Results of a call that the caller must act on (secrets in clear, once). */
struct transfer_result {
	int	 commit;			/* all conditions met: switch now */
	int	 alert;				/* raise transfer.alert on the origin */
	char	 role[16];			/* image: claimant, displayer, origin */
	char	 match[TRANSFER_MATCH_LEN + 1];	/* for the claimant, push, first scan */
	char	 check[TRANSFER_CHECK_LEN + 1];	/* pull, the origin's scan: for the new device */
	char	*claim;				/* new claim secret, caller frees */
	int	 state_changed;
};

/* Creates a push transfer (origin known) or a pull offer (claimant known). */
struct transfer *transfer_new_push(const struct transfer_actor *origin, const char *target,
	    enum transfer_proof, enum transfer_confirm, long long now, long long ttl_ms, char **secret);
struct transfer *transfer_new_pull(const char *device, const char *session,
	    enum transfer_proof, enum transfer_confirm, long long now, long long ttl_ms,
	    char **secret, char **claim);
char	*transfer_payload(const struct transfer *t, const char *secret);
/* Rotation every period_ms from now on (0: never) while the transfer is issued. */
void	 transfer_set_rotation(struct transfer *t, long long period_ms, long long now);
/*
 * Whether t's secret is due to be replaced now (issued, rotating, rotates_at
 * reached); transfer_rotate replaces it: the old hash goes first in the past
 * list, *secret gets the new one in clear (caller frees). -1 if not rotating.
 */
int	 transfer_rotation_due(const struct transfer *t, long long now);
int	 transfer_rotate(struct transfer *t, long long now, char **secret);

int	 transfer_terminal(const struct transfer *t);
int	 transfer_expire(struct transfer *t, long long now);
void	 transfer_fail(struct transfer *t, const char *reason, long long now);

/* decoded NULL: an uploaded image with no code in it, a failed attempt like a wrong code. */
enum transfer_err transfer_image(struct transfer *t, const struct transfer_actor *a,
	    const struct transfer_ctx *ctx, const char *decoded, long long now,
	    struct transfer_result *r);
/* match: the push origin's 6 digits; check: the pull origin's 2 (what the new device shows). */
enum transfer_err transfer_confirm(struct transfer *t, const struct transfer_actor *a,
	    const char *match, const char *check, long long now, struct transfer_result *r);
enum transfer_err transfer_reject(struct transfer *t, const struct transfer_actor *a, long long now);
enum transfer_err transfer_cancel(struct transfer *t, long long now);
int	 transfer_is_claim(const struct transfer *t, const char *claim_secret);
/* Whether the channel plays a part: origin, a confirmer, or the new channel. */
int	 transfer_involves(const struct transfer *t, const char *channel);

void	 transfer_begin_commit(struct transfer *t, long long now);
/* The switch is made: the claimant speaks through new_channel. */
void	 transfer_finish(struct transfer *t, const char *new_channel, long long now);
/*
 * The new channel's token kept, until it is collected, only sealed with the
 * claim secret (the store never holds the secret): hex; NULL if unsealable.
 */
char	*transfer_seal(const char *claim_secret, const char *token);
/* The same with only the claim's public key (hex, claim_pub): no secret needed. */
char	*transfer_seal_to(const char *claim_pub, const char *token);
/* The key of the match codes' keyed hash (the server's, from its store). */
void	 transfer_set_match_key(const unsigned char key[32]);
/* The server's public key, that signed codes are checked against (payload_sign.h). */
void	 transfer_set_sign_key(const unsigned char pk[PAYLOAD_PK_BYTES]);
char	*transfer_unseal(const char *claim_secret, const char *box);
/* A pull's check code in clear (for the claim's holder to show), or -1 before the origin scanned. */
int	 transfer_check_code(const struct transfer *t, char code[TRANSFER_CHECK_LEN + 1]);

const char *transfer_state_name(enum transfer_state);
const char *transfer_err_code(enum transfer_err);
int	 transfer_err_status(enum transfer_err);
int	 transfer_parse_proof(const char *, enum transfer_proof *);
int	 transfer_parse_confirm(const char *, enum transfer_confirm *);
/* A rotation period in seconds: 0 (off) or 2 to 86400; -1 with *cause otherwise. */
int	 transfer_parse_rotate(const char *, long long *secs, char **cause);
const char *transfer_proof_name(enum transfer_proof);
const char *transfer_confirm_name(enum transfer_confirm);

/* Public view (wire) or full record (store: with hashes and the sealed token). */
cJSON	*transfer_to_json(const struct transfer *t, int with_secrets);
struct transfer *transfer_from_json(const cJSON *j, char **cause);
void	 transfer_free(struct transfer *t);

#endif
