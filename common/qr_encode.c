/* A payload as a QR module matrix (libqrencode). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "qr_encode.h"
#include "xmalloc.h"

static const QRecLevel qr_levels[] = { QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q, QR_ECLEVEL_H };

int
qr_ec_parse(const char *s)
{
	static const char names[] = "LMQH";
	int i;

	if (s == NULL || s[0] == '\0' || s[1] != '\0')
		return -1;
	for (i = 0; names[i] != '\0'; i++)
		if (s[0] == names[i] || s[0] == names[i] + ('a' - 'A'))
			return i;
	return -1;
}

const char *
qr_ec_name(enum qr_ec ec)
{
	static const char *const names[] = { "L", "M", "Q", "H" };

	return names[ec];
}

const char *
qr_mode_name(const void *data, size_t len)
{
	static const char an[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
	const unsigned char *p = data;
	int numeric = 1;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\0' || strchr(an, p[i]) == NULL)
			return "byte";
		if (p[i] < '0' || p[i] > '9')
			numeric = 0;
	}
	return numeric ? "numeric" : "alphanumeric";
}

int
qr_encode(const void *data, size_t len, enum qr_ec ec, struct qr_code *qr, char **cause)
{
	QRcode *c;
	char *s;
	size_t i, n;

	if (len == 0) {
		*cause = xstrdup("empty payload");
		return -1;
	}
	errno = 0;
	if (memchr(data, '\0', len) != NULL)
		c = QRcode_encodeData((int)len, data, 0, qr_levels[ec]);
	else {
		/* QR_MODE_8 as hint: no Kanji guessing; case kept. */
		s = xstrndup(data, len);
		c = QRcode_encodeString(s, 0, qr_levels[ec], QR_MODE_8, 1);
		free(s);
		/* Its segment split is greedy: mixed text can overflow where plain 8-bit fits. */
		if (c == NULL && errno == ERANGE) {
			errno = 0;
			c = QRcode_encodeData((int)len, data, 0, qr_levels[ec]);
		}
	}
	if (c == NULL) {
		if (errno == ERANGE)
			*cause = xprintf("payload too long for a QR code at level %s "
			    "(%zu bytes; version 40 holds at most 2953 bytes, "
			    "4296 alphanumeric characters)", qr_ec_name(ec), len);
		else
			*cause = xprintf("cannot encode payload: %s", strerror(errno ? errno : EINVAL));
		return -1;
	}
	qr->version = c->version;
	qr->size = c->width;
	qr->ec = ec;
	qr->mode = qr_mode_name(data, len);
	n = (size_t)c->width * (size_t)c->width;
	qr->mod = xmalloc(n);
	for (i = 0; i < n; i++)
		qr->mod[i] = c->data[i] & 1;
	QRcode_free(c);
	return 0;
}

void
qr_code_free(struct qr_code *qr)
{
	free(qr->mod);
	qr->mod = NULL;
}
