/*
 * Signed codes (design.md 7.1): the server signs a payload's DESC with its
 * Ed25519 key (libsodium), so that a scanner can tell what a code will do
 * and that this server issued it. Keys travel as hex ("NAME HEX" is a line
 * of a key directory's servers.known, and what rtcs-serve --print-key prints).
 */
#ifndef RTCS_PAYLOAD_SIGN_H
#define RTCS_PAYLOAD_SIGN_H
#include <sodium.h>

#include "payload.h"

#define PAYLOAD_PK_BYTES	crypto_sign_PUBLICKEYBYTES
#define PAYLOAD_SK_BYTES	crypto_sign_SECRETKEYBYTES
#define PAYLOAD_SEED_BYTES	crypto_sign_SEEDBYTES
#define PAYLOAD_PK_HEX		(2 * PAYLOAD_PK_BYTES)

/* The key pair of a 32-byte seed (what the store keeps). */
void	payload_keypair(const unsigned char seed[PAYLOAD_SEED_BYTES],
	    unsigned char pk[PAYLOAD_PK_BYTES], unsigned char sk[PAYLOAD_SK_BYTES]);
/* Signs p (a transfer with its desc filled in): sets p->signed_ and p->sig. */
void	payload_sign(struct payload *p, const unsigned char sk[PAYLOAD_SK_BYTES]);
/* Whether text, parsed into p (signed), carries a good signature by pk. */
int	payload_verify(const char *text, const struct payload *p,
	    const unsigned char pk[PAYLOAD_PK_BYTES]);
/*
 * A server's proof that it holds its key: its signature of a client's
 * 32-byte nonce, under a context of its own (a code's signature never
 * passes for one, nor the reverse).
 */
#define PAYLOAD_NONCE_BYTES	32
void	payload_prove(const unsigned char nonce[PAYLOAD_NONCE_BYTES],
	    const unsigned char sk[PAYLOAD_SK_BYTES], unsigned char sig[PAYLOAD_SIG_BYTES]);
int	payload_proof_ok(const unsigned char nonce[PAYLOAD_NONCE_BYTES],
	    const unsigned char sig[PAYLOAD_SIG_BYTES], const unsigned char pk[PAYLOAD_PK_BYTES]);
/* A public key as hex, and back (0, or -1 if it is not one). */
void	payload_pk_hex(const unsigned char pk[PAYLOAD_PK_BYTES], char hex[PAYLOAD_PK_HEX + 1]);
int	payload_pk_unhex(const char *hex, unsigned char pk[PAYLOAD_PK_BYTES]);
#endif
