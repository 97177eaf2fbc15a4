/* Unit tests for the shared primitives: base32, payload, opt, names, hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "hash.h"
#include "names.h"
#include "opt.h"
#include "payload.h"
#include "payload_sign.h"
#include "rand.h"
#include "xmalloc.h"

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static void
test_base32(void)
{
	unsigned char in[16], out[16];
	char enc[40];
	int i;

	base32_encode((const unsigned char *)"foobar", 6, enc);
	CHECK(strcmp(enc, "MZXW6YTBOI") == 0);
	for (i = 0; i < 200; i++) {
		rand_bytes(in, sizeof in);
		base32_encode(in, sizeof in, enc);
		CHECK(strlen(enc) == 26);
		CHECK(base32_decode(enc, 26, out, sizeof out) == 0);
		CHECK(memcmp(in, out, sizeof in) == 0);
	}
	CHECK(base32_decode("AAAAAAAAAAAAAAAAAAAAAAAAAB", 26, out, 16) != 0); /* stray bits */
	CHECK(base32_decode("aAAAAAAAAAAAAAAAAAAAAAAAAA", 26, out, 16) != 0);
	CHECK(base32_decode("AAAA", 4, out, 16) != 0);
}

static void
test_payload(void)
{
	struct payload p, q;
	char *s, *id, *sec, *cause = NULL;

	memset(&p, 0, sizeof p);
	id = rand_id('T');
	sec = payload_new_secret();
	strcpy(p.id, id);
	strcpy(p.secret, sec);
	s = payload_format(&p);
	CHECK(payload_parse(s, &q, &cause) == 0);
	CHECK(strcmp(q.id, id) == 0 && strcmp(q.secret, sec) == 0 && q.kind == PAYLOAD_TRANSFER);
	free(s);
	p.kind = PAYLOAD_INVITE;
	p.id[0] = 'I';
	s = payload_format(&p);
	CHECK(strncmp(s, "RTCS:1:I:", 9) == 0);
	CHECK(payload_parse(s, &q, &cause) == 0 && q.kind == PAYLOAD_INVITE);
	free(s);
	const char *bad[] = { "", "RTCS", "RTCS:2:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "RTCS:1:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAA", "RTCS:1:tAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "RTCS:1:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA:", "rtcs:1:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "RTCS:1:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA:S", "RTCS:1:I:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA",
	    "RTCS:1:TAAAAAAAAAAAAAAA1:AAAAAAAAAAAAAAAAAAAAAAAAAA", NULL };
	for (int i = 0; bad[i] != NULL; i++) {
		cause = NULL;
		CHECK(payload_parse(bad[i], &q, &cause) == -1 && cause != NULL);
		free(cause);
	}
	cause = NULL;
	CHECK(payload_parse("RTCS:1:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA:SAAAAAAAAAAAAAAAA", &q, &cause) == 0);
	free(id);
	free(sec);
}

