/* The options rtcs-code and rtcs-scan share in their getopt loops. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "exitcode.h"
#include "getopt_std.h"
#include "log.h"
#include "version.h"

void
getopt_std(int c, char **argv, void (*usage)(FILE *))
{
	switch (c) {
	case 'q':
		log_set_level(LOG_LEVEL_QUIET);
		return;
	case 'v':
		log_set_level(log_get_level() + 1);
		return;
	case 'h':
		usage(stdout);
		exit(EXIT_OK);
	case 'V':
		version_print(log_progname(), version_program_libs);
		exit(EXIT_OK);
	case ':':
		log_die(EXIT_USAGE, "option %s needs an argument (see --help)", argv[optind - 1]);
	default:
		if (optopt != 0)
			log_die(EXIT_USAGE, "unknown option -%c (see --help)", optopt);
		log_die(EXIT_USAGE, "unknown option %s (see --help)", argv[optind - 1]);
	}
}
