/* Wall-clock time in milliseconds and its RFC 3339 form. */
#ifndef RTCS_CLOCK_H
#define RTCS_CLOCK_H
/*
 * Wall-clock milliseconds, read once at the first call and then advanced by
 * CLOCK_MONOTONIC: a step of the wall clock while the program runs changes
 * nothing it measures.
 */
long long clock_now_ms(void);
/* CLOCK_MONOTONIC in microseconds: for durations. */
long long clock_mono_us(void);
/* "2026-11-24T05:30:00.123Z", newly allocated; 0 gives NULL. */
char	*clock_format_ms(long long ms);
/* Parses what clock_format_ms writes; -1 on error. */
long long clock_parse_ms(const char *s);
#endif
