/* libFuzzer target: the strict RTCS payload parser, and format(parse(x)) == x. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct payload p;
	char *s = xstrndup((const char *)data, size), *cause = NULL, *again;

	if (payload_parse(s, &p, &cause) == 0) {
		again = payload_format(&p);
		if (strcmp(again, s) != 0)
			abort();
		free(again);
	} else
		free(cause);
	free(s);
	return 0;
}
