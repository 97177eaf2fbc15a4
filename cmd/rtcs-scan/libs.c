/* The libraries rtcs-scan runs with, for --version (each as it reports itself at run time). */
#include <png.h>
#include <zlib.h>
#include <cjson/cJSON.h>

#include "version.h"

char *
version_program_libs(void)
{
	char *l = NULL;

	version_add_zbar(&l);
	version_add(&l, "libpng", png_get_libpng_ver(NULL));
	version_add(&l, "zlib", zlibVersion());
	version_add(&l, "cJSON", cJSON_Version());
	return l;
}
