/*
 * reqid.h - request ids.
 *
 * A request id is a UUIDv4 made from OpenSSL's RAND_bytes, or the caller's
 * own id when it sent an acceptable one.
 */
#ifndef WEIR_REQID_H
#define WEIR_REQID_H

#include <stddef.h>

#define REQID_MAX	128

/* Write a new UUIDv4 ("xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx") and a
 * NUL into out, which holds at least 37 bytes.  Returns 0, or -1 if the
 * random generator failed. */
int	reqid_new(char *out, size_t outlen);

/* Is a caller-sent id acceptable to forward and log: 1..REQID_MAX visible
 * ASCII characters, no quotes or backslashes? */
int	reqid_valid(const char *id);

#endif
