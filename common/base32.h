/* RFC 4648 base32, upper case, no padding; strict decoding. */
#ifndef RTCS_BASE32_H
#define RTCS_BASE32_H
#include <stddef.h>

size_t	base32_encoded_len(size_t nbytes);
void	base32_encode(const unsigned char *in, size_t len, char *out);
int	base32_decode(const char *in, size_t inlen, unsigned char *out, size_t outlen);
int	base32_is_char(int c);
#endif
