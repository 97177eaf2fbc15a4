/* What the core's own files share (core.h is what the other layers see). */
#ifndef RTCS_CORE_INT_H
#define RTCS_CORE_INT_H
#include <event2/util.h>

#include "core.h"

/* One change waiting for its object's lane. */
struct core_op {
	TAILQ_ENTRY(core_op) entry;
	void	(*run)(struct core_op *);
};

void	 lane_init(struct core_lane *);
/* Runs op now if the lane is idle, else after the changes before it. */
void	 lane_submit(struct core_lane *, struct core_op *);
/* The running change is done: the next one runs. */
void	 lane_done(struct core_lane *);

void	 status_set(struct core_status *, enum core_err, const char *msg);
/* A store error as a core error; a broken store also tells the server to stop. */
enum core_err core_store_err(struct core *);

/* The server's event log: appended after the change it tells of (best effort). */
void	 core_event(struct core *, const char *event, struct core_session *, cJSON *extra);
/*
 * An append (a message, a server event) that failed: the seq it took given
 * back. A shared store: with none in flight the next seq is after the last
 * durable, and a conflict (another server's entry first) is tried again
 * once this server has heard every write etcd acknowledged (store_barrier:
 * again(arg, ...)), a few times at most: 1 if it will be.
 */
int	 core_append_failed(struct core *, enum store_err, uint64_t seq, uint64_t *appended,
	    int appending, uint64_t durable, int *tries, store_done_cb again, void *arg);
/* Follows the event log's durable entries (anyone's): its last seq, its listeners. */
void	 core_events_watch(struct core *);
/* A shared store: other servers' documents are followed (core_peer.c). */
void	 core_peer_follow(struct core *);
/* A targeted event (not logged) for one channel's streams. */
void	 core_tell(struct core *, struct core_channel *, const cJSON *event);
cJSON	*core_targeted_new(const char *event, const char *transfer);
void	 core_announce_closed(struct core *, struct core_channel *);
/* Watches s's log: durable entries are announced. */
void	 core_session_watch(struct core *, struct core_session *);
void	 core_index_session(struct core *, struct core_session *);

/* ---- core_media.c, for core_session.c ---- */
/* A new channel is given the frames that come from now on. */
void	 core_media_opened(struct core_channel *);
/* A switch: to's media goes on where from's stopped (make before break). */
void	 core_media_moved(struct core_channel *from, struct core_channel *to);
void	 core_media_ended(struct core_session *);
void	 core_media_free(struct core_session *);

/* ---- core_session.c, for the transfer and invite engines and loading ---- */

/* A channel a change opens. */
struct chan_new {
	const char	*participant, *device;
	char		 id[PAYLOAD_ID_LEN + 1];
	char		*token;			/* in clear, for the caller (freed by it) */
	char		*token_hash;
	uint64_t	 start_seq;		/* 0: after the end of the log */
	const char	*opened_by;
	char		*token_box;
	const char	*claim_hash;		/* the claim that may collect it (a transfer's) */
};

/*
 * A change of one session: computed when its turn comes (prepare may still
 * refuse it then), written with its log entry, applied, announced; done last.
 */
struct session_change {
	struct core_op	 op;
	struct core	*core;
	struct core_session *s;
	int		 create;		/* s is new: its document is created */
	struct chan_new	*open;
	size_t		 nopen;
	struct core_channel *close;		/* a channel this change closes */
	const char	*close_reason, *close_to;
	int		 end;			/* every open channel closes: session_ended */
	struct core_channel *clear_box;		/* its token box goes (first use) */
	int64_t		 at;
	const char	*entry_type;		/* "event"; NULL: no log entry */
	uint64_t	 seq;			/* the entry's */
	/* Last checks when its turn comes, and the entry's fields: 0, or refused. */
	int		(*prepare)(struct session_change *, cJSON *entry, struct core_status *);
	void		(*done)(struct session_change *, const struct core_status *);
	void		*arg;
};

void	 session_change_init(struct session_change *, struct core *, struct core_session *);
void	 session_change_submit(struct session_change *);
void	 session_change_free(struct session_change *);
struct core_session *session_alloc(struct core *, const char *id, const char *kind);
void	 session_free(struct core_session *);
struct core_channel *channel_new(struct core_session *, const char *id,
	    const char *participant, const char *device);
void	 channel_free(struct core_channel *);
/* A new channel: fresh id and token, its hash; the token in clear in c->token. */
void	 chan_new_fill(struct chan_new *, const char *participant, const char *device);
void	 chan_new_free(struct chan_new *);
/* Parses a stored session document into memory (loading). */
int	 session_from_doc(struct core *, const cJSON *doc, uint64_t rev, char **cause);
/* A session removed from the store: out of memory too (-1: a change of it is in flight). */
int	 session_forget(struct core *, struct core_session *);
/* Another server's document of a session (a shared store): new, or newer than memory. */
int	 session_follow_doc(struct core *, const cJSON *doc, uint64_t rev, char **cause);

/* ---- core_transfer.c, for loading ---- */
int	 xfer_from_doc(struct core *, const cJSON *doc, uint64_t rev, char **cause);
void	 xfer_recover_one(struct core *, struct core_xfer *, struct core_channel *switched);
void	 xfer_free(struct core_xfer *);
/* A settled transfer removed from the store: out of memory too (-1: not settled, or busy). */
int	 xfer_forget(struct core *, struct core_xfer *);
/* Retention (--retain): the sweep starts (core_retain.c). */
void	 core_retain_start(struct core *);
/* Another server's record of a transfer (a shared store): new, or newer than memory. */
int	 xfer_follow_doc(struct core *, const cJSON *doc, uint64_t rev, char **cause);
/* The channel of x's session that x opened, if its switch is in the document. */
struct core_channel *core_xfer_switched(struct core *, const struct core_xfer *);

/* ---- core_invite.c, for loading ---- */
int	 invite_from_doc(struct core *, const cJSON *doc, uint64_t rev, char **cause);
void	 invite_count_uses(struct core *);
/* Another server's invite record (a shared store): new, or newer than memory. */
int	 invite_follow_doc(struct core *, const cJSON *doc, uint64_t rev, char **cause);
#endif
