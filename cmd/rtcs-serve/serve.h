/* rtcs-serve: the objects and functions shared by the server's files. */
#ifndef RTCS_SERVE_H
#define RTCS_SERVE_H
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "store.h"
#include "strmap.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#define SERVE_MAX_HEADERS	(8 * 1024)
#define SERVE_MAX_BODY		(1024 * 1024)
#define SERVE_MAX_PARTICIPANTS	64
#define SERVE_MAX_TEXT		(64 * 1024)
#define SERVE_MAX_MEDIA		(768 * 1024)
#define SERVE_STREAM_BACKLOG	(8u << 20)	/* unread stream output before a reader is dropped */

enum confirm_policy { CONFIRM_NONE, CONFIRM_ORIGIN, CONFIRM_PEERS, CONFIRM_ALL };
enum proof_policy { PROOF_BOTH, PROOF_SCANNER };

struct config {
	const char *socket_opt;
	const char *store_opt;
	char	*socket_path;
	char	*store_path;
	int	 ready_fd;
	long long code_ttl_ms;		/* for the transfer engine */
	enum confirm_policy confirm;
	enum proof_policy proof;
	enum store_sync sync;
	int	 idle_timeout_s;
	int	 max_connections;
	int	 max_open_logs;
	int	 fsck;
	int	 json;
};

struct stream;
TAILQ_HEAD(streamq, stream);
struct transfer;
struct invite;

/* A transfer as the server runs it: the pure record plus what lives only in memory. */
struct xfer {
	TAILQ_ENTRY(xfer) entry;	/* in server.xopen while not terminal */
	struct server *srv;
	struct transfer *t;
	uint64_t rev;			/* its document's revision in the store */
	struct event *timer;		/* expiry */
	char	*claim;			/* the claim secret in clear, memory only, until the switch */
	int	 open;
};
TAILQ_HEAD(xferq, xfer);

struct channel {
	char	*id;
	struct session *session;
	char	*participant;
	char	*device;
	int	 open;
	char	*token_hash;		/* NULL once revoked */
	int64_t	 opened_ms, closed_ms;
	char	*closed_reason;
	char	*closed_to;		/* device the session moved to, if transferred */
	uint64_t start_seq;		/* default stream start: first entry meant for it */
	uint64_t delivered_seq;		/* highest log seq written to one of its streams */
	uint64_t close_seq;		/* last entry its streams get before channel.closed */
	struct streamq streams;
};

struct participant {
	char	*name;
	struct channel *channel;	/* the device currently speaking for it */
};

/* An append whose result may come at once (in the call) or at the group commit. */
struct append_wait {
	int	 active;		/* inside store_append: a result now is the call's */
	enum store_err err;
	char	*cause;
};

struct session {
	struct server *srv;
	char	*id;
	uint64_t rev;			/* its document's revision in the store */
	char	*kind;
	int	 ended;
	int64_t	 created_ms, ended_ms;
	struct participant *participants;
	size_t	 nparticipants;
	struct channel **channels;	/* every channel ever opened, in order */
	size_t	 nchannels;
	char	**log;			/* log[seq - 1]: the JSON text of entry seq */
	uint64_t last_seq;		/* appended */
	uint64_t durable_seq;		/* acknowledged: streams deliver up to here */
	struct streamq followers;	/* GET .../log?follow=1 */
	size_t	 logcap;
	struct append_wait aw;
};

struct stream {
	TAILQ_ENTRY(stream) entry;
	struct server *srv;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct conn *conn;
	struct channel *channel;	/* NULL: the server event stream or a followed log */
	struct session *logof;		/* a followed session log (operator) */
	int	 sse;
	uint64_t next_seq;		/* the next entry to write */
	struct event *keepalive;
};

/* One client connection, known from its first request on. */
struct conn {
	struct server *srv;
	struct evhttp_connection *evcon;
	char	 key[32];
	struct stream *stream;
};

/* A reply waiting for the group commit (--sync batch). */
struct pending {
	TAILQ_ENTRY(pending) entry;
	struct evhttp_request *req;
	int	 status;
	struct evbuffer *body;
};
TAILQ_HEAD(pendingq, pending);

