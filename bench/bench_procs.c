/*
 * rtcs-bench procs: whole-process time of one command against another,
 * fork to exit, interleaved: rtcs-bench procs NAME -- CMD A... --- CMD B...
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "xmalloc.h"

extern char **environ;

struct proc {
	char	**argv;
	int	  want;		/* the exit status that counts as a run */
};

static int
proc_run(void *ctx, double *lat, char **cause)
{
	struct proc *p = ctx;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, e;

	(void)lat;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	e = posix_spawnp(&pid, p->argv[0], &fa, NULL, p->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e != 0) {
		*cause = xprintf("%s: %s", p->argv[0], strerror(e));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			*cause = xprintf("waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != p->want) {
		*cause = xprintf("%s exited with %d", p->argv[0],
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return -1;
	}
	return 0;
}

int
cmd_procs(struct bench_opts *o, int argc, char **argv)
{
	struct proc a = { NULL, 0 }, b = { NULL, o->anchor_exit };
	struct ab_result r;
	char *cause = NULL, *note;
	int i, sep = -1;

	if (argc < 4 || strcmp(argv[1], "--") != 0) {
		fprintf(stderr, "usage: rtcs-bench procs NAME -- A... --- B...\n");
		return 64;
	}
	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], "---") == 0)
			sep = i;
	if (sep < 3 || sep == argc - 1) {
		fprintf(stderr, "rtcs-bench: procs: need two commands separated by ---\n");
		return 64;
	}
	argv[sep] = NULL;
	a.argv = argv + 2;
	b.argv = argv + sep + 1;
	/* Try rtcs once alone: if it cannot run, still time the anchor. */
	if (proc_run(&a, NULL, &cause) != 0) {
		note = xprintf("rtcs: %s", cause);
		free(cause);
		cause = NULL;
		if (ab_run(o, NULL, NULL, proc_run, &b, &r, &cause) != 0)
			goto fail;
		fig_emit(o, argv[0], NAN, samples_pct(&r.lat[1], 50) / 1e3, note);
		free(note);
		ab_free(&r);
		return 0;
	}
	if (ab_run(o, proc_run, &a, proc_run, &b, &r, &cause) != 0)
		goto fail;
	note = xprintf("p50 ms of the whole process, %zu runs each%s%s", r.lat[0].n,
	    o->note ? "; " : "", o->note ? o->note : "");
	fig_emit(o, argv[0], samples_pct(&r.lat[0], 50) / 1e3, samples_pct(&r.lat[1], 50) / 1e3,
	    note);
	free(note);
	ab_free(&r);
	return 0;
fail:
	fprintf(stderr, "rtcs-bench: %s: %s\n", argv[0], cause);
	fig_na(o, argv[0], cause);
	free(cause);
	ab_free(&r);
	return 1;
}
