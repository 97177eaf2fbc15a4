/*
 * rtcs-serve's core: sessions, participants, channels, logs, transfers,
 * invites and the server's event log, kept on the store (common/store.h).
 * No HTTP in here: the API layer parses, calls in, and maps the status a
 * call ends with; the stream layer listens.
 *
 * One mutation rule: every change is computed from the current state, made
 * durable through the store, then applied in memory, then announced to the
 * listeners. A failed write changes nothing. Calls that change something
 * complete through a callback (with the flat-file store, before they return).
 *
 * Files, each calling only the ones after it: core_load.c (the core's life:
 * init, loading, recovery, checks, free), core_invite.c, core_transfer.c,
 * core_session.c, core.c (lookups, lanes, the event log, listeners).
 */
#ifndef RTCS_CORE_H
#define RTCS_CORE_H
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "payload_sign.h"
#include "store.h"
#include "strmap.h"
#include "transfer.h"

struct event_base;
struct event;

#define CORE_MAX_PARTICIPANTS	64
#define CORE_MAX_TEXT		(64 * 1024)
#define CORE_ALERT_WINDOW_MS	5000	/* one transfer.alert told per transfer per window */
#define CORE_MAX_OFFERS		64	/* live pull offers no origin has scanned yet */
#define CORE_MEDIA_FRAME_MAX	(128 * 1024)	/* one frame's bytes (decoded) */
#define CORE_MEDIA_RING_BYTES	(16u << 20)	/* a session's ring, frames as sent */
#define CORE_MEDIA_LEAD_MS	200		/* how far a sender may run ahead of the clock */
#define CORE_MEDIA_MIN_FRAME_MS	10		/* a frame counts this much at least: <= 100/s */
#define CORE_MEDIA_KINDS	4		/* media kinds per participant */
#define CORE_INVITE_MAX_USES	1024
#define CORE_INVITE_TTL_MS	(7LL * 86400 * 1000)	/* an invite's default lifetime */
#define CORE_INVITE_MAX_TTL_MS	(366LL * 86400 * 1000)

/* How a call ended; the API layer turns it into a status and an error code. */
enum core_err {
	CE_OK,
	CE_NOT_FOUND,		/* 404 not_found */
	CE_CONFLICT,		/* 409 conflict */
	CE_SESSION_ENDED,	/* 409 session_ended */
	CE_FORBIDDEN,		/* 403 forbidden */
	CE_REVOKED,		/* 401 unauthorized: the caller's channel closed meanwhile */
	CE_BAD_FIELD,		/* 400 bad_field */
	CE_GONE,		/* 410 gone */
	CE_TRANSFER,		/* the transfer refused: see te */
	CE_STORE,		/* 500: the store refused; nothing changed */
	CE_UNAVAILABLE,		/* 503: the store is broken; the server stops */
	CE_TOO_FAST,		/* 429 too_fast: a media sender ahead of the clock */
};

struct core_status {
	enum core_err	 err;
	enum transfer_err te;
	const char	*msg;		/* for people; valid during the callback */
};

/* Serializes the writes of one object: a change starts when the last one is done. */
struct core_op;
TAILQ_HEAD(core_opq, core_op);
struct core_lane {
	int		 busy;
	struct core_opq	 q;
};

struct core_session;
struct core_media;

struct core_channel {
	char		*id;
	struct core_session *session;
	char		*participant, *device;
	int		 open;
	char		*token_hash;		/* NULL once closed */
	int64_t		 opened_ms, closed_ms;
	char		*closed_reason, *closed_to;
	char		*opened_by;		/* the transfer that opened it */
	char		*token_box;		/* its token sealed to that transfer's claim, until first used */
	char		*claim_hash;		/* that claim secret's hash (a transfer's switch) */
	int		 clearing;		/* the box's removal is being written */
	uint64_t	 start_seq;		/* the first entry meant for it */
	uint64_t	 delivered_seq;		/* the highest entry written to one of its streams */
	uint64_t	 close_seq;		/* closed: the last entry its streams get */
	void		*lsn;			/* the stream layer's */
	uint64_t	 media_next;		/* the next ring frame meant for it */
	int64_t		 seen_ms;		/* its token's last use (memory only; -1: not since start) */
};

struct core_participant {
	char		*name;
	struct core_channel *channel;		/* the device speaking for it now */
};

struct core_session {
	struct core	*core;
	char		*id, *kind;
	int		 ended;
	int64_t		 created_ms, ended_ms;
	uint64_t	 rev;			/* its document's revision */
	uint64_t	 appended;		/* the last seq written */
	uint64_t	 durable;		/* the last seq durable: what reads and streams see */
	int		 appending;		/* appends in flight */
	struct core_participant *participants;
	size_t		 nparticipants;
	struct core_channel **channels;		/* every channel ever opened, in order */
	size_t		 nchannels;
	struct core_lane lane;
	struct store_watch *watch;
	void		*lsn;			/* the stream layer's */
	struct core_media *media;		/* its ring of relayed frames (core_media.c) */
};

