/* What a device or participant name may be. */
#include <string.h>

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
