/* Randomness from the kernel (getrandom), for secrets, tokens and ids. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "base32.h"
#include "log.h"
#include "rand.h"
#include "xmalloc.h"

/* Without the kernel's randomness no secret is safe to issue: that is fatal. */
void
rand_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Uniform in [0, upper) without modulo bias. */
uint32_t
rand_uniform(uint32_t upper)
{
	uint32_t r, min;

	if (upper < 2)
		return 0;
	min = -upper % upper;
	do
		rand_bytes(&r, sizeof r);
	while (r < min);
	return r % upper;
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
