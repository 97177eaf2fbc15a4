/* Running a sibling rtcs program (the one installed next to this one, else PATH). */
#ifndef RTCS_SIBLING_H
#define RTCS_SIBLING_H
#include <stddef.h>

/* The path of program name next to /proc/self/exe if it is there, else name. */
char	*sibling_program(const char *name);
/*
 * Runs argv (argv[0] is looked up with sibling_program), feeding it stdin_data
 * when non-NULL (else it inherits stdin), and waits. Returns its exit status,
 * or -1 with *cause if it could not be started or died of a signal.
 */
int	sibling_run(char *const argv[], const void *stdin_data, size_t len, char **cause);
/* The same for program name, with argv[0] as the caller chose it (the name it says it runs under). */
int	sibling_run_as(const char *name, char *const argv[], const void *stdin_data, size_t len,
	    char **cause);
#endif
