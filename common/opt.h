/* Number and duration parsing with range checks, for options and for the wire. */
#ifndef RTCS_OPT_H
#define RTCS_OPT_H
#include <stdint.h>

int	opt_number(const char *s, long long min, long long max, long long *out, char **cause);
int	opt_seconds_ms(const char *s, long long min_ms, long long max_ms, long long *out_ms, char **cause);
int	opt_choice(const char *s, const char *const *choices, char **cause);
#endif
