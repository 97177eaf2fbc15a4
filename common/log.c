/* Diagnostics on stderr with levels: "prog: message". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *log_name = "rtcs";
static int log_level = LOG_LEVEL_WARN;

void
log_init(const char *progname, int level)
{
	const char *slash = strrchr(progname, '/');

	log_name = slash ? slash + 1 : progname;
	log_level = level;
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

const char *
log_progname(void)
{
	return log_name;
}

/* stderr is the only log sink; SIGHUP reopen is a no-op kept for daemons. */
void
log_reopen(void)
{
	fflush(stderr);
}

static void
log_vprint(int level, int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	char buf[2048];

	if (level > log_level)
		return;
	vsnprintf(buf, sizeof buf, fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s: %s: %s\n", log_name, buf, strerror(saved));
	else
		fprintf(stderr, "%s: %s\n", log_name, buf);
	errno = saved;
}

#define LOG_FN(name, level, with_errno)			\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_vprint(level, with_errno, fmt, ap);		\
	va_end(ap);					\
}
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprint(LOG_LEVEL_WARN, 1, fmt, ap);
	va_end(ap);
	exit(70);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprint(LOG_LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
	exit(70);
}

void
log_die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", log_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}
