/* Number and duration parsing with range checks, for options and for the wire. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"
#include "xmalloc.h"

/* A whole decimal number in [min, max]; no sign games, no trailing junk. */
int
opt_number(const char *s, long long min, long long max, long long *out, char **cause)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || strchr(" \t\n+", *s) != NULL) {
		*cause = xprintf("'%s' is not a number", s ? s : "");
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*cause = xprintf("'%s' is not a number", s);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		*cause = xprintf("'%s' is out of range (%lld to %lld)", s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Seconds with up to three decimals ("1", "0.25"), returned in milliseconds. */
int
opt_seconds_ms(const char *s, long long min_ms, long long max_ms, long long *out_ms, char **cause)
{
	const char *p = s;
	long long whole = 0, frac = 0;
	int digits = 0, fdigits = 0;

	if (s == NULL)
		s = p = "";
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (whole > LLONG_MAX / 10000)
			goto range;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, fdigits++) {
			if (fdigits < 3)
				frac = frac * 10 + (*p - '0');
		}
		if (fdigits == 0)
			digits = 0;
	}
	if (digits == 0 || *p != '\0') {
		*cause = xprintf("'%s' is not a number of seconds", s);
		return -1;
	}
	while (fdigits < 3) {
		frac *= 10;
		fdigits++;
	}
	if (whole * 1000 + frac < min_ms || whole * 1000 + frac > max_ms)
		goto range;
	*out_ms = whole * 1000 + frac;
	return 0;
range:
	*cause = xprintf("'%s' is out of range (%lld.%03lld to %lld.%03lld seconds)", s,
	    min_ms / 1000, min_ms % 1000, max_ms / 1000, max_ms % 1000);
	return -1;
}

/* Index of s in a NULL-terminated list of choices. */
int
opt_choice(const char *s, const char *const *choices, char **cause)
{
	size_t i, len = 0;
	char *list;

	for (i = 0; choices[i] != NULL; i++) {
		if (s != NULL && strcmp(s, choices[i]) == 0)
			return (int)i;
		len += strlen(choices[i]) + 2;
	}
	list = xcalloc(1, len + 1);
	for (i = 0; choices[i] != NULL; i++) {
		if (i > 0)
			strcat(list, ", ");
		strcat(list, choices[i]);
	}
	*cause = xprintf("'%s' is not one of: %s", s ? s : "", list);
	free(list);
	return -1;
}
