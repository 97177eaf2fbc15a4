/* Invite codes (design.md 4.5): a printed code that starts a session with a named device. */
#include <stdlib.h>

#include "serve.h"

void
api_invite_create(struct req *rq)
{
	http_error(rq, 501, "not_implemented", "invites are not implemented yet");
}

void
api_invite_scan(struct req *rq)
{
	http_error(rq, 501, "not_implemented", "invites are not implemented yet");
}

void
api_invite_sessions(struct req *rq)
{
	http_error(rq, 501, "not_implemented", "invites are not implemented yet");
}

int
invite_load(struct server *srv, const cJSON *doc, char **cause)
{
	(void)srv;
	(void)doc;
	(void)cause;
	return 0;
}

void
invite_free_all(struct server *srv)
{
	strmap_free(srv->invites, NULL);
	strmap_free(srv->owners, NULL);
	srv->invites = srv->owners = NULL;
}
