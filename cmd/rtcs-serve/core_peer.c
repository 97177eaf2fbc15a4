/*
 * What the other servers of a shared store (etcd) write, followed in memory:
 * their session documents (new sessions, channels opened and closed), and
 * the server event log's entries, so that this server's next write names
 * the right revision and seq. Their log entries reach this server's streams
 * through each session's log watch (core.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core_int.h"
#include "json.h"
#include "log.h"

static void
peer_doc(void *arg, const struct store_doc *d)
{
	struct core *c = arg;
	cJSON *doc;
	char *cause = NULL;

	if ((doc = json_parse_object(d->json, d->len, &cause)) == NULL ||
	    session_follow_doc(c, doc, d->rev, &cause) != 0)
		log_warnx("session %s from another server: %s (this server will not follow it)",
		    d->id, cause != NULL ? cause : "?");
	free(cause);
	cJSON_Delete(doc);
}

void
core_peer_follow(struct core *c)
{
	if (!store_shared(c->store) || c->readonly || c->peer_watch != NULL)
		return;
	c->peer_watch = store_watch_kind(c->store, STORE_SESSION, peer_doc, c);
	core_events_watch(c);
}