/* Signed payloads: round trip, every byte of the signed text covered, strict grammar. */
static void
test_payload_signed(void)
{
	unsigned char seed[PAYLOAD_SEED_BYTES], pk[PAYLOAD_PK_BYTES], sk[PAYLOAD_SK_BYTES];
	unsigned char pk2[PAYLOAD_PK_BYTES], sk2[PAYLOAD_SK_BYTES];
	struct payload p, q;
	char *s, *t, *cause = NULL, hex[PAYLOAD_PK_HEX + 1];
	const char *want = "RTCS:1:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA:"
	    "PUSH/VIDEO+CALL/ALICE/ALICE+PHONE.2/CONF-1/1796183142:";
	size_t i;

	rand_bytes(seed, sizeof seed);
	payload_keypair(seed, pk, sk);
	seed[0] ^= 1;
	payload_keypair(seed, pk2, sk2);
	memset(&p, 0, sizeof p);
	strcpy(p.id, "TAAAAAAAAAAAAAAAA");
	strcpy(p.secret, "AAAAAAAAAAAAAAAAAAAAAAAAAA");
	strcpy(p.desc.dir, "push");
	strcpy(p.desc.kind, "video_call");
	strcpy(p.desc.participant, "alice");
	strcpy(p.desc.device, "alice_phone.2");
	strcpy(p.desc.server, "conf-1");
	p.desc.expires = 1796183142;
	payload_sign(&p, sk);
	s = payload_format(&p);
	CHECK(strncmp(s, want, strlen(want)) == 0);
	CHECK(strlen(s) == strlen(want) + PAYLOAD_SIG_LEN);
	CHECK(payload_parse(s, &q, &cause) == 0 && q.signed_);
	CHECK(strcmp(q.desc.kind, "video_call") == 0 && strcmp(q.desc.device, "alice_phone.2") == 0);
	CHECK(strcmp(q.desc.dir, "push") == 0 && q.desc.expires == 1796183142);
	CHECK(payload_verify(s, &q, pk));
	CHECK(!payload_verify(s, &q, pk2));
	/* Every byte of the signed text and of the signature counts. */
	for (i = 0; i < strlen(s); i++) {
		t = strdup(s);
		t[i] = t[i] == 'B' ? 'C' : 'B';
		cause = NULL;
		if (payload_parse(t, &q, &cause) == 0)
			CHECK(!payload_verify(t, &q, pk));
		free(cause);
		free(t);
	}
	const char *bad[] = {
	    "PUSH/CHAT/ALICE/DEV/SRV/1796183142",		/* no signature */
	    "PUSH/CHAT/ALICE/DEV/SRV:1796183142",
	    "SEND/CHAT/ALICE/DEV/SRV/1796183142",
	    "PUSH/CHAT/alice/DEV/SRV/1796183142",		/* names upper case */
	    "PUSH/CHAT/ALICE/DEV/SRV/0796183142",		/* one spelling of a number */
	    "PUSH/CHAT/ALICE/DEV/SRV/",
	    "PUSH/CHAT/ALICE/DEV/SRV/1234567890123",
	    "PUSH/CHAT/-ALICE/DEV/SRV/1796183142",
	    "PUSH/CHAT/ABCDEFGHIJKLMNOPQRSTUVWXY/DEV/SRV/1796183142",	/* 25 */
	    "PUSH/CHAT/ALICE/DEV/SRV/1796183142/X",
	    "PUSH/1CHAT/ALICE/DEV/SRV/1796183142", NULL };
	char sig[PAYLOAD_SIG_LEN + 1];
	memset(sig, 'A', PAYLOAD_SIG_LEN);
	sig[PAYLOAD_SIG_LEN] = '\0';
	for (i = 0; bad[i] != NULL; i++) {
		t = strchr(bad[i], ':') == NULL && i > 0 ? xprintf("RTCS:1:TAAAAAAAAAAAAAAAA:"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAA:%s:%s", bad[i], sig) :
		    xprintf("RTCS:1:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA:%s", bad[i]);
		cause = NULL;
		CHECK(payload_parse(t, &q, &cause) == -1);
		free(cause);
		free(t);
	}
	/* Empty names are allowed (not known, or too long); a 24-character one travels. */
	t = xprintf("RTCS:1:TAAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAA:PULL///"
	    "ABCDEFGHIJKLMNOPQRSTUVWX/SRV/1:%s", sig);
	cause = NULL;
	CHECK(payload_parse(t, &q, &cause) == 0 && q.desc.participant[0] == '\0' &&
	    strcmp(q.desc.dir, "pull") == 0 && strlen(q.desc.device) == 24 && !payload_verify(t, &q, pk));
	free(t);
	payload_desc_name(q.desc.device, "abcdefghijklmnopqrstuvwxy");
	CHECK(q.desc.device[0] == '\0');
	payload_pk_hex(pk, hex);
	CHECK(strlen(hex) == 64 && payload_pk_unhex(hex, pk2) == 0 && memcmp(pk, pk2, sizeof pk) == 0);
	CHECK(payload_pk_unhex("00", pk2) != 0);
	hex[5] = 'g';
	CHECK(payload_pk_unhex(hex, pk2) != 0);
	free(s);
}

static void
test_opt(void)
{
	long long v;
	char *cause = NULL;

	CHECK(opt_number("42", 0, 100, &v, &cause) == 0 && v == 42);
	CHECK(opt_number("101", 0, 100, &v, &cause) == -1); free(cause);
	CHECK(opt_number("4x", 0, 100, &v, &cause) == -1); free(cause);
	CHECK(opt_number("", 0, 100, &v, &cause) == -1); free(cause);
	CHECK(opt_seconds_ms("1.5", 0, 10000, &v, &cause) == 0 && v == 1500);
	CHECK(opt_seconds_ms("120", 0, 1000000, &v, &cause) == 0 && v == 120000);
	CHECK(opt_seconds_ms(".", 0, 10000, &v, &cause) == -1); free(cause);
	CHECK(opt_seconds_ms("-1", 0, 10000, &v, &cause) == -1); free(cause);
}

static void
test_names_hash(void)
{
	char *h;

	CHECK(name_valid("alice-phone"));
	CHECK(!name_valid("Alice"));
	CHECK(!name_valid("-x"));
	CHECK(!name_valid("../x"));
	CHECK(!name_valid(""));
	h = hash_secret("abc");
	CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
	CHECK(hash_secret_matches("abc", h));
	CHECK(!hash_secret_matches("abd", h));
	free(h);
	CHECK(hash_crc32("123456789", 9) == 0xCBF43926u);
}

int
main(void)
{
	test_base32();
	test_payload();
	test_payload_signed();
	test_opt();
	test_names_hash();
	if (failures) {
		fprintf(stderr, "test_common: %d failed\n", failures);
		return 1;
	}
	printf("test_common: ok\n");
	return 0;
}