/* A transfer as the core runs it: the record plus what lives only in memory. */
struct core_xfer {
	TAILQ_ENTRY(core_xfer) entry;		/* in core.xopen while not terminal */
	struct core	*core;
	struct transfer	 t;
	uint64_t	 rev;
	struct event	*timer;			/* expiry */
	struct event	*rotor;			/* the next rotation of its secret */
	char		*secret;		/* the code's secret in clear, memory only, while open */
	char		*claim;			/* the claim secret in clear, memory only */
	int64_t		 alert_at;		/* the last alert told (core_xfer_alert) */
	int		 alert_more;		/* alerts since, coalesced into the next */
	int		 open;
	uint64_t	 fenced_rev;		/* a shared store: its session's revision at the last fence */
	struct core_lane lane;
};
TAILQ_HEAD(core_xferq, core_xfer);

struct core_invite {
	char		 id[PAYLOAD_ID_LEN + 1];
	char		 to[NAME_MAX_LEN + 1];
	char		 name[NAME_MAX_LEN + 1];
	char		 kind[33];
	int64_t		 created_ms;
	char		 secret_hash[65];
	char		 owner_hash[65];
	char		 owner_pub[65];
	size_t		 nuses;			/* sessions it opened */
	size_t		 max_uses;		/* 0: any number (up to CORE_INVITE_MAX_USES) */
	int64_t		 expires_ms;		/* -1: never (an invite from before expiries) */
	int64_t		 revoked_ms;		/* -1: not revoked */
	uint64_t	 rev;
	struct core_lane lane;
};

/* A relayed media frame in a session's ring: never durable (core_media.c). */
struct core_frame {
	uint64_t	 id;			/* the ring's number, session-wide, from 1 */
	int64_t		 at_ms;			/* when it came (monotonic) */
	const char	*participant;		/* its sender */
	size_t		 len;
	char		 line[];		/* the JSON line streams write */
};

/*
 * What listeners hear, after it is durable (a media frame: as it comes).
 * Records, frames and json are valid during the call only.
 */
struct core_listener {
	void	*arg;
	void	(*entry)(void *arg, struct core_session *, const struct store_record *);
	void	(*event)(void *arg, const struct store_record *);
	void	(*closed)(void *arg, struct core_channel *);
	void	(*targeted)(void *arg, struct core_channel *, const char *json, size_t len);
	void	(*media)(void *arg, struct core_session *, const struct core_frame *);
	/* A shared store cannot be reached: what streams show may be stale. */
	void	(*unavailable)(void *arg);
	/* A session leaves memory (retention): what the stream layer keeps of it goes. */
	void	(*forget)(void *arg, struct core_session *);
};

struct core_config {
	long long	 code_ttl_ms;
	enum transfer_confirm confirm;
	enum transfer_proof proof;
	long long	 media_ring_ms;		/* how long a frame stays in its session's ring */
	char		 name[PAYLOAD_DESC_NAME_MAX + 1];	/* --name, "" if not given */
	long long	 rotate_ms;		/* codes' rotation period (0: off) */
	long long	 retain_ms;		/* what ended longer ago leaves the store (0: off) */
};

struct core {
	struct store	*store;
	struct event_base *base;
	struct core_config cfg;
	int		 readonly;
	struct strmap	*sessions;		/* id -> session */
	struct core_session **slist;		/* in creation order */
	size_t		 nsessions, scap;
	struct strmap	*channels;		/* id -> channel */
	struct strmap	*tokens;		/* token hash -> open channel */
	struct strmap	*transfers;		/* id -> xfer */
	struct core_xfer **xlist;
	size_t		 nxfers, xcap;
	struct core_xferq xopen;
	size_t		 nopen;
	struct strmap	*claims;		/* claim hash -> xfer */
	struct strmap	*invites;		/* id -> invite */
	struct strmap	*owners;		/* owner hash -> invite */
	struct core_invite **ilist;
	size_t		 ninvites, icap;
	uint64_t	 events_appended, events_durable;
	int		 events_appending;
	struct store_watch *events_watch;
	struct store_watch *peer_watch[3];	/* other servers' sessions, transfers, invites */
	struct event	*retain_ev;		/* the retention sweep (--retain) */
	struct core_lane events_lane;
	unsigned char	 match_key[32];		/* keyed hash of match codes (meta/keys) */
	int		 have_keys;
	int		 have_sign;		/* the signing key (meta/keys sign_seed) */
	char		 name[PAYLOAD_DESC_NAME_MAX + 1];	/* the server's name (meta/keys name) */
	unsigned char	 sign_pk[PAYLOAD_PK_BYTES], sign_sk[PAYLOAD_SK_BYTES];
	uint64_t	 keys_rev;
	const struct core_listener *lsn;
	void		*events_lsn;		/* the stream layer's */
	/* What a session's end does to its transfers (set by core_transfer.c). */
	void		(*session_ended)(struct core *, struct core_session *);
	void		(*broken)(void *arg);	/* the store broke: the server must stop */
	void		*broken_arg;
};

