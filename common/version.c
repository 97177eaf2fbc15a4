/* --version: the version, the git revision (build time) and the libraries' versions (run time). */
#include <stdio.h>
#include <stdlib.h>

#include "rtcs_build.h"
#include "version.h"
#include "xmalloc.h"

void
version_add(char **list, const char *name, const char *version)
{
	char *s = xprintf("%s%s%s %s", *list ? *list : "", *list ? ", " : "", name,
	    version ? version : "?");

	free(*list);
	*list = s;
}

/* A program that names no libraries (a unit test) links this one. */
__attribute__((weak)) char *
version_program_libs(void)
{
	return NULL;
}

void
version_print(const char *prog, char *(*libs)(void))
{
	char *l;

	printf("%s %s (git %s)\n", prog, RTCS_VERSION, RTCS_GIT_REV);
	if (libs != NULL && (l = libs()) != NULL) {
		printf("libraries: %s\n", l);
		free(l);
	}
}
