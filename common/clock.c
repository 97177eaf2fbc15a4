/* Wall-clock time in milliseconds and its RFC 3339 form. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "xmalloc.h"

long long
clock_now_ms(void)
{
	static long long wall0, mono0;
	struct timespec ts;
	long long mono;

	/*
	 * The wall clock is read once, at the first call; from then on time
	 * runs on CLOCK_MONOTONIC (design.md 8.1). Deadlines are stored as
	 * absolute times, but a running program measures them from when it
	 * learned them, so a step of the wall clock never lengthens (or cuts)
	 * a code's life; the next start reads the wall clock again.
	 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	mono = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (wall0 == 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		wall0 = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		mono0 = mono;
	}
	return wall0 + (mono - mono0);
}

long long
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *
clock_format_ms(long long ms)
{
	time_t secs;
	struct tm tm;
	char buf[32];

	if (ms <= 0)
		return NULL;
	secs = (time_t)(ms / 1000);
	gmtime_r(&secs, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	return xprintf("%s.%03lldZ", buf, ms % 1000);
}

long long
clock_parse_ms(const char *s)
{
	struct tm tm;
	int msec;
	char z;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec, &z) != 8 || z != 'Z')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + msec;
}
