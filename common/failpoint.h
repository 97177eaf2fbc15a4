/*
 * Failpoints for crash and fault tests, off unless the environment names them.
 *
 * RTCS_FAILPOINT lists points, comma-separated:
 *   NAME            the process exits at once (status 99, no clean-up) there
 *   NAME=ERRNO      the operation there fails with that errno (ENOSPC, EIO, ...)
 *   NAME=ERRNO@N    only the Nth time it is passed (from 1)
 * RTCS_FAILPOINT_FILE names a file holding the same list, read again whenever
 * it changes, so a test can switch faults on and off while a server runs.
 */
#ifndef RTCS_FAILPOINT_H
#define RTCS_FAILPOINT_H

/* Exits (99) if NAME is listed without an errno. */
void	failpoint(const char *name);
/* The errno to fail with at NAME, or 0. */
int	failpoint_errno(const char *name);
#endif
