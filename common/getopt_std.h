/* The options rtcs-code and rtcs-scan share in their getopt loops. */
#ifndef RTCS_GETOPT_STD_H
#define RTCS_GETOPT_STD_H
#include <stdio.h>

/*
 * Handles -q, -v, -h, -V and getopt's ':' and '?' for a loop run with
 * opterr = 0 and a leading ':' in its option string; -h, -V and the errors
 * exit (0, or 64 with one line).
 */
void	getopt_std(int c, char **argv, void (*usage)(FILE *));
#endif
