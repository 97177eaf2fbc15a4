/* A payload as a QR module matrix (libqrencode). */
#ifndef RTCS_QR_ENCODE_H
#define RTCS_QR_ENCODE_H
#include <stddef.h>

enum qr_ec { QR_EC_L, QR_EC_M, QR_EC_Q, QR_EC_H };

struct qr_code {
	int		 version;	/* 1 .. 40 */
	int		 size;		/* modules per side, without quiet zone */
	enum qr_ec	 ec;
	const char	*mode;		/* "numeric", "alphanumeric" or "byte" */
	unsigned char	*mod;		/* size * size, 1 = dark module */
};

/*
 * Encodes len bytes (any bytes; NUL too) at level ec in the smallest version.
 * libqrencode splits the data into numeric, alphanumeric and 8-bit segments,
 * so an upper-case RTCS payload stays in alphanumeric mode.
 */
int	 qr_encode(const void *data, size_t len, enum qr_ec ec, struct qr_code *qr,
	    char **cause);
void	 qr_code_free(struct qr_code *qr);
/* "L", "M", "Q", "H" (either case); -1 if none of those. */
int	 qr_ec_parse(const char *s);
const char *qr_ec_name(enum qr_ec ec);
/* The narrowest QR mode that holds all of data. */
const char *qr_mode_name(const void *data, size_t len);
#endif
