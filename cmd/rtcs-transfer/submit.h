/*
 * rtcs-scan --submit: hands a decoded payload (or the image itself) to
 * rtcs-serve as a device's image data, and optionally waits for the end.
 */
#ifndef RTCS_SCAN_SUBMIT_H
#define RTCS_SCAN_SUBMIT_H
#include <stddef.h>

struct scan_submit_opts {
	const char	*prog;		/* for messages; NULL: "rtcs-scan" */
	const char	*device;	/* --as DEVICE (required) */
	const char	*keys;		/* --keys DIR; NULL: $RTCS_KEYS, else the default */
	const char	*socket;	/* -S PATH; NULL: $RTCS_SOCKET, else the default */
	const char	*session;	/* the device's session if it has several; may be NULL */
	const char	*name;		/* invite: participant name; NULL: the device name */
	int		 upload;	/* send the PNG bytes, not the decoded payload */
	int		 wait;		/* block until the transfer ends; store the new token */
	int		 json;		/* JSON on stdout (JSON Lines with wait) */
	long long	 timeout_ms;	/* bound on the wait; 0: none */
	int		 verbose;	/* -1 quiet, 0 normal, 1 and more: verbose */
};

/*
 * Submits one payload as o->device's image data. payload is the decoded
 * text (it names the transfer or invite); with o->upload and png non-NULL
 * the PNG bytes go to the server instead, to be decoded there. Prints the
 * transfer id, state and match code (claimant) on stdout, keeps a claim in
 * DEVICE.claim, and with o->wait the new token in DEVICE.token. Returns the
 * exit code (design.md 9) after printing any error on stderr.
 */
int	scan_submit(const struct scan_submit_opts *o, const char *payload,
	    const void *png, size_t pnglen);
#endif