struct server {
	struct config *cfg;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct store *store;
	int	 lockfd;
	int64_t	 started_ms;
	int	 stopping;

	struct strmap *sessions;	/* id -> session */
	struct session **slist;		/* in creation order */
	size_t	 nsessions, scap;
	struct strmap *tokens;		/* token hash -> open channel */
	struct strmap *channels;	/* channel id -> channel */
	struct strmap *transfers;	/* transfer id -> xfer */
	struct xfer **xlist;		/* in creation order */
	size_t	 nxfers, xcap;
	struct xferq xopen;		/* transfers not terminal yet */
	size_t	 nopen;
	struct strmap *claims;		/* claim secret hash -> xfer */
	struct strmap *invites;		/* invite id -> invite */
	struct strmap *owners;		/* owner secret hash -> invite */
	struct invite **ilist;
	size_t	 ninvites, icap;
	struct strmap *fails;		/* peer uid -> failed-attempt window (rate limit) */

	char	**events;		/* events[seq - 1] */
	uint64_t nevents, events_durable;
	size_t	 eventcap;
	struct append_wait events_aw;
	struct streamq followers;	/* GET /v1/events?follow=1 */

	struct strmap *conns;		/* "%p" of evcon -> conn */
	size_t	 nstreams;
	struct pendingq pending;
	struct event *commit_ev;
	struct event *shutdown_ev;
	struct event *accept_resume;
	struct event *sig_term, *sig_int, *sig_hup, *sig_pipe;
};

/* A request being handled. */
struct req {
	struct server *srv;
	struct evhttp_request *r;
	const char *param;		/* the {id} of the path, if any */
	char	 parambuf[64];
	struct evkeyvalq query;
	struct channel *ch;		/* the calling device; NULL for the operator */
	struct xfer *claim;		/* AUTH_XFER: the transfer whose claim secret was presented */
	struct invite *owner;		/* AUTH_XFER: the invite whose owner secret was presented */
	const char *bearer;		/* the presented secret (claim/owner), NULL otherwise */
	unsigned int uid;		/* the peer's uid (SO_PEERCRED) */
	int64_t	 t0;			/* when handling began (ns, monotonic) */
	cJSON	*body;
};

/* main.c */
extern const char *const confirm_names[];
extern const char *const proof_names[];

/* server.c */
int	 server_run(struct server *, char **cause, int *exitcode);
void	 server_commit_soon(struct server *);
void	 server_commit_now(struct server *);