typedef void (*core_done_cb)(void *arg, const struct core_status *);

/* ---- core.c ---- */
void	 core_init(struct core *, struct store *, struct event_base *, const struct core_config *);
void	 core_listen(struct core *, const struct core_listener *);
void	 core_free(struct core *);
struct core_session *core_session_find(struct core *, const char *id);
struct core_channel *core_channel_by_token(struct core *, const char *token);
struct core_participant *core_participant(struct core_session *, const char *name);
/* The open channel of device in s, or NULL. */
struct core_channel *core_device_channel(struct core_session *, const char *device);
void	 core_channel_delivered(struct core_channel *, uint64_t seq);
/* Reads a page of a session's log (NULL: the server's events) from the store. */
void	 core_read(struct core *, struct core_session *, uint64_t from, size_t max_records,
	    size_t max_bytes, store_page_cb, void *arg);
uint64_t core_durable(struct core *, struct core_session *);
int64_t	 core_now_ms(void);
void	 core_time_json(cJSON *, const char *key, int64_t ms);

/* ---- core_session.c ---- */
cJSON	*core_session_json(const struct core_session *, int with_channels);
typedef void (*core_created_cb)(void *arg, const struct core_status *, struct core_session *,
	    char **tokens);
void	 core_session_create(struct core *, const char *kind, size_t n, const char *const names[],
	    const char *const devices[], core_created_cb, void *arg);
void	 core_session_end(struct core *, struct core_session *, core_done_cb, void *arg);
typedef void (*core_joined_cb)(void *arg, const struct core_status *, struct core_channel *,
	    const char *token);
void	 core_participant_add(struct core *, struct core_session *, const char *name,
	    const char *device, core_joined_cb, void *arg);
/* Closes device's open channel in s (reason "unlinked"): its token is revoked. */
void	 core_device_unlink(struct core *, struct core_session *, const char *device,
	    core_done_cb, void *arg);
/* Every channel of s, by participant, as GET .../devices shows them. */
cJSON	*core_devices_json(const struct core_session *);
/* A message (fields: kind and its body, taken over) from ch; *seq once durable. */
typedef void (*core_seq_cb)(void *arg, const struct core_status *, uint64_t seq);
void	 core_message(struct core *, struct core_channel *, cJSON *fields, core_seq_cb, void *arg);
/* The channel's token was used: a token still waiting to be collected is dropped. */
void	 core_channel_used(struct core *, struct core_channel *);

/* ---- core_transfer.c ---- */
struct core_xfer *core_xfer_find(struct core *, const char *id);
struct core_xfer *core_xfer_by_claim(struct core *, const char *secret);
cJSON	*core_xfer_json(struct core *, const struct core_xfer *);
/* The transfer's caller, as the state machine sees it. */
struct core_actor {
	struct core_channel *ch;	/* a device with a channel */
	struct core_xfer *claim;	/* the holder of this transfer's claim secret */
	const char	*device;	/* an unknown device: the name it gives */
	const char	*chosen_claim;	/* and the claim secret it chose, if any */
};
struct core_xfer_reply {
	char	*payload;		/* create: the code to show */
	char	*claim;			/* create (pull), image (push claimant): the claim secret */
	char	 role[16];		/* image */
	char	 match[8];		/* image, push claimant */
};
typedef void (*core_xfer_cb)(void *arg, const struct core_status *, struct core_xfer *,
	    const struct core_xfer_reply *);
void	 core_xfer_push(struct core *, struct core_channel *origin, const char *to,
	    long long ttl_ms, long long rotate_ms, int confirm, int proof, core_xfer_cb, void *arg);
/* How many pull offers are live and not yet bound by an origin's scan. */
size_t	 core_xfer_live_offers(const struct core *);
void	 core_xfer_pull(struct core *, const char *device, struct core_session *,
	    long long ttl_ms, long long rotate_ms, int confirm, int proof, core_xfer_cb, void *arg);
