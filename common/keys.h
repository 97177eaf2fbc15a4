/*
 * The client-side key directory (design.md 8): DEVICE.token holds one line
 * "SESSION-ID TOKEN" per session the device is in; DEVICE.claim holds
 * "TRANSFER-ID CLAIM-SECRET" for pending claims. Files 0600, directory 0700.
 */
#ifndef RTCS_KEYS_H
#define RTCS_KEYS_H

/* Why keys_get failed, besides a plain error (0). */
#define KEYS_MISSING	1	/* no such file or entry */
#define KEYS_UNSAFE	2	/* the file or directory is open to others or not ours */
#define KEYS_BAD	3	/* a line of the file is not "KEY SECRET" */

/*
 * Looks up key (a session or transfer id) in DIR/DEVICE.EXT. With key NULL the
 * file must hold exactly one entry; its key is returned in *key_out if asked.
 * Returns 0, or -1 with *cause and *why (0, KEYS_MISSING, KEYS_UNSAFE or KEYS_BAD).
 */
int	keys_get(const char *dir, const char *device, const char *ext, const char *key,
	    char **value, char **key_out, int *why, char **cause);
/*
 * Sets (value non-NULL) or deletes (value NULL) the entry for key, atomically,
 * under an exclusive flock on DIR/.lock so that parallel writers lose nothing.
 */
int	keys_put(const char *dir, const char *device, const char *ext, const char *key,
	    const char *value, char **cause);
/*
 * Sets the entry for key only if there is none, under the same lock:
 * 0 (set, or already that value), KEYS_PUT_OTHER (*cause) if the file holds
 * another value for key, -1 on error.
 */
#define KEYS_PUT_OTHER	(-2)
int	keys_put_once(const char *dir, const char *device, const char *ext, const char *key,
	    const char *value, char **cause);
/* The exit code for keys_get's why: 66 missing, 77 unsafe, 65 bad, else 74. */
int	keys_exit_code(int why);
#endif
