/* rtcs-session: human and JSON output of sessions and log entries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "json.h"
#include "session.h"
#include "xmalloc.h"

void
print_json(const cJSON *obj)
{
	char *s = json_print(obj);

	printf("%s\n", s);
	free(s);
}

/* Text from the wire on a terminal: control characters become '?'. */
static void
print_text(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		putchar(((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f ? '?' : *s);
}

static const char *
str_or(const cJSON *o, const char *key, const char *dflt)
{
	const char *v = json_str(o, key);

	return v != NULL ? v : dflt;
}

static void
print_seq(const cJSON *entry)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(entry, "seq");

	if (cJSON_IsNumber(seq))
		printf("[%.0f] ", seq->valuedouble);
}

static void
print_participants(const cJSON *list)
{
	const cJSON *p;
	int first = 1;

	cJSON_ArrayForEach(p, list) {
		printf("%s%s@%s", first ? "" : ", ", str_or(p, "name", "?"), str_or(p, "device", "?"));
		first = 0;
	}
}

/*
 * Whether the device attached is the origin of a push transfer (it types the
 * match code) rather than a peer (it consents); asked with the device's token.
 */
static int
print_is_origin(const struct stream_state *st, const char *id)
{
	struct client_err err = { 0 };
	cJSON *resp = NULL;
	char *path;
	const char *origin;
	int yes = 1;	/* not known: the fuller hint */

	if (st == NULL || st->lookup == NULL || id == NULL)
		return yes;
	path = xprintf("/v1/transfers/%s", id);
	if (client_call(st->lookup, "GET", path, st->token, NULL, &resp, &err) == 0) {
		origin = json_str(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		    resp, "transfer"), "origin"), "device");
		yes = origin != NULL && sopts.as != NULL && strcmp(origin, sopts.as) == 0;
	}
	client_err_clear(&err);
	cJSON_Delete(resp);
	free(path);
	return yes;
}

/* A confirmation request, with the command that answers it as it pastes. */
static void
print_confirm(const cJSON *e, const struct stream_state *st)
{
	const char *id = str_or(e, "transfer", "?"), *claimant = str_or(e, "claimant", "?");
	const char *hint = st != NULL && st->hint != NULL ? st->hint : "rtcs-transfer";
	const char *as = sopts.as ? sopts.as : "DEVICE";
	int push = strcmp(str_or(e, "direction", "push"), "push") == 0;

	printf("transfer %s: %s asks to take over %s; ", id, claimant, str_or(e, "participant", "?"));
	if (push && print_is_origin(st, id))
		printf("type the match code %s shows after: %s confirm %s --as %s --match -", claimant,
		    hint, id, as);
	else if (!push && print_is_origin(st, id))
		printf("type the check code %s shows after: %s confirm %s --as %s --check -; "
		    "refuse: %s reject %s --as %s", claimant, hint, id, as, hint, id, as);
	else
		printf("consent: %s confirm %s --as %s; refuse: %s reject %s --as %s", hint, id, as,
		    hint, id, as);
}

static void
print_event(const cJSON *e, const struct stream_state *st)
{
	const char *ev = str_or(e, "event", "?");

	printf("* ");
	if (strcmp(ev, "session.created") == 0) {
		printf("session created (%s): ", str_or(e, "kind", "chat"));
		print_participants(cJSON_GetObjectItemCaseSensitive(e, "participants"));
	} else if (strcmp(ev, "participant.joined") == 0)
		printf("%s joined on %s", str_or(e, "participant", "?"), str_or(e, "device", "?"));
	else if (strcmp(ev, "participant.moved") == 0)
		printf("%s moved from %s to %s", str_or(e, "participant", "?"),
		    str_or(e, "from", "?"), str_or(e, "to", "?"));
	else if (strcmp(ev, "session.ended") == 0)
		printf("session ended");
	else if (strcmp(ev, "transfer.confirm") == 0)
		print_confirm(e, st);
	else if (strcmp(ev, "transfer.alert") == 0)
		printf("ALERT: transfer %s: %s (device %s)", str_or(e, "transfer", "?"),
		    str_or(e, "reason", "?"), str_or(e, "device", "?"));
	else if (strcmp(ev, "transfer.state") == 0)
		printf("transfer %s is %s", str_or(e, "transfer", "?"), str_or(e, "state", "?"));
	else if (strcmp(ev, "channel.closed") == 0) {
		const char *reason = str_or(e, "reason", "?");
		if (strcmp(reason, "transferred") == 0)
			printf("channel closed: the session moved to %s", str_or(e, "to", "another device"));
		else if (strcmp(reason, "session_ended") == 0)
			printf("channel closed: the session ended");
		else
			printf("channel closed: %s", reason);
	} else
		printf("%s", ev);
}

