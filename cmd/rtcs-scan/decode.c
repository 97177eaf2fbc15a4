/* rtcs-scan: one input read, decoded, and judged with the exit code it deserves. */
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "image.h"
#include "scan.h"
#include "xmalloc.h"

void
scan_decode(const char *name, enum qr_decode_symbols which, struct scan_input *in)
{
	enum image_error err;
	struct image img;
	char *why = NULL;
	int n;

	memset(in, 0, sizeof *in);
	in->name = name;
	if (image_read_input(name, &in->data, &in->len, &err, &in->cause) != 0) {
		in->status = err == IMAGE_MISSING ? EXIT_NOINPUT :
		    err == IMAGE_IO ? EXIT_IOERR : EXIT_DATAERR;
		return;
	}
	if (image_decode(in->data, in->len, &img, &why) != 0) {
		in->status = EXIT_DATAERR;
		in->cause = xprintf("%s: %s", strcmp(name, "-") == 0 ? "standard input" : name, why);
		free(why);
		return;
	}
	n = qr_decode(&img, which, &in->syms, &why);
	image_free(&img);
	if (n < 0) {
		in->status = EXIT_DATAERR;
		in->cause = xprintf("%s: %s", name, why);
		free(why);
		return;
	}
	in->nsyms = n;
	if (n == 0) {
		in->status = EXIT_NO;
		in->cause = xprintf("%s: no code found",
		    strcmp(name, "-") == 0 ? "standard input" : name);
	}
}

void
scan_input_free(struct scan_input *in)
{
	qr_symbols_free(in->syms, in->nsyms);
	free(in->data);
	free(in->cause);
	memset(in, 0, sizeof *in);
}

int
scan_worse(int a, int b)
{
	static const int order[] = { EXIT_OK, EXIT_NO, EXIT_DATAERR, EXIT_NOINPUT, EXIT_IOERR };
	/* A code not in the list (77, 69, ... from --submit) is worse than all of them. */
	int i, n = (int)(sizeof order / sizeof order[0]), ra = a != EXIT_OK ? n : 0,
	    rb = b != EXIT_OK ? n : 0;

	for (i = 0; i < (int)(sizeof order / sizeof order[0]); i++) {
		if (order[i] == a)
			ra = i;
		if (order[i] == b)
			rb = i;
	}
	return rb > ra ? b : a;
}
