/*
 * reqid.c - request ids: UUIDv4 from OpenSSL's RAND_bytes; see reqid.h.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "reqid.h"

/*
 * RAND_bytes() checks for a fork (a getpid(2) per call); asking for 64
 * ids' worth at a time makes that one system call per 64 requests.  The
 * bytes still come from OpenSSL's generator, and each is used once.
 */
#define POOL	(16 * 64)

static unsigned char	 pool[POOL];
static size_t		 pool_used = POOL;

int
reqid_new(char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 b[16];
	size_t			 i, o = 0;

	if (outlen < 37)
		return -1;
	if (pool_used == POOL) {
		if (RAND_bytes(pool, sizeof(pool)) != 1)
			return -1;
		pool_used = 0;
	}
	memcpy(b, pool + pool_used, sizeof(b));
	OPENSSL_cleanse(pool + pool_used, sizeof(b));
	pool_used += sizeof(b);
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	for (i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
	return 0;
}

int
reqid_valid(const char *id)
{
	size_t	 i;

	for (i = 0; id[i] != '\0'; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return 0;
		if (i >= REQID_MAX)
			return 0;
	}
	return i > 0;
}