/* http.c */
void	 http_dispatch(struct evhttp_request *, void *);
void	 http_reply(struct req *, int status, cJSON *body);	/* frees body */
void	 http_error(struct req *, int status, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	 http_reply_raw(struct server *, struct evhttp_request *, int status,
	    struct evbuffer *);
void	 http_flush_pending(struct server *);
const char *http_query(struct req *, const char *key);
int	 http_query_seq(struct req *, const char *key, uint64_t dflt, uint64_t *out);
void	 conn_closed(struct evhttp_connection *, void *);

/* model.c */
int64_t	 now_ms(void);
void	 time_format(int64_t ms, char out[32]);
void	 json_add_time(cJSON *, const char *key, int64_t ms);
int	 model_load(struct server *, enum store_err *, char **cause);
struct session *session_new(struct server *, const char *kind);
void	 session_discard(struct server *, struct session *);
struct session *session_find(struct server *, const char *id);
struct participant *session_participant(struct session *, const char *name);
struct channel *session_device_channel(struct session *, const char *device);
struct channel *channel_open(struct server *, struct session *, const char *participant,
	    const char *device, char **token);
struct channel *channel_open_as(struct server *, struct session *, const char *participant,
	    const char *device, const char *id, const char *token);
void	 channel_revoke(struct server *, struct channel *);
void	 channel_free(struct channel *);
cJSON	*session_json(const struct session *, int with_channels, int with_secrets);
int	 server_put_doc(struct server *, enum store_kind, const char *id, uint64_t *rev,
	    const cJSON *doc, const struct store_then *, char **cause);
int	 session_save(struct server *, struct session *, char **cause);
int	 session_commit(struct server *, struct session *, cJSON *doc, cJSON *entry,
	    char **cause);
cJSON	*session_ended_doc(struct session *, int64_t ms);
void	 session_mark_ended(struct server *, struct session *, int64_t ms);
void	 channel_unopen(struct server *, struct channel *);
void	 after_commit_failed(const char *what, const char *id, char *cause);
cJSON	*entry_new(struct session *, const char *type);
int	 session_append(struct server *, struct session *, cJSON *entry, uint64_t *seq,
	    char **cause);
int	 server_event(struct server *, const char *event, struct session *, cJSON *extra,
	    char **cause);
void	 model_free(struct server *);

/* api_sessions.c */
struct session *session_create(struct server *, const char *kind, size_t n,
	    const char *const names[], const char *const devices[], char *tokens[], char **cause);
void	 api_version(struct req *);
void	 api_health(struct req *);
void	 api_session_create(struct req *);
void	 api_session_list(struct req *);
void	 api_session_show(struct req *);
void	 api_session_end(struct req *);
void	 api_participant_add(struct req *);
void	 api_message_send(struct req *);
void	 api_session_log(struct req *);

/* api_stream.c */
void	 api_stream(struct req *);
struct stream *stream_start(struct req *, struct channel *, struct session *logof,
	    uint64_t next_seq);
void	 stream_line(struct stream *, struct evbuffer *, const char *json, size_t len);
int	 stream_send(struct stream *, struct evbuffer *);
void	 stream_end(struct stream *, struct evbuffer *last);
void	 stream_wake_session(struct session *);
void	 stream_flush_log(struct stream *);
void	 stream_send_targeted(struct channel *, cJSON *event);
void	 channel_mark_closed(struct server *, struct channel *, const char *reason,
	    const char *to, uint64_t close_seq);
void	 channel_close(struct server *, struct channel *, const char *reason, const char *to);
struct channel *channel_handover(struct server *, struct channel *old, const char *device,
	    const char *transfer, char **token, char **cause);
struct channel *channel_handover_as(struct server *, struct channel *old, const char *device,
	    const char *transfer, const char *id, const char *token, char **cause);
void	 stream_drop(struct stream *);
void	 stream_shutdown_all(struct server *);

/* api_events.c */
void	 api_events(struct req *);
void	 events_wake(struct server *);


/* xfer.c */
void	 xfer_init(struct server *);
struct xfer *xfer_find(struct server *, const char *id);
struct xfer *xfer_add(struct server *, struct transfer *, char *claim);
int	 xfer_save(struct server *, struct xfer *, char **cause);
int	 xfer_settle(struct server *, struct xfer *, int prev_state, int prev_attempts,
	    char **cause);
void	 xfer_alert(struct server *, struct xfer *, const char *reason, const char *device);
void	 xfer_arm(struct server *, struct xfer *);
int	 xfer_commit(struct server *, struct xfer *, char **cause);
void	 xfer_session_ended(struct server *, struct session *);
void	 xfer_stream_started(struct server *, struct channel *);
int	 xfer_load(struct server *, const cJSON *doc, uint64_t rev, char **cause);
int	 xfer_check(struct server *, void (*problem)(void *, const char *, const char *, int));
int	 xfer_recover(struct server *, char **cause);
void	 xfer_free_all(struct server *);
int	 ratelimit_check(struct server *, unsigned int uid, int *retry_after);
int	 http_rate_limited(struct req *);
void	 ratelimit_fail(struct server *, unsigned int uid);

/* api_transfers.c */
void	 api_transfer_create(struct req *);
void	 api_transfer_list(struct req *);
void	 api_transfer_show(struct req *);
void	 api_transfer_cancel(struct req *);
void	 api_transfer_image(struct req *);
void	 api_transfer_confirm(struct req *);
void	 api_transfer_reject(struct req *);
void	 api_transfer_token(struct req *);

/* api_invites.c */
void	 api_invite_create(struct req *);
void	 api_invite_scan(struct req *);
void	 api_invite_sessions(struct req *);
int	 invite_load(struct server *, const cJSON *doc, uint64_t rev, char **cause);
void	 invite_free_all(struct server *);

/* fsck.c */
int	 fsck_run(struct config *);
#endif
