/*
 * The client-side key directory (design.md 8): DEVICE.token holds one line
 * "SESSION-ID TOKEN" per session the device is in; DEVICE.claim holds
 * "TRANSFER-ID CLAIM-SECRET" for pending claims. Files 0600, directory 0700.
 */
#ifndef RTCS_KEYS_H
#define RTCS_KEYS_H

/*
 * Looks up key (a session or transfer id) in DIR/DEVICE.EXT. With key NULL the
 * file must hold exactly one entry; its key is returned in *key_out if asked.
 * Returns 0, or -1 with *cause and *missing set to 1 when there is no entry.
 */
int	keys_get(const char *dir, const char *device, const char *ext, const char *key,
	    char **value, char **key_out, int *missing, char **cause);
/* Sets (value non-NULL) or deletes (value NULL) the entry for key, atomically. */
int	keys_put(const char *dir, const char *device, const char *ext, const char *key,
	    const char *value, char **cause);
#endif
