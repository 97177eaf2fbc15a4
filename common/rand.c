/* Randomness from libsodium (the kernel's getrandom), for secrets, tokens and ids. */
#include <sodium.h>
#include <stdlib.h>

#include "base32.h"
#include "log.h"
#include "rand.h"
#include "xmalloc.h"

/* Without randomness no secret is safe to issue: that is fatal. */
void
rand_bytes(void *buf, size_t len)
{
	if (sodium_init() < 0)
		fatalx("libsodium cannot start");
	randombytes_buf(buf, len);
}

/* Uniform in [0, upper) without modulo bias. */
uint32_t
rand_uniform(uint32_t upper)
{
	if (sodium_init() < 0)
		fatalx("libsodium cannot start");
	return upper < 2 ? 0 : randombytes_uniform(upper);
}

/* nbytes of randomness in upper-case base32, no padding. */
char *
rand_base32(size_t nbytes)
{
	unsigned char buf[64];
	char *s;

	if (nbytes > sizeof buf)
		fatalx("%s: %zu bytes is too many", __func__, nbytes);
	rand_bytes(buf, nbytes);
	s = xmalloc(base32_encoded_len(nbytes) + 1);
	base32_encode(buf, nbytes, s);
	return s;
}

/* An object id: one upper-case letter then 16 base32 characters (80 bits). */
char *
rand_id(char prefix)
{
	char *b = rand_base32(10), *id;

	id = xprintf("%c%s", prefix, b);
	free(b);
	return id;
}
