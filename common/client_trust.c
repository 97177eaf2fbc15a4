/* Trust on first use of a server's signing key: DIR/servers.known. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_trust.h"
#include "exitcode.h"
#include "json.h"
#include "keys.h"
#include "names.h"
#include "xmalloc.h"

int
trust_known(const char *dir, const char *name, unsigned char pk[PAYLOAD_PK_BYTES], int *exit,
    char **cause)
{
	char *hex = NULL;
	int why, rc;

	*cause = NULL;
	if (keys_get(dir, TRUST_FILE_DEVICE, TRUST_FILE_EXT, name, &hex, NULL, &why, cause) != 0) {
		if (why == KEYS_MISSING) {
			free(*cause);
			*cause = NULL;
		}
		*exit = keys_exit_code(why);
		return -1;
	}
	rc = payload_pk_unhex(hex, pk);
	*exit = EXIT_DATAERR;
	if (rc != 0)
		*cause = xprintf("%s/%s.%s: the key of server %s is not %d hex digits", dir,
		    TRUST_FILE_DEVICE, TRUST_FILE_EXT, name, PAYLOAD_PK_HEX);
	free(hex);
	return rc;
}

int
trust_server(struct client *c, const char *dir, char name[PAYLOAD_DESC_NAME_MAX + 1],
    unsigned char pk[PAYLOAD_PK_BYTES], int *first, struct client_err *err)
{
	unsigned char kept[PAYLOAD_PK_BYTES], nonce[PAYLOAD_NONCE_BYTES], sig[PAYLOAD_SIG_BYTES];
	char nhex[2 * PAYLOAD_NONCE_BYTES + 1], *path;
	cJSON *resp = NULL;
	const char *srv, *key, *proof, *end;
	char *cause = NULL;
	size_t len;
	int rc = -1, exit, put;

	*first = 0;
	/* A fresh nonce the server must sign: a key repeated by another is no proof. */
	randombytes_buf(nonce, sizeof nonce);
	sodium_bin2hex(nhex, sizeof nhex, nonce, sizeof nonce);
	path = xprintf("/v1/version?nonce=%s", nhex);
	rc = client_call(c, "GET", path, NULL, NULL, &resp, err);
	free(path);
	if (rc != 0)
		return -1;
	rc = -1;
	srv = json_str(resp, "server");
	key = json_str(resp, "key");
	proof = json_str(resp, "proof");
	if (srv == NULL || key == NULL || !name_valid(srv) || strlen(srv) > PAYLOAD_DESC_NAME_MAX ||
	    payload_pk_unhex(key, pk) != 0) {
		client_err_set(err, EXIT_PROTOCOL, "the server at %s names no signing key",
		    client_socket(c));
		goto out;
	}
	if (proof == NULL || strlen(proof) != 2 * PAYLOAD_SIG_BYTES ||
	    sodium_hex2bin(sig, sizeof sig, proof, strlen(proof), NULL, &len, &end) != 0 ||
	    len != sizeof sig || *end != '\0' || !payload_proof_ok(nonce, sig, pk)) {
		client_err_set(err, EXIT_NOPERM, "the server at %s shows the key of server %s but "
		    "cannot prove it holds it: refusing (someone may be posing as the server)",
		    client_socket(c), srv);
		goto out;
	}
	memcpy(name, srv, strlen(srv) + 1);
	if (trust_known(dir, srv, kept, &exit, &cause) == 0) {
		if (sodium_memcmp(kept, pk, sizeof kept) != 0) {
			client_err_set(err, EXIT_NOPERM, "the signing key of server %s CHANGED: %s/%s.%s "
			    "keeps another one; refusing (someone may be posing as the server). If its "
			    "key was replaced on purpose, delete its line there", srv, dir,
			    TRUST_FILE_DEVICE, TRUST_FILE_EXT);
			goto out;
		}
	} else if (cause != NULL) {
		client_err_set(err, exit, "%s", cause);
		goto out;
	} else if ((put = keys_put_once(dir, TRUST_FILE_DEVICE, TRUST_FILE_EXT, srv, key,
	    &cause)) != 0) {
		/* Another key was kept meanwhile (a first contact at the same time): that one holds. */
		client_err_set(err, put == KEYS_PUT_OTHER ? EXIT_NOPERM : EXIT_IOERR,
		    put == KEYS_PUT_OTHER ? "the signing key of server %s CHANGED while it was being "
		    "kept: %s; refusing" : "cannot keep the key of server %s: %s", srv, cause);
		goto out;
	} else
		*first = 1;
	rc = 0;
out:
	free(cause);
	cJSON_Delete(resp);
	return rc;
}

const char *
trust_sig_name(enum trust_sig s)
{
	switch (s) {
	case TRUST_SIG_NONE:	return "none";
	case TRUST_SIG_VALID:	return "valid";
	case TRUST_SIG_BAD:	return "bad";
	case TRUST_SIG_UNKNOWN:	return "unknown_key";
	}
	return "?";
}

int
trust_code(struct client *c, const char *dir, const char *text, const struct payload *p,
    int need_server, struct trust_verdict *v, struct client_err *err)
{
	unsigned char pk[PAYLOAD_PK_BYTES], spk[PAYLOAD_PK_BYTES];
	char *cause = NULL;
	int exit, known;

	int is_signed = p->kind == PAYLOAD_TRANSFER && p->signed_;

	memset(v, 0, sizeof *v);
	/*
	 * The server is heard first: a changed key is refused before anything
	 * else. A code to be submitted hears it whatever the code (a token is to
	 * go there); one only explained, when there is a signature to check.
	 */
	if (c != NULL && (need_server || is_signed) &&
	    trust_server(c, dir, v->server, spk, &v->first, err) != 0) {
		if (need_server || err->exit != EXIT_UNAVAILABLE)
			return -1;
		client_err_clear(err);
		v->server[0] = '\0';
	}
	if (!is_signed) {
		v->sig = TRUST_SIG_NONE;
		return 0;
	}
	known = trust_known(dir, p->desc.server, pk, &exit, &cause) == 0;
	if (!known && cause != NULL) {
		client_err_set(err, exit, "%s", cause);
		free(cause);
		return -1;
	}
	if (!known && v->server[0] != '\0' && strcmp(v->server, p->desc.server) == 0) {
		memcpy(pk, spk, sizeof pk);
		known = 1;
	}
	if (!known)
		v->sig = TRUST_SIG_UNKNOWN;
	else
		v->sig = payload_verify(text, p, pk) ? TRUST_SIG_VALID : TRUST_SIG_BAD;
	return 0;
}

void
trust_note_first(const char *prog, int say, const struct trust_verdict *v, const char *dir)
{
	if (say && v->first)
		fprintf(stderr, "%s: first use: kept the key of server %s in %s/%s.%s\n", prog,
		    v->server, dir, TRUST_FILE_DEVICE, TRUST_FILE_EXT);
}
