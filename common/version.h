/* --version for every program: the version, the git revision, the libraries it runs with. */
#ifndef RTCS_VERSION_H
#define RTCS_VERSION_H

/*
 * Prints "PROG VERSION (git REV)" and, if libs is not NULL, "libraries: "
 * and what it returns (newly allocated: "libevent 2.1.12-stable, cJSON ...").
 * Each program names only the libraries it links.
 */
void	version_print(const char *prog, char *(*libs)(void));
/* The libraries of this program, each defines it once (cmd/PROG/libs.c); NULL by default. */
char	*version_program_libs(void);
/* Appends zbar's version (common/version_zbar.c, for the programs that link zbar). */
void	version_add_zbar(char **list);
/* Appends "NAME VERSION" to a ", "-separated list *list (NULL at first). */
void	version_add(char **list, const char *name, const char *version);
#endif
