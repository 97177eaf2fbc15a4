/* Exit codes shared by every program (design.md section 9). */
#ifndef RTCS_EXITCODE_H
#define RTCS_EXITCODE_H
enum rtcs_exit {
	EXIT_OK = 0,
	EXIT_NO = 1,		/* the answer is no */
	EXIT_USAGE = 64,
	EXIT_DATAERR = 65,	/* bad input data */
	EXIT_NOINPUT = 66,	/* input missing */
	EXIT_UNAVAILABLE = 69,	/* server unavailable */
	EXIT_SOFTWARE = 70,	/* internal error */
	EXIT_IOERR = 74,
	EXIT_PROTOCOL = 76,
	EXIT_NOPERM = 77,
	EXIT_TIMEOUT = 124,
};
#endif
