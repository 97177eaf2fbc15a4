/* Hashes of secrets (stored instead of the secrets) and constant-time comparison. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <zlib.h>

#include "hash.h"
#include "xmalloc.h"

void
hash_sha256(const void *data, size_t len, unsigned char out[32])
{
	SHA256(data, len, out);
}

void
hash_hex(const void *data, size_t len, char out[HASH_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	SHA256(data, len, md);
	for (i = 0; i < sizeof md; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[HASH_HEX_LEN] = '\0';
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
	return CRYPTO_memcmp(a, b, len) == 0;
}

uint32_t
hash_crc32(const void *data, size_t len)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)len);
}
