/* What a device or participant name may be. */
#ifndef RTCS_NAMES_H
#define RTCS_NAMES_H
#define NAME_MAX_LEN 64
/* [a-z0-9][a-z0-9._-]{0,63}: safe as a file name in a key directory. */
int	name_valid(const char *name);
#endif
