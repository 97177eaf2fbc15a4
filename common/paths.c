/* Where the socket, the store and the key directory are (design.md 5, 6, 8). */
#include <stdlib.h>
#include <unistd.h>

#include "paths.h"
#include "xmalloc.h"

static const char *
paths_env(const char *name)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? v : NULL;
}

/* $XDG_STATE_HOME, else ~/.local/state. */
static char *
paths_state_home(void)
{
	const char *v;

	if ((v = paths_env("XDG_STATE_HOME")) != NULL)
		return xstrdup(v);
	if ((v = paths_env("HOME")) == NULL)
		v = "/";
	return xprintf("%s/.local/state", v);
}

char *
paths_socket(const char *opt)
{
	const char *v;

	if (opt != NULL)
		return xstrdup(opt);
	if ((v = paths_env("RTCS_SOCKET")) != NULL)
		return xstrdup(v);
	if ((v = paths_env("XDG_RUNTIME_DIR")) != NULL)
		return xprintf("%s/rtcs/rtcs.sock", v);
	return xprintf("/tmp/rtcs-%u/rtcs.sock", (unsigned)getuid());
}

char *
paths_store(const char *opt)
{
	const char *v;
	char *home, *p;

	if (opt != NULL)
		return xstrdup(opt);
	if ((v = paths_env("RTCS_STORE")) != NULL)
		return xstrdup(v);
	home = paths_state_home();
	p = xprintf("%s/rtcs", home);
	free(home);
	return p;
}

char *
paths_keys(const char *opt)
{
	const char *v;
	char *home, *p;

	if (opt != NULL)
		return xstrdup(opt);
	if ((v = paths_env("RTCS_KEYS")) != NULL)
		return xstrdup(v);
	home = paths_state_home();
	p = xprintf("%s/rtcs/keys", home);
	free(home);
	return p;
}
