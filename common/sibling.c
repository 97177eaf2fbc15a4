/* Running a sibling rtcs program (the one installed next to this one, else PATH). */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "sibling.h"
#include "xmalloc.h"

extern char **environ;

char *
sibling_program(const char *name)
{
	char self[PATH_MAX], *slash, *p;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			p = xprintf("%s/%s", self, name);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return xstrdup(name);
}

int
sibling_run(char *const argv[], const void *stdin_data, size_t len, char **cause)
{
	return sibling_run_as(argv[0], argv, stdin_data, len, cause);
}

int
sibling_run_as(const char *name, char *const argv[], const void *stdin_data, size_t len,
    char **cause)
{
	char *prog = sibling_program(name);
	posix_spawn_file_actions_t fa;
	void (*oldpipe)(int);
	int pfd[2] = { -1, -1 }, status, rc;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	if (stdin_data != NULL) {
		if (pipe2(pfd, O_CLOEXEC) != 0) {
			*cause = xprintf("pipe: %s", strerror(errno));
			posix_spawn_file_actions_destroy(&fa);
			free(prog);
			return -1;
		}
		posix_spawn_file_actions_adddup2(&fa, pfd[0], STDIN_FILENO);
	}
	rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (pfd[0] != -1)
		close(pfd[0]);
	if (rc != 0) {
		*cause = xprintf("cannot run %s: %s", prog, strerror(rc));
		if (pfd[1] != -1)
			close(pfd[1]);
		free(prog);
		return -1;
	}
	if (stdin_data != NULL) {
		oldpipe = signal(SIGPIPE, SIG_IGN);
		(void)fs_write_all(pfd[1], stdin_data, len);	/* a child that stops reading says why itself */
		close(pfd[1]);
		signal(SIGPIPE, oldpipe);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status)) {
		*cause = xprintf("%s died of signal %d", prog, WTERMSIG(status));
		free(prog);
		return -1;
	}
	free(prog);
	return WEXITSTATUS(status);
}
