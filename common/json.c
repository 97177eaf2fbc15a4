/* cJSON helpers: bounded parsing (nesting limit) and typed field access. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "strmap.h"
#include "xmalloc.h"

static int json_dup_key(const cJSON *);

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

int
json_utf8_valid(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf, *end = s + len;
	uint32_t cp;
	int n, i;

	while (s < end) {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			n = 1;
			cp = *s & 0x1f;
		} else if ((*s & 0xf0) == 0xe0) {
			n = 2;
			cp = *s & 0x0f;
		} else if ((*s & 0xf8) == 0xf0) {
			n = 3;
			cp = *s & 0x07;
		} else
			return 0;
		if (end - s <= n)
			return 0;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		/* No overlong form, no surrogate, nothing past U+10FFFF. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		s += n + 1;
	}
	return 1;
}

static int json_finite(const cJSON *);

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
	if (!json_utf8_valid(buf, len)) {
		*cause = xstrdup("JSON is not valid UTF-8");
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
	if (json_dup_key(obj)) {
		cJSON_Delete(obj);
		*cause = xstrdup("a member named twice in one JSON object");
		return NULL;
	}
	if (!json_finite(obj)) {
		cJSON_Delete(obj);
		*cause = xstrdup("a number too large for a double (it would print as null)");
		return NULL;
	}
	return obj;
}

/* Whether every number anywhere in o is finite (1e999 parses as infinity). */
static int
json_finite(const cJSON *o)
{
	const cJSON *c;

	if (cJSON_IsNumber(o) && !isfinite(o->valuedouble))
		return 0;
	for (c = o->child; c != NULL; c = c->next)
		if (!json_finite(c))
			return 0;
	return 1;
}

/* Whether an object anywhere in o names a member twice (readers would disagree on which). */
static int
json_dup_key(const cJSON *o)
{
	const cJSON *c;
	struct strmap *seen;
	int dup = 0;

	if (cJSON_IsObject(o)) {
		seen = strmap_new();
		for (c = o->child; c != NULL && !dup; c = c->next)
			dup = c->string == NULL || strmap_put(seen, c->string, (void *)c) != NULL;
		strmap_free(seen, NULL);
	}
	for (c = o->child; c != NULL && !dup; c = c->next)
		dup = json_dup_key(c);
	return dup;
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
