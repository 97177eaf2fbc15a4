/* Hashes of secrets (stored instead of the secrets) and constant-time comparison. */
#ifndef RTCS_HASH_H
#define RTCS_HASH_H
#include <stddef.h>
#include <stdint.h>

#define HASH_HEX_LEN 64

void	 hash_sha256(const void *data, size_t len, unsigned char out[32]);
void	 hash_hex(const void *data, size_t len, char out[HASH_HEX_LEN + 1]);
/* Hex of len bytes into out (2 * len + 1); and back: 0, or -1 if not exactly that. */
void	 hash_hex_bytes(const unsigned char *in, size_t len, char *out);
int	 hash_unhex(const char *hex, unsigned char *out, size_t len);
/* A keyed hash (BLAKE2b with a 32-byte key), hex: for short secrets like match codes. */
void	 hash_keyed_hex(const unsigned char key[32], const void *data, size_t len,
	    char out[HASH_HEX_LEN + 1]);
char	*hash_secret(const char *secret);
int	 hash_secret_matches(const char *secret, const char *stored_hex);
int	 ct_equal(const void *a, const void *b, size_t len);
uint32_t hash_crc32(const void *data, size_t len);
#endif
