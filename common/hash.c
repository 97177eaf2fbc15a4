/* Hashes of secrets (stored instead of the secrets) and constant-time comparison (libsodium). */
#include <string.h>

#include <sodium.h>
#include <zlib.h>

#include "hash.h"
#include "xmalloc.h"

void
hash_sha256(const void *data, size_t len, unsigned char out[32])
{
	crypto_hash_sha256(out, data, len);
}

void
hash_hex_bytes(const unsigned char *in, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, in, len);
}

int
hash_unhex(const char *hex, unsigned char *out, size_t len)
{
	size_t got;

	if (strlen(hex) != 2 * len ||
	    sodium_hex2bin(out, len, hex, 2 * len, NULL, &got, NULL) != 0 || got != len)
		return -1;
	return 0;
}

void
hash_keyed_hex(const unsigned char key[32], const void *data, size_t len,
    char out[HASH_HEX_LEN + 1])
{
	unsigned char md[32];

	crypto_generichash(md, sizeof md, data, len, key, 32);
	hash_hex_bytes(md, sizeof md, out);
}

void
hash_hex(const void *data, size_t len, char out[HASH_HEX_LEN + 1])
{
	unsigned char md[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(md, data, len);
	hash_hex_bytes(md, sizeof md, out);
}

/* Secrets are 128 random bits, so one SHA-256 is enough: no dictionary to fear. */
char *
hash_secret(const char *secret)
{
	char *out = xmalloc(HASH_HEX_LEN + 1);

	hash_hex(secret, strlen(secret), out);
	return out;
}

int
hash_secret_matches(const char *secret, const char *stored_hex)
{
	char h[HASH_HEX_LEN + 1];

	if (secret == NULL || stored_hex == NULL || strlen(stored_hex) != HASH_HEX_LEN)
		return 0;
	hash_hex(secret, strlen(secret), h);
	return ct_equal(h, stored_hex, HASH_HEX_LEN);
}

int
ct_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

uint32_t
hash_crc32(const void *data, size_t len)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)len);
}
