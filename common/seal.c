/* Texts sealed to a key pair derived from a secret (seal.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hash.h"
#include "seal.h"
#include "xmalloc.h"

/* The pair: a keyed BLAKE2b of the secret (ctx as the key) seeds crypto_box. */
static void
seal_keys(const char *secret, const char *ctx, unsigned char pk[crypto_box_PUBLICKEYBYTES],
    unsigned char sk[crypto_box_SECRETKEYBYTES])
{
	unsigned char seed[crypto_box_SEEDBYTES];

	crypto_generichash(seed, sizeof seed, (const unsigned char *)secret, strlen(secret),
	    (const unsigned char *)ctx, strlen(ctx));
	crypto_box_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof seed);
}

void
seal_pub(const char *secret, const char *ctx, char hex[65])
{
	unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];

	seal_keys(secret, ctx, pk, sk);
	sodium_memzero(sk, sizeof sk);
	hash_hex_bytes(pk, sizeof pk, hex);
}

char *
seal_to(const char *pub, const char *text)
{
	unsigned char pk[crypto_box_PUBLICKEYBYTES], box[crypto_box_SEALBYTES + SEAL_TEXT_MAX];
	size_t len = strlen(text);
	char *out;

	if (sodium_init() < 0 || len > SEAL_TEXT_MAX || strlen(pub) != 2 * sizeof pk ||
	    hash_unhex(pub, pk, sizeof pk) != 0 ||
	    crypto_box_seal(box, (const unsigned char *)text, len, pk) != 0)
		return NULL;
	out = xmalloc(2 * (crypto_box_SEALBYTES + len) + 1);
	hash_hex_bytes(box, crypto_box_SEALBYTES + len, out);
	return out;
}

char *
seal_open(const char *secret, const char *ctx, const char *hex)
{
	unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
	unsigned char box[crypto_box_SEALBYTES + SEAL_TEXT_MAX];
	size_t n = strlen(hex) / 2;
	char *text;

	if (n <= crypto_box_SEALBYTES || n > sizeof box || hash_unhex(hex, box, n) != 0)
		return NULL;
	seal_keys(secret, ctx, pk, sk);
	text = xmalloc(n - crypto_box_SEALBYTES + 1);
	if (crypto_box_seal_open((unsigned char *)text, box, n, pk, sk) != 0) {
		free(text);
		text = NULL;
	} else
		text[n - crypto_box_SEALBYTES] = '\0';
	sodium_memzero(sk, sizeof sk);
	return text;
}