/*
 * The payload a displayer shows now (its rotating code's current secret):
 * 0 and *payload (caller frees), or -1 with st (not issued: bad state or over).
 */
int	 core_xfer_code(struct core *, struct core_xfer *, char **payload, struct core_status *);
/* decoded NULL: an uploaded image with no code (a failed attempt, as a wrong code is). */
void	 core_xfer_image(struct core *, struct core_xfer *, const struct core_actor *,
	    const char *decoded, core_xfer_cb, void *arg);
/* match: a push origin's 6 digits; check: a pull origin's 2 (shown by the new device). */
void	 core_xfer_confirm(struct core *, struct core_xfer *, struct core_channel *,
	    const char *match, const char *check, core_xfer_cb, void *arg);
void	 core_xfer_reject(struct core *, struct core_xfer *, const struct core_actor *,
	    core_xfer_cb, void *arg);
void	 core_xfer_cancel(struct core *, struct core_xfer *, core_xfer_cb, void *arg);
/* The new channel's token for the claim's holder, until the channel is first used. */
int	 core_xfer_token(struct core *, struct core_xfer *, const char *claim, char **token,
	    struct core_channel **, struct core_status *);
/* A lazy expiry check before a transfer is shown. */
void	 core_xfer_touch(struct core *, struct core_xfer *);
/* A device's stream started: the confirmation requests still open for it again. */
void	 core_channel_attached(struct core *, struct core_channel *);
void	 core_xfer_alert(struct core *, struct core_xfer *, const char *reason, const char *device);
void	 core_xfer_init(struct core *);

/* ---- core_invite.c ---- */
struct core_invite *core_invite_find(struct core *, const char *id);
struct core_invite *core_invite_by_owner(struct core *, const char *secret);
cJSON	*core_invite_json(const struct core_invite *, int with_secrets);
typedef void (*core_invite_cb)(void *arg, const struct core_status *, struct core_invite *,
	    const char *payload, const char *owner);
/* ttl_ms 0: CORE_INVITE_TTL_MS; max_uses 0: any number. */
void	 core_invite_create(struct core *, const char *to, const char *name, const char *kind,
	    long long ttl_ms, size_t max_uses, core_invite_cb, void *arg);
/* "active", or why a scan is refused: "revoked", "expired", "used_up". */
const char *core_invite_state(const struct core_invite *);
/* Revokes inv (persisted first); CE_GONE if it was revoked already. */
void	 core_invite_revoke(struct core *, struct core_invite *, core_done_cb, void *arg);
void	 core_invite_scan(struct core *, struct core_invite *, const char *payload,
	    const char *device, const char *name, core_created_cb, void *arg);
/* The target's tokens (an array of {session, device, token}) for the owner. */
typedef void (*core_json_cb)(void *arg, const struct core_status *, cJSON *);
void	 core_invite_sessions(struct core *, struct core_invite *, const char *owner,
	    core_json_cb, void *arg);

/* ---- core_media.c: the media path, beside the log ---- */
/* A frame as a device sends it; data is base64 of dlen bytes. */
struct core_frame_in {
	const char	*media;			/* a word: audio, video, ... */
	const char	*codec;			/* a word, or NULL */
	const char	*data;
	size_t		 dlen;
	int		 has_frame, has_pts;
	uint64_t	 frame;			/* the sender's frame number */
	int64_t		 pts;			/* ms on the sender's media timeline */
};
struct core_frame_out {
	uint64_t	 frame;
	int64_t		 pts;
	uint64_t	 id;			/* its place in the ring */
	long long	 retry_ms;		/* CE_TOO_FAST: when it would be taken */
};
/* Relays a frame from ch (no store, no callback): CE_OK, or why not. */
enum core_err core_media_frame(struct core *, struct core_channel *, const struct core_frame_in *,
	    struct core_frame_out *, struct core_status *);
/* The first frame from id on still in s's ring, or NULL. */
const struct core_frame *core_media_next(struct core_session *, uint64_t id);
/* Where a new media stream of ch starts in the ring. */
uint64_t core_media_start(struct core_channel *);
void	 core_media_delivered(struct core_channel *, uint64_t id);
/* The ring and every sender's last frame, as GET .../media shows them. */
cJSON	*core_media_json(struct core_session *);

/* ---- core_load.c ---- */
/*
 * Loads the store into the core; problem hears of every violation (fsck).
 * Returns the number of problems, or -1 with *err and *cause.
 */
int	 core_load(struct core *, void (*problem)(void *, const char *, const char *, int),
	    void (*note)(void *, const char *, const char *), void *arg, int check_files,
	    enum store_err *err, char **cause);
/* After a restart no transfer is left half-way (design.md 3.1). */
int	 core_recover(struct core *, char **cause);
#endif
