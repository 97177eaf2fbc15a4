/*
 * libFuzzer target: the strict RTCS payload parser, and format(parse(x)) == x;
 * for signed payloads, the check of a signature, and that a payload signed
 * again parses back and verifies.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload.h"
#include "payload_sign.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char pk[PAYLOAD_PK_BYTES], sk[PAYLOAD_SK_BYTES];
	static int keyed;
	unsigned char seed[PAYLOAD_SEED_BYTES] = { 1 };
	struct payload p, q;
	char *s = xstrndup((const char *)data, size), *cause = NULL, *again;

	if (!keyed) {
		payload_keypair(seed, pk, sk);
		keyed = 1;
	}
	if (payload_parse(s, &p, &cause) == 0) {
		again = payload_format(&p);
		if (strcmp(again, s) != 0)
			abort();
		free(again);
		if (p.signed_) {
			(void)payload_verify(s, &p, pk);
			payload_sign(&p, sk);
			again = payload_format(&p);
			if (payload_parse(again, &q, &cause) != 0 || !payload_verify(again, &q, pk))
				abort();
			free(again);
		}
	} else
		free(cause);
	free(s);
	return 0;
}
