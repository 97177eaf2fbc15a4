/*
 * libFuzzer target: the store's document and record parsers (store_format.c).
 * What parses must frame back to the same bytes; a byte changed in what was
 * framed must never parse as the same document.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_format.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
doc_roundtrip(const char *buf, size_t size)
{
	struct store_frame f;
	char *why = NULL, *again, *then_log;
	size_t len;

	if (store_unframe_doc(buf, size, &f, &why) != 0) {
		free(why);
		return;
	}
	then_log = f.then_log ? xstrndup(f.then_log, f.then_loglen) : NULL;
	again = store_frame_doc(f.json, f.len, f.rev, f.logseq, then_log, f.then_seq,
	    f.then_json, f.then_len, &len);
	if (len != size || memcmp(again, buf, size) != 0)
		abort();
	free(again);
	free(then_log);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *json;
	struct store_frame f;
	char *why = NULL, *framed, *copy;
	size_t len, jlen, i;
	uint64_t seq;
	uint32_t crc;

	doc_roundtrip(buf, size);
	if (store_record_parse(buf, size, &seq, &crc, &json, &jlen, &why) != 0)
		free(why);
	/* Framed input, then one byte flipped anywhere: never the same document. */
	if (size >= 3 && buf[0] == '{' && buf[size - 2] == '}' && memchr(buf, '\n', size - 1) == NULL) {
		framed = store_frame_doc(buf, size - 1, 7, 3, NULL, 0, NULL, 0, &len);
		i = (size_t)(unsigned char)buf[size - 1] * 7919 % len;
		copy = xmalloc(len);
		memcpy(copy, framed, len);
		copy[i] ^= (char)(1 + (unsigned char)buf[0] % 255);
		if (store_unframe_doc(copy, len, &f, &why) == 0)
			abort();
		free(why);
		free(copy);
		free(framed);
	}
	return 0;
}
