/* What a device or participant name, or a session kind, may be. */
#ifndef RTCS_NAMES_H
#define RTCS_NAMES_H
#include <stddef.h>
#define NAME_MAX_LEN 64
/* [a-z0-9][a-z0-9._-]{0,63}: safe as a file name in a key directory. */
int	name_valid(const char *name);
/*
 * A session kind: one lower-case word, [a-z][a-z0-9_-]{0,31} (no '.'), the
 * rule rtcs-serve applies.
 */
int	name_kind_valid(const char *kind);
/* The host's name as a name of at most max bytes (lower case, up to its first dot), else dflt. */
void	name_from_host(char *out, size_t max, const char *dflt);
#endif
