/* The libraries rtcs-transfer runs with, for --version (each as it reports itself at run time). */
#include <curl/curl.h>
#include <sodium.h>
#include <cjson/cJSON.h>

#include "version.h"

char *
version_program_libs(void)
{
	char *l = NULL;

	version_add(&l, "libcurl", curl_version_info(CURLVERSION_NOW)->version);
	version_add(&l, "cJSON", cJSON_Version());
	version_add(&l, "libsodium", sodium_version_string());
	return l;
}
