/* The API's endpoints (api_*.c): each parses its request, calls the core, answers. */
#ifndef RTCS_SERVE_API_H
#define RTCS_SERVE_API_H
#include "reply.h"

/* api_sessions.c */
void	 api_version(struct req *);
void	 api_health(struct req *);
void	 api_session_create(struct req *);
void	 api_session_list(struct req *);
void	 api_session_show(struct req *);
void	 api_session_end(struct req *);
void	 api_participant_add(struct req *);
void	 api_devices(struct req *);
void	 api_device_unlink(struct req *);
void	 api_message_send(struct req *);

/* api_media.c */
void	 api_media_send(struct req *);
void	 api_media_show(struct req *);

/* api_transfers.c */
void	 api_transfer_create(struct req *);
void	 api_transfer_list(struct req *);
void	 api_transfer_show(struct req *);
void	 api_transfer_cancel(struct req *);
void	 api_transfer_image(struct req *);
void	 api_transfer_confirm(struct req *);
void	 api_transfer_reject(struct req *);
void	 api_transfer_token(struct req *);
void	 api_transfer_code(struct req *);

/* api_invites.c */
void	 api_invite_create(struct req *);
void	 api_invite_scan(struct req *);
void	 api_invite_sessions(struct req *);
void	 api_invite_list(struct req *);
void	 api_invite_revoke(struct req *);

/*
 * ratelimit.c: the budget of failed guesses, per channel, per claim, and one
 * for every call with no secret (design.md 8.1). http_rate_limited: 0 if the
 * call may go on (always for a live transfer x with attempts left), else 1
 * after answering 429 with Retry-After. ratelimit_fail counts a failed guess.
 */
int	 http_rate_limited(struct req *, const struct core_xfer *x);
void	 ratelimit_fail(struct req *);
#endif
