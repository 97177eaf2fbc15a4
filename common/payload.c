/* The code payload: strict parser and formatter (design.md section 7). */
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "names.h"
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

/* A name as a code carries it: upper case, '_' as '+' (QR alphanumeric mode). */
static void
desc_encode(char *dst, const char *name)
{
	for (; *name != '\0'; name++)
		*dst++ = *name == '_' ? '+' : (*name >= 'a' && *name <= 'z') ? (char)(*name - 32) : *name;
	*dst = '\0';
}

/* Field [start, end) back into a name of at most max bytes: 0, or -1 if it is not one. */
static int
desc_decode(const char *start, const char *end, char *dst, size_t max, int kind)
{
	size_t i, n = (size_t)(end - start);

	if (n > max)
		return -1;
	for (i = 0; i < n; i++) {
		char c = start[i];
		/* A code writes names upper case, '_' as '+': one spelling of each. */
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		    c == '.'))
			return -1;
		dst[i] = c == '+' ? '_' : (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	dst[n] = '\0';
	return n == 0 || (kind ? name_kind_valid(dst) : name_valid(dst)) ? 0 : -1;
}

void
payload_desc_name(char dst[PAYLOAD_DESC_NAME_MAX + 1], const char *name)
{
	if (name == NULL || strlen(name) > PAYLOAD_DESC_NAME_MAX)
		dst[0] = '\0';
	else
		memcpy(dst, name, strlen(name) + 1);
}

/* DESC: DIR/KIND/PARTICIPANT/DEVICE/SERVER/EXPIRES, every part checked. */
static int
desc_parse(const char *start, const char *end, struct payload_desc *d)
{
	const char *f[7], *q;	/* 6 parts; the 7th slot only for DEND's bound */
	size_t nf = 0, i, n;

	f[nf++] = start;
	for (q = start; q < end; q++)
		if (*q == '/') {
			if (nf == 6)
				return -1;
			f[nf++] = q + 1;
		}
	if (nf != 6)
		return -1;
#define DEND(i) ((i) + 1 < nf ? f[(i) + 1] - 1 : end)
	if (DEND(0) - f[0] == 4 && memcmp(f[0], "PUSH", 4) == 0)
		memcpy(d->dir, "push", 5);
	else if (DEND(0) - f[0] == 4 && memcmp(f[0], "PULL", 4) == 0)
		memcpy(d->dir, "pull", 5);
	else
		return -1;
	if (desc_decode(f[1], DEND(1), d->kind, PAYLOAD_KIND_MAX, 1) != 0 ||
	    desc_decode(f[2], DEND(2), d->participant, PAYLOAD_DESC_NAME_MAX, 0) != 0 ||
	    desc_decode(f[3], DEND(3), d->device, PAYLOAD_DESC_NAME_MAX, 0) != 0 ||
	    desc_decode(f[4], DEND(4), d->server, PAYLOAD_DESC_NAME_MAX, 0) != 0)
		return -1;
	/* EXPIRES: 1 to 12 digits, no leading zero (one spelling a time, for the signature). */
	n = (size_t)(DEND(5) - f[5]);
	if (n == 0 || n > 12 || f[5][0] == '0')
		return -1;
	d->expires = 0;
	for (i = 0; i < n; i++) {
		if (f[5][i] < '0' || f[5][i] > '9')
			return -1;
		d->expires = d->expires * 10 + (f[5][i] - '0');
	}
#undef DEND
	return 0;
}

int
payload_parse(const char *s, struct payload *p, char **cause)
{
	const char *f[7], *end;	/* 6 fields; the 7th slot only for FEND's bound */
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
		if ((nf != 4 && nf != 5 && nf != 6) ||
		    payload_field(f[2], FEND(2), p->id, PAYLOAD_ID_LEN) != 0 ||
		    payload_field(f[3], FEND(3), p->secret, PAYLOAD_SECRET_LEN) != 0 ||
		    !payload_id_valid(p->id, 'T'))
			goto bad;
		if (nf == 5 && (payload_field(f[4], FEND(4), p->session, PAYLOAD_ID_LEN) != 0 ||
		    !payload_id_valid(p->session, 'S')))
			goto bad;
		if (nf == 6) {
			if (desc_parse(f[4], FEND(4), &p->desc) != 0 ||
			    FEND(5) - f[5] != PAYLOAD_SIG_LEN ||
			    base32_decode(f[5], PAYLOAD_SIG_LEN, p->sig, sizeof p->sig) != 0)
				goto bad;
			p->signed_ = 1;
			p->signed_len = (size_t)(f[5] - 1 - s);
		}
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
payload_signed_text(const struct payload *p)
{
	const struct payload_desc *d = &p->desc;
	char kind[PAYLOAD_KIND_MAX + 1], part[PAYLOAD_DESC_NAME_MAX + 1];
	char dev[PAYLOAD_DESC_NAME_MAX + 1], srv[PAYLOAD_DESC_NAME_MAX + 1];

	desc_encode(kind, d->kind);
	desc_encode(part, d->participant);
	desc_encode(dev, d->device);
	desc_encode(srv, d->server);
	return xprintf("RTCS:%d:%s:%s:%s/%s/%s/%s/%s/%lld", PAYLOAD_VERSION, p->id, p->secret,
	    strcmp(d->dir, "pull") == 0 ? "PULL" : "PUSH", kind, part, dev, srv, d->expires);
}

char *
payload_format(const struct payload *p)
{
	char *text, *out, sig[PAYLOAD_SIG_LEN + 1];

	if (p->kind == PAYLOAD_TRANSFER && p->signed_) {
		text = payload_signed_text(p);
		base32_encode(p->sig, sizeof p->sig, sig);
		out = xprintf("%s:%s", text, sig);
		explicit_bzero(text, strlen(text));	/* it holds the secret */
		free(text);
		return out;
	}
	if (p->kind == PAYLOAD_INVITE)
		return xprintf("RTCS:%d:I:%s:%s", PAYLOAD_VERSION, p->id, p->secret);
	if (p->session[0] != '\0')
		return xprintf("RTCS:%d:%s:%s:%s", PAYLOAD_VERSION, p->id, p->secret, p->session);
	return xprintf("RTCS:%d:%s:%s", PAYLOAD_VERSION, p->id, p->secret);
}
