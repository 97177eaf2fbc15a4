/* What a device or participant name, or a session kind, may be. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "names.h"

int
name_valid(const char *name)
{
	size_t i, len;

	if (name == NULL || (len = strlen(name)) == 0 || len > NAME_MAX_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		return 0;
	}
	return 1;
}

int
name_kind_valid(const char *k)
{
	size_t i;

	if (k == NULL || *k < 'a' || *k > 'z' || strlen(k) > 32)
		return 0;
	for (i = 0; k[i] != '\0'; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') ||
		    k[i] == '-' || k[i] == '_'))
			return 0;
	return 1;
}

void
name_from_host(char *out, size_t max, const char *dflt)
{
	char host[256];
	size_t i;

	memset(host, 0, sizeof host);
	if (gethostname(host, sizeof host - 1) != 0)
		host[0] = '\0';
	host[strcspn(host, ".")] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] + 32);
	snprintf(out, max + 1, "%s", name_valid(host) && strlen(host) <= max ? host : dflt);
}
