/*
 * libFuzzer target: the JSON body parser (common/json.c). What it accepts
 * is one object of strict UTF-8 within the nesting limit, and printing it
 * and parsing again gives the same object.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cause = NULL, *text, *cause2 = NULL;
	cJSON *o, *again;

	if ((o = json_parse_object((const char *)data, size, &cause)) == NULL) {
		free(cause);
		return 0;
	}
	if (!cJSON_IsObject(o) || !json_utf8_valid((const char *)data, size))
		abort();
	text = json_print(o);
	if ((again = json_parse_object(text, strlen(text), &cause2)) == NULL ||
	    !cJSON_Compare(o, again, 1))
		abort();
	cJSON_Delete(again);
	free(text);
	cJSON_Delete(o);
	return 0;
}
