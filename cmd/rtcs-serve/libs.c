/* The libraries rtcs-serve runs with, for --version (each as it reports itself at run time). */
#include <event2/event.h>
#include <sodium.h>
#include <png.h>
#include <cjson/cJSON.h>

#include "rtcs_build.h"
#include "version.h"

char *
version_program_libs(void)
{
	char *l = NULL;

	version_add(&l, "libevent", event_get_version());
	version_add(&l, "cJSON", cJSON_Version());
	version_add_zbar(&l);
	version_add(&l, "libpng", png_get_libpng_ver(NULL));
	version_add(&l, "libsodium", sodium_version_string());
	version_add(&l, "libsystemd", RTCS_LIBSYSTEMD_VERSION);
	return l;
}
