/* cJSON helpers: bounded parsing (nesting limit) and typed field access. */
#include <string.h>

#include "json.h"
#include "xmalloc.h"

/* Depth of brackets outside strings: checked before cJSON recurses. */
static int
json_depth_ok(const char *buf, size_t len)
{
	int depth = 0, in_str = 0, esc = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = buf[i];
		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '{' || c == '[') {
			if (++depth > JSON_MAX_DEPTH)
				return 0;
		} else if (c == '}' || c == ']')
			depth--;
	}
	return 1;
}

/*
 * Whether the text escapes a NUL (\u0000): cJSON would cut the string there,
 * so such a string could not be kept whole. Backslashes pair up: "\\u0000"
 * is a backslash and "u0000".
 */
static int
json_has_nul_escape(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\\')
			continue;
		if (buf[i + 1] == 'u' && i + 6 <= len && memcmp(buf + i + 2, "0000", 4) == 0)
			return 1;
		i++;	/* the escaped character */
	}
	return 0;
}

cJSON *
json_parse_object(const char *buf, size_t len, char **cause)
{
	const char *end = NULL;
	cJSON *obj;

	if (len == 0) {
		*cause = xstrdup("empty body: expected a JSON object");
		return NULL;
	}
	if (memchr(buf, '\0', len) != NULL) {
		*cause = xstrdup("NUL byte in JSON");
		return NULL;
	}
	if (json_has_nul_escape(buf, len)) {
		*cause = xstrdup("NUL character (\\u0000) in a JSON string");
		return NULL;
	}
	if (!json_depth_ok(buf, len)) {
		*cause = xprintf("JSON nested deeper than %d", JSON_MAX_DEPTH);
		return NULL;
	}
	obj = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (obj == NULL) {
		*cause = xstrdup("malformed JSON");
		return NULL;
	}
	while (end != NULL && end < buf + len && strchr(" \t\r\n", *end) != NULL)
		end++;
	if (end != buf + len) {
		cJSON_Delete(obj);
		*cause = xstrdup("trailing data after JSON");
		return NULL;
	}
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		*cause = xstrdup("expected a JSON object");
		return NULL;
	}
	return obj;
}

const char *
json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *
json_print(const cJSON *obj)
{
	char *s = cJSON_PrintUnformatted(obj), *copy;

	if (s == NULL)
		return xstrdup("null");
	copy = xstrdup(s);
	cJSON_free(s);
	return copy;
}
