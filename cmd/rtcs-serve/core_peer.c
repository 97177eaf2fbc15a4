/*
 * What the other servers of a shared store (etcd) write, followed in memory:
 * their session documents (new sessions, channels opened and closed), their
 * transfers' records (a transfer asked for on one server is scanned on a
 * second and confirmed on a third), their invites (made, revoked), and the server event log's entries, so that this server's next write names
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

	static const char *const what[] = { "session", "transfer", "invite" };
	struct core_session *s;
	struct core_xfer *x;
	int rc = -1;

	/* Removed by another server's retention: out of memory here too. */
	if (d->json == NULL) {
		if (d->kind == STORE_SESSION && (s = core_session_find(c, d->id)) != NULL &&
		    session_forget(c, s) == 0)
			log_info("retention: session %s removed by another server", d->id);
		else if (d->kind == STORE_TRANSFER && (x = core_xfer_find(c, d->id)) != NULL &&
		    xfer_forget(c, x) == 0)
			log_info("retention: transfer %s removed by another server", d->id);
		return;
	}
	if ((doc = json_parse_object(d->json, d->len, &cause)) != NULL) {
		switch (d->kind) {
		case STORE_SESSION: rc = session_follow_doc(c, doc, d->rev, &cause); break;
		case STORE_TRANSFER: rc = xfer_follow_doc(c, doc, d->rev, &cause); break;
		case STORE_INVITE: rc = invite_follow_doc(c, doc, d->rev, &cause); break;
		default: rc = 0; break;
		}
	}
	if (rc != 0)
		log_warnx("%s %s from another server: %s (this server will not follow it)",
		    (unsigned)d->kind < 3 ? what[d->kind] : "document", d->id,
		    cause != NULL ? cause : "?");
	free(cause);
	cJSON_Delete(doc);
}

static void
peer_available(void *arg, int available)
{
	struct core *c = arg;

	if (!available && c->lsn != NULL && c->lsn->unavailable != NULL)
		c->lsn->unavailable(c->lsn->arg);
}

void
core_peer_follow(struct core *c)
{
	if (!store_shared(c->store) || c->readonly || c->peer_watch[0] != NULL)
		return;
	c->peer_watch[0] = store_watch_kind(c->store, STORE_SESSION, peer_doc, c);
	c->peer_watch[1] = store_watch_kind(c->store, STORE_TRANSFER, peer_doc, c);
	c->peer_watch[2] = store_watch_kind(c->store, STORE_INVITE, peer_doc, c);
	store_on_available(c->store, peer_available, c);
}
