/*
 * Short texts (tokens) sealed to the X25519 key pair a secret derives
 * (libsodium's crypto_box_seal): whoever holds only the public half (a
 * stored record) can seal; only the secret's holder opens. Hex on the wire.
 */
#ifndef RTCS_SEAL_H
#define RTCS_SEAL_H

#define SEAL_TEXT_MAX	64	/* the longest text sealed */

/* The public key (hex, 64 characters) that secret derives under ctx. */
void	 seal_pub(const char *secret, const char *ctx, char hex[65]);
/* text sealed to the public key pub (hex); NULL if pub is not one or text is too long. */
char	*seal_to(const char *pub, const char *text);
/* The text in box (hex) opened with the pair secret derives under ctx; NULL if it does not open. */
char	*seal_open(const char *secret, const char *ctx, const char *box);
#endif
