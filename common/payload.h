/*
 * The code payload (design.md section 7):
 *   transfer  RTCS:1:<ID>:<SECRET>[:<SESSION-ID>]
 *   invite    RTCS:1:I:<ID>:<SECRET>
 * ID is one upper-case letter and 16 base32 characters (rand_id), SECRET is
 * 128 bits in base32 (26 characters). Everything stays in QR alphanumeric mode.
 */
#ifndef RTCS_PAYLOAD_H
#define RTCS_PAYLOAD_H

#define PAYLOAD_VERSION		1
#define PAYLOAD_ID_LEN		17
#define PAYLOAD_SECRET_BYTES	16
#define PAYLOAD_SECRET_LEN	26
#define PAYLOAD_MAX_LEN		128

enum payload_kind { PAYLOAD_TRANSFER, PAYLOAD_INVITE };

struct payload {
	enum payload_kind kind;
	char	id[PAYLOAD_ID_LEN + 1];
	char	secret[PAYLOAD_SECRET_LEN + 1];
	char	session[PAYLOAD_ID_LEN + 1];	/* optional, "" if absent */
};

int	 payload_parse(const char *s, struct payload *p, char **cause);
char	*payload_format(const struct payload *p);
int	 payload_id_valid(const char *id, char prefix);
char	*payload_new_secret(void);
#endif
