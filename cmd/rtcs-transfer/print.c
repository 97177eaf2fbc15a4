/* rtcs-transfer: human and JSON output of transfers and events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "xfer.h"

void
print_json(const cJSON *obj)
{
	char *s = json_print(obj);

	printf("%s\n", s);
	fflush(stdout);
	free(s);
}

static const char *
str_or(const cJSON *o, const char *key, const char *dflt)
{
	const char *v = json_str(o, key);

	return v != NULL ? v : dflt;
}

static void
print_names(const cJSON *list)
{
	const cJSON *n;
	int first = 1;

	cJSON_ArrayForEach(n, list) {
		if (cJSON_IsString(n))
			printf("%s%s", first ? "" : ", ", n->valuestring);
		first = 0;
	}
	if (first)
		printf("-");
}

static const char *
print_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key)) ? "yes" : "no";
}

void
print_transfer(const cJSON *t)
{
	const cJSON *origin = cJSON_GetObjectItemCaseSensitive(t, "origin");
	const cJSON *proofs = cJSON_GetObjectItemCaseSensitive(t, "proofs");
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(t, "confirmations");
	const cJSON *left = cJSON_GetObjectItemCaseSensitive(t, "attempts_left");
	static const char *const times[] = { "created_at", "expires_at", "scanned_at", "verified_at",
	    "committing_at", "completed_at", "failed_at", NULL };
	int i;

	printf("id:          %s\nsession:     %s\nparticipant: %s\ndirection:   %s\n"
	    "state:       %s\nreason:      %s\norigin:      %s\ntarget:      %s\nclaimant:    %s\n",
	    str_or(t, "id", "?"), str_or(t, "session", "-"), str_or(t, "participant", "-"),
	    str_or(t, "direction", "?"), str_or(t, "state", "?"), str_or(t, "reason", "-"),
	    str_or(origin, "device", "-"), str_or(t, "target", "-"), str_or(t, "claimant", "-"));
	printf("proof:       %s (displayer %s, scanner %s)\n", str_or(t, "proof", "?"),
	    print_bool(proofs, "displayer"), print_bool(proofs, "scanner"));
	printf("confirm:     %s (required: ", str_or(t, "confirm", "?"));
	print_names(cJSON_GetObjectItemCaseSensitive(conf, "required"));
	printf("; received: ");
	print_names(cJSON_GetObjectItemCaseSensitive(conf, "received"));
	printf(")\n");
	if (cJSON_IsNumber(left))
		printf("attempts:    %.0f left\n", left->valuedouble);
	for (i = 0; times[i] != NULL; i++)
		if (json_str(t, times[i]) != NULL)
			printf("%-12s %s\n", times[i], json_str(t, times[i]));
}

void
print_transfer_line(const cJSON *t)
{
	const cJSON *origin = cJSON_GetObjectItemCaseSensitive(t, "origin");

	printf("%s  %s  %-4s  %-10s  %s -> %s", str_or(t, "id", "?"), str_or(t, "session", "-"),
	    str_or(t, "direction", "?"), str_or(t, "state", "?"), str_or(origin, "device", "-"),
	    str_or(t, "claimant", str_or(t, "target", "?")));
	if (json_str(t, "reason") != NULL)
		printf("  (%s)", json_str(t, "reason"));
	putchar('\n');
}

void
print_event(const cJSON *ev)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(ev, "seq");
	const char *name = str_or(ev, "event", "?");

	if (cJSON_IsNumber(seq))
		printf("[%.0f] ", seq->valuedouble);
	printf("%s %s", str_or(ev, "ts", "-"), name);
	if (json_str(ev, "transfer") != NULL)
		printf(" %s", json_str(ev, "transfer"));
	if (strcmp(name, "transfer.state") == 0) {
		printf(" %s", str_or(ev, "state", "?"));
		if (json_str(ev, "reason") != NULL)
			printf(" (%s)", json_str(ev, "reason"));
	} else if (json_str(ev, "reason") != NULL)
		printf(" %s", json_str(ev, "reason"));
	if (json_str(ev, "session") != NULL)
		printf(" session %s", json_str(ev, "session"));
	if (json_str(ev, "device") != NULL)
		printf(" device %s", json_str(ev, "device"));
	putchar('\n');
	fflush(stdout);
}
