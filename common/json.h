/* cJSON helpers: bounded parsing (nesting limit) and typed field access. */
#ifndef RTCS_JSON_H
#define RTCS_JSON_H
#include <stddef.h>
#include <cjson/cJSON.h>

#define JSON_MAX_DEPTH 32

/* Whether buf is strict UTF-8 (no overlong form, no surrogate, at most U+10FFFF). */
int	 json_utf8_valid(const char *buf, size_t len);
/* Parses exactly one JSON object (valid UTF-8) from buf (len bytes); NULL with *cause on error. */
cJSON	*json_parse_object(const char *buf, size_t len, char **cause);
/* The string member key, or NULL if absent or not a string. */
const char *json_str(const cJSON *obj, const char *key);
/* Unformatted text of obj, newly allocated with xmalloc. */
char	*json_print(const cJSON *obj);
#endif
