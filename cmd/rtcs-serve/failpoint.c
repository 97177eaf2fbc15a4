/*
 * Failpoints for crash tests: RTCS_FAILPOINT=NAME makes the server exit at
 * once (status 99, no clean-up) right after the named step is durable.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "serve.h"

void
failpoint(const char *name)
{
	const char *want = getenv("RTCS_FAILPOINT");

	if (want != NULL && strcmp(want, name) == 0) {
		log_warnx("failpoint %s: exiting", name);
		_exit(99);
	}
}
