/* The code payload: strict parser and formatter (design.md section 7). */
#include <string.h>

#include "base32.h"
#include "payload.h"
#include "rand.h"
#include "xmalloc.h"

/* An id: the given prefix letter (or any upper-case letter if 0), then 16 base32. */
int
payload_id_valid(const char *id, char prefix)
{
	size_t i;

	if (id == NULL || strlen(id) != PAYLOAD_ID_LEN)
		return 0;
	if (prefix != 0 ? id[0] != prefix : !(id[0] >= 'A' && id[0] <= 'Z'))
		return 0;
	for (i = 1; i < PAYLOAD_ID_LEN; i++)
		if (!base32_is_char((unsigned char)id[i]))
			return 0;
	return 1;
}

static int
payload_secret_valid(const char *s, size_t len)
{
	unsigned char raw[PAYLOAD_SECRET_BYTES];

	return base32_decode(s, len, raw, sizeof raw) == 0;
}

char *
payload_new_secret(void)
{
	return rand_base32(PAYLOAD_SECRET_BYTES);
}

/* Copies field [start, end) of s into dst (size n) if it has exactly want bytes. */
static int
payload_field(const char *start, const char *end, char *dst, size_t want)
{
	if ((size_t)(end - start) != want)
		return -1;
	memcpy(dst, start, want);
	dst[want] = '\0';
	return 0;
}

int
payload_parse(const char *s, struct payload *p, char **cause)
{
	const char *f[6], *end;
	size_t nf = 0, len;
	const char *q;

	memset(p, 0, sizeof *p);
	len = s ? strlen(s) : 0;
	if (len == 0 || len > PAYLOAD_MAX_LEN) {
		*cause = xprintf("not an rtcs code: %s", len ? "too long" : "empty");
		return -1;
	}
	if (strncmp(s, "RTCS:", 5) != 0) {
		*cause = xprintf("not an rtcs code (no RTCS: prefix)");
		return -1;
	}
	end = s + len;
	f[nf++] = s;
	for (q = s; q < end; q++) {
		if (*q == ':') {
			if (nf == 6)
				goto bad;
			f[nf++] = q + 1;
		}
	}
	/* f[i] starts field i; field i ends at f[i+1]-1 or at end. */
#define FEND(i) ((i) + 1 < nf ? f[(i) + 1] - 1 : end)
	if (nf < 2 || FEND(1) - f[1] != 1 || f[1][0] != '0' + PAYLOAD_VERSION) {
		*cause = xprintf("unsupported rtcs code version");
		return -1;
	}
	if (nf >= 3 && FEND(2) - f[2] == 1 && f[2][0] == 'I') {
		p->kind = PAYLOAD_INVITE;
		if (nf != 5 ||
		    payload_field(f[3], FEND(3), p->id, PAYLOAD_ID_LEN) != 0 ||
		    payload_field(f[4], FEND(4), p->secret, PAYLOAD_SECRET_LEN) != 0 ||
		    !payload_id_valid(p->id, 'I'))
			goto bad;
	} else {
		p->kind = PAYLOAD_TRANSFER;
		if ((nf != 4 && nf != 5) ||
		    payload_field(f[2], FEND(2), p->id, PAYLOAD_ID_LEN) != 0 ||
		    payload_field(f[3], FEND(3), p->secret, PAYLOAD_SECRET_LEN) != 0 ||
		    !payload_id_valid(p->id, 'T'))
			goto bad;
		if (nf == 5 && (payload_field(f[4], FEND(4), p->session, PAYLOAD_ID_LEN) != 0 ||
		    !payload_id_valid(p->session, 'S')))
			goto bad;
	}
#undef FEND
	if (!payload_secret_valid(p->secret, PAYLOAD_SECRET_LEN))
		goto bad;
	return 0;
bad:
	memset(p, 0, sizeof *p);
	*cause = xprintf("malformed rtcs code");
	return -1;
}

char *
payload_format(const struct payload *p)
{
	if (p->kind == PAYLOAD_INVITE)
		return xprintf("RTCS:%d:I:%s:%s", PAYLOAD_VERSION, p->id, p->secret);
	if (p->session[0] != '\0')
		return xprintf("RTCS:%d:%s:%s:%s", PAYLOAD_VERSION, p->id, p->secret, p->session);
	return xprintf("RTCS:%d:%s:%s", PAYLOAD_VERSION, p->id, p->secret);
}
