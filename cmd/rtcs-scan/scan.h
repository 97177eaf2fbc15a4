/*
 * What rtcs-scan found in one input, shared by the decoder (decode.c), the
 * printer (main.c) and, later, the submitter (submit.c: --submit sends each
 * found payload, or with --upload the raw image bytes, to the server).
 */
#ifndef RTCS_SCAN_H
#define RTCS_SCAN_H
#include <stddef.h>

#include "qr_decode.h"

struct scan_input {
	const char		*name;		/* as given: a path or "-" */
	unsigned char		*data;		/* the raw bytes read (the PNG for --upload) */
	size_t			 len;
	struct qr_symbol	*syms;		/* what was found, zbar's order */
	int			 nsyms;
	int			 status;	/* exit code for this input: 0, 1, 65, 66, 74 */
	char			*cause;		/* why, when status is not 0 */
};

/* Reads and decodes name ("-" is stdin); never fails as a whole: see in->status. */
void	scan_decode(const char *name, enum qr_decode_symbols which, struct scan_input *in);
void	scan_input_free(struct scan_input *in);
/* Of two exit codes, the one to report: 74 > 66 > 65 > 1 > 0. */
int	scan_worse(int a, int b);
#endif
