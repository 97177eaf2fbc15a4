/*
 * Trust on first use of a server's signing key (design.md 7.1), as ssh's
 * known_hosts: a key directory's servers.known holds a line "NAME KEY" per
 * server; the first contact with a server keeps its key there, a later
 * contact that finds another key is refused, loudly.
 */
#ifndef RTCS_CLIENT_TRUST_H
#define RTCS_CLIENT_TRUST_H
#include "client.h"
#include "payload_sign.h"

#define TRUST_FILE_DEVICE	"servers"	/* DIR/servers.known */
#define TRUST_FILE_EXT		"known"

/*
 * The key kept for server name in dir: 0, or -1: not kept (*cause NULL), or
 * the file cannot be trusted or read (*cause says why, *exit the exit code).
 */
int	trust_known(const char *dir, const char *name, unsigned char pk[PAYLOAD_PK_BYTES],
	    int *exit, char **cause);
/*
 * The server c talks to: its name and key (GET /v1/version), checked against
 * dir, kept there on first use (*first set). Returns 0, or -1 with *err: 77
 * for a key other than the one kept, 76 for a server that signs nothing.
 */
int	trust_server(struct client *c, const char *dir, char name[PAYLOAD_DESC_NAME_MAX + 1],
	    unsigned char pk[PAYLOAD_PK_BYTES], int *first, struct client_err *err);

/* What a device can tell of a code's signature. */
enum trust_sig { TRUST_SIG_NONE, TRUST_SIG_VALID, TRUST_SIG_BAD, TRUST_SIG_UNKNOWN };

struct trust_verdict {
	enum trust_sig sig;
	int	first;				/* the server's key was kept just now */
	char	server[PAYLOAD_DESC_NAME_MAX + 1];	/* the server c talks to; "" if not heard */
};

/*
 * Checks the signature of text (parsed into p) with the key kept for the
 * server it names, else with the key of the server c talks to if that is
 * the one (kept on first use). c may be NULL (offline). need_server (a
 * submit): the server is heard even for an unsigned code, and unreachable
 * it is an error. Returns 0 with *v, or -1 with *err (77: the server's key
 * changed, or not proved).
 */
int	trust_code(struct client *c, const char *dir, const char *text, const struct payload *p,
	    int need_server, struct trust_verdict *v, struct client_err *err);
const char *trust_sig_name(enum trust_sig);
/* "PROG: first use: kept the key of server NAME in DIR/servers.known", if v says so and say. */
void	trust_note_first(const char *prog, int say, const struct trust_verdict *v, const char *dir);
#endif
