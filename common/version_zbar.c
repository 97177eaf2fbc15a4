/* zbar's version for --version, in its own object: only programs that link zbar pull it in. */
#include <stdio.h>

#include <zbar.h>

#include "version.h"

void
version_add_zbar(char **list)
{
	unsigned int maj = 0, min = 0, patch = 0;
	char v[32];

	zbar_version(&maj, &min, &patch);
	snprintf(v, sizeof v, "%u.%u.%u", maj, min, patch);
	version_add(list, "zbar", v);
}
