/*
 * The code payload (design.md sections 7, 7.1):
 *   transfer  RTCS:1:<ID>:<SECRET>[:<SESSION-ID>]
 *   signed    RTCS:1:<ID>:<SECRET>:<DESC>:<SIGNATURE>
 *   invite    RTCS:1:I:<ID>:<SECRET>
 * ID is one upper-case letter and 16 base32 characters (rand_id), SECRET is
 * 128 bits in base32 (26 characters). DESC says what the code will do:
 *   <DIR>/<KIND>/<PARTICIPANT>/<DEVICE>/<SERVER>/<EXPIRES>
 * DIR is PUSH or PULL; KIND the session's kind; PARTICIPANT and DEVICE the
 * origin's (push) or "" and the new device (pull); SERVER the server's name;
 * EXPIRES seconds since the epoch. Names are written upper-case with '_' as
 * '+' (names are lower-case, so nothing is lost); a name may be empty (not
 * known yet, or longer than PAYLOAD_DESC_NAME_MAX). SIGNATURE is an Ed25519
 * signature (payload_sign.c) of everything before its ':', in base32 (103
 * characters). Everything stays in QR alphanumeric mode; the longest signed
 * payload (279 characters with a 10-digit expiry, 281 with the 12 the parser
 * takes) fits QR version 10 at level M (311).
 */
#ifndef RTCS_PAYLOAD_H
#define RTCS_PAYLOAD_H

#define PAYLOAD_VERSION		1
#define PAYLOAD_ID_LEN		17
#define PAYLOAD_SECRET_BYTES	16
#define PAYLOAD_SECRET_LEN	26
#define PAYLOAD_MAX_LEN		320
#define PAYLOAD_DESC_NAME_MAX	24	/* a longer name is left out of a code */
#define PAYLOAD_KIND_MAX	32
#define PAYLOAD_SIG_BYTES	64
#define PAYLOAD_SIG_LEN		103

enum payload_kind { PAYLOAD_TRANSFER, PAYLOAD_INVITE };

/* What a signed code says it will do (its DESC field), lower-case as names are. */
struct payload_desc {
	char	dir[5];					/* "push" or "pull" */
	char	kind[PAYLOAD_KIND_MAX + 1];		/* "" if not known */
	char	participant[PAYLOAD_DESC_NAME_MAX + 1];
	char	device[PAYLOAD_DESC_NAME_MAX + 1];	/* push: the origin; pull: the new one */
	char	server[PAYLOAD_DESC_NAME_MAX + 1];
	long long expires;				/* seconds since the epoch */
};

struct payload {
	enum payload_kind kind;
	char	id[PAYLOAD_ID_LEN + 1];
	char	secret[PAYLOAD_SECRET_LEN + 1];
	char	session[PAYLOAD_ID_LEN + 1];	/* optional, "" if absent */
	int	signed_;			/* desc and sig present */
	struct payload_desc desc;
	unsigned char sig[PAYLOAD_SIG_BYTES];
	size_t	signed_len;			/* parsed: bytes of the text the signature covers */
};

int	 payload_parse(const char *s, struct payload *p, char **cause);
char	*payload_format(const struct payload *p);
/* The text a signed payload's signature covers (all but ":SIGNATURE"). */
char	*payload_signed_text(const struct payload *p);
/* Copies a name into a DESC field, or "" if it is too long to travel in a code. */
void	 payload_desc_name(char dst[PAYLOAD_DESC_NAME_MAX + 1], const char *name);
int	 payload_id_valid(const char *id, char prefix);
char	*payload_new_secret(void);
#endif
