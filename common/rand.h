/* Randomness from the kernel (getrandom), for secrets, tokens and ids. */
#ifndef RTCS_RAND_H
#define RTCS_RAND_H
#include <stddef.h>
#include <stdint.h>

void	 rand_bytes(void *buf, size_t len);
uint32_t rand_uniform(uint32_t upper);
char	*rand_base32(size_t nbytes);
char	*rand_id(char prefix);
#endif
