/* Signed codes: Ed25519 signatures of a payload's description (libsodium). */
#include <stdlib.h>
#include <string.h>

#include "payload_sign.h"
#include "xmalloc.h"

/* A signature covers this context, then the payload's text: it signs nothing else. */
static const char sign_context[] = "rtcs code signature 1\n";
/* A proof of the key covers this one, then the client's nonce. */
static const char proof_context[] = "rtcs server proof 1\n";

static unsigned char *
sign_message(const char *text, size_t len, size_t *mlen)
{
	unsigned char *m = xmalloc(sizeof sign_context - 1 + len);

	memcpy(m, sign_context, sizeof sign_context - 1);
	memcpy(m + sizeof sign_context - 1, text, len);
	*mlen = sizeof sign_context - 1 + len;
	return m;
}

void
payload_keypair(const unsigned char seed[PAYLOAD_SEED_BYTES], unsigned char pk[PAYLOAD_PK_BYTES],
    unsigned char sk[PAYLOAD_SK_BYTES])
{
	crypto_sign_seed_keypair(pk, sk, seed);
}

void
payload_sign(struct payload *p, const unsigned char sk[PAYLOAD_SK_BYTES])
{
	char *text = payload_signed_text(p);
	size_t mlen;
	unsigned char *m = sign_message(text, strlen(text), &mlen);

	crypto_sign_detached(p->sig, NULL, m, mlen, sk);
	p->signed_ = 1;
	p->signed_len = strlen(text);
	sodium_memzero(m, mlen);	/* both hold the code's secret */
	sodium_memzero(text, strlen(text));
	free(m);
	free(text);
}

int
payload_verify(const char *text, const struct payload *p, const unsigned char pk[PAYLOAD_PK_BYTES])
{
	size_t mlen;
	unsigned char *m;
	int ok;

	if (!p->signed_ || text == NULL || strlen(text) <= p->signed_len)
		return 0;
	m = sign_message(text, p->signed_len, &mlen);
	ok = crypto_sign_verify_detached(p->sig, m, mlen, pk) == 0;
	sodium_memzero(m, mlen);
	free(m);
	return ok;
}

void
payload_pk_hex(const unsigned char pk[PAYLOAD_PK_BYTES], char hex[PAYLOAD_PK_HEX + 1])
{
	sodium_bin2hex(hex, PAYLOAD_PK_HEX + 1, pk, PAYLOAD_PK_BYTES);
}

int
payload_pk_unhex(const char *hex, unsigned char pk[PAYLOAD_PK_BYTES])
{
	size_t len;
	const char *end;

	if (hex == NULL || strlen(hex) != PAYLOAD_PK_HEX)
		return -1;
	return sodium_hex2bin(pk, PAYLOAD_PK_BYTES, hex, PAYLOAD_PK_HEX, NULL, &len, &end) == 0 &&
	    len == PAYLOAD_PK_BYTES && *end == '\0' ? 0 : -1;
}

static void
proof_message(const unsigned char nonce[PAYLOAD_NONCE_BYTES],
    unsigned char m[sizeof proof_context - 1 + PAYLOAD_NONCE_BYTES])
{
	memcpy(m, proof_context, sizeof proof_context - 1);
	memcpy(m + sizeof proof_context - 1, nonce, PAYLOAD_NONCE_BYTES);
}

void
payload_prove(const unsigned char nonce[PAYLOAD_NONCE_BYTES],
    const unsigned char sk[PAYLOAD_SK_BYTES], unsigned char sig[PAYLOAD_SIG_BYTES])
{
	unsigned char m[sizeof proof_context - 1 + PAYLOAD_NONCE_BYTES];

	proof_message(nonce, m);
	crypto_sign_detached(sig, NULL, m, sizeof m, sk);
}

int
payload_proof_ok(const unsigned char nonce[PAYLOAD_NONCE_BYTES],
    const unsigned char sig[PAYLOAD_SIG_BYTES], const unsigned char pk[PAYLOAD_PK_BYTES])
{
	unsigned char m[sizeof proof_context - 1 + PAYLOAD_NONCE_BYTES];

	proof_message(nonce, m);
	return crypto_sign_verify_detached(sig, m, sizeof m, pk) == 0;
}
