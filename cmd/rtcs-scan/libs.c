/* The libraries rtcs-scan runs with, for --version (each as it reports itself at run time). */
#include <stdio.h>

#include <png.h>
#include <zbar.h>
#include <zlib.h>
#include <cjson/cJSON.h>

#include "version.h"

char *
version_program_libs(void)
{
	unsigned int maj = 0, min = 0, patch = 0;
	char zbar_v[32];
	char *l = NULL;

	zbar_version(&maj, &min, &patch);
	snprintf(zbar_v, sizeof zbar_v, "%u.%u.%u", maj, min, patch);
	version_add(&l, "zbar", zbar_v);
	version_add(&l, "libpng", png_get_libpng_ver(NULL));
	version_add(&l, "zlib", zlibVersion());
	version_add(&l, "cJSON", cJSON_Version());
	return l;
}
