/* Where the socket, the store and the key directory are (design.md 5, 6, 8). */
#ifndef RTCS_PATHS_H
#define RTCS_PATHS_H
/* Each returns a new string: the option if given, else the environment, else the default. */
char	*paths_socket(const char *opt);
char	*paths_store(const char *opt);
char	*paths_keys(const char *opt);
#endif
