/* RFC 4648 base32, upper case, no padding; strict decoding. */
#include <string.h>

#include "base32.h"

static const char base32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

size_t
base32_encoded_len(size_t nbytes)
{
	return (nbytes * 8 + 4) / 5;
}

int
base32_is_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
}

static int
base32_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* out must hold base32_encoded_len(len) + 1 bytes; it is NUL-terminated. */
void
base32_encode(const unsigned char *in, size_t len, char *out)
{
	unsigned int buf = 0, bits = 0;
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = base32_alphabet[(buf >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = base32_alphabet[(buf << (5 - bits)) & 31];
	out[o] = '\0';
}

/*
 * Decodes exactly outlen bytes from exactly base32_encoded_len(outlen)
 * characters; unused trailing bits must be zero. Returns 0 or -1.
 */
int
base32_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
	unsigned int buf = 0, bits = 0;
	size_t i, o = 0;
	int v;

	if (inlen != base32_encoded_len(outlen))
		return -1;
	for (i = 0; i < inlen; i++) {
		if ((v = base32_value((unsigned char)in[i])) < 0)
			return -1;
		buf = (buf << 5) | (unsigned int)v;
		bits += 5;
		if (bits >= 8) {
			out[o++] = (unsigned char)(buf >> (bits - 8));
			bits -= 8;
		}
		buf &= (1u << bits) - 1;
	}
	if (o != outlen || buf != 0)
		return -1;
	return 0;
}