void
print_entry(const cJSON *entry)
{
	print_entry_in(entry, NULL);
}

void
print_entry_in(const cJSON *entry, const struct stream_state *st)
{
	const char *type = str_or(entry, "type", "");

	print_seq(entry);
	if (strcmp(type, "message") == 0) {
		printf("%s: ", str_or(entry, "from", "?"));
		if (json_str(entry, "body") != NULL)
			print_text(json_str(entry, "body"));
		else
			printf("<%s %s>", str_or(entry, "kind", "media"), str_or(entry, "media", ""));
	} else if (strcmp(type, "event") == 0)
		print_event(entry, st);
	else
		print_text(type);
	putchar('\n');
	fflush(stdout);
}

static const char *
time_or_dash(const cJSON *o, const char *key)
{
	return str_or(o, key, "-");
}

void
print_session_line(const cJSON *s)
{
	printf("%s  %-9s  %-5s  %s  ", str_or(s, "id", "?"), str_or(s, "kind", "?"),
	    str_or(s, "state", "?"), time_or_dash(s, "created_at"));
	print_participants(cJSON_GetObjectItemCaseSensitive(s, "participants"));
	putchar('\n');
}

void
print_session(const cJSON *s)
{
	const cJSON *p, *seq = cJSON_GetObjectItemCaseSensitive(s, "last_seq");

	printf("id:       %s\nkind:     %s\nstate:    %s\ncreated:  %s\nended:    %s\n",
	    str_or(s, "id", "?"), str_or(s, "kind", "?"), str_or(s, "state", "?"),
	    time_or_dash(s, "created_at"), time_or_dash(s, "ended_at"));
	if (cJSON_IsNumber(seq))
		printf("last seq: %.0f\n", seq->valuedouble);
	printf("participants:\n");
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(s, "participants"))
		printf("  %-16s %-20s %s\n", str_or(p, "name", "?"), str_or(p, "device", "?"),
		    str_or(p, "channel", "-"));
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(s, "channels")))
		return;
	printf("channels:\n");
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(s, "channels")) {
		printf("  %s  %-16s %-20s %-6s %s", str_or(p, "id", "?"), str_or(p, "participant", "?"),
		    str_or(p, "device", "?"), str_or(p, "state", "?"), time_or_dash(p, "opened_at"));
		if (json_str(p, "closed_reason") != NULL)
			printf("  closed %s (%s)", time_or_dash(p, "closed_at"), json_str(p, "closed_reason"));
		putchar('\n');
	}
}

int
print_stream_line(cJSON *line, void *arg)
{
	struct stream_state *st = arg;
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(line, "seq");
	const char *ev = json_str(line, "event");

	if (cJSON_IsNumber(seq))
		st->last_seq = (long long)seq->valuedouble;
	if (st->json)
		print_json(line);
	else
		print_entry_in(line, st);
	fflush(stdout);
	if (ev != NULL && strcmp(ev, "channel.closed") == 0) {
		st->closed = 1;
		snprintf(st->reason, sizeof st->reason, "%s", str_or(line, "reason", "?"));
		return 1;
	}
	if (ev != NULL && st->stop_on_end && strcmp(ev, "session.ended") == 0)
		return 1;
	return 0;
}
