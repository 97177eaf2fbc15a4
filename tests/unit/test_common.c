/* Unit tests for the shared primitives: base32, payload, opt, names, hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "hash.h"
#include "names.h"
#include "opt.h"
#include "payload.h"
#include "rand.h"

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
	test_opt();
	test_names_hash();
	if (failures) {
		fprintf(stderr, "test_common: %d failed\n", failures);
		return 1;
	}
	printf("test_common: ok\n");
	return 0;
}
