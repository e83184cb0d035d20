/*
 * tenant.h - which tenant (OAuth client) a call belongs to.
 *
 * With tenant_key = auth: an X-Weir-Tenant header names it; else a bearer
 * token weir saw issued by /oauth/token maps to that client id; else the
 * bearer token is keyed by a SHA-256 prefix ("tok:1a2b3c4d5e6f"); else the
 * client id of a Basic-auth (or client_secret_post) token request; else
 * "anonymous".  With tenant_key = header:NAME the value of that header
 * names it ("default" without one).  Tokens themselves are never kept:
 * the map holds SHA-256 digests.
 */
#ifndef WEIR_TENANT_H
#define WEIR_TENANT_H

#include <stdint.h>

#include "call.h"
#include "config.h"

#define TENANT_NAME_MAX	128

struct token_map;

/* A map of issued tokens to client ids, holding at most max entries
 * (the oldest is forgotten first). */
struct token_map	*token_map_new(unsigned max);
void			 token_map_free(struct token_map *);

/*
 * Set call->tenant.  Returns WERR_NONE, or WERR_BAD_TENANT when the call
 * names a tenant weir cannot accept (a malformed X-Weir-Tenant).
 */
enum weir_err tenant_identify(const struct config *,
	    const struct token_map *, struct call *, uint64_t now_ms);

/*
 * After a token request's answer: remember the issued token's client.
 * 0 when it was one, with the token's SHA-256 in digest and its lifetime
 * in ttl_ms (either may be NULL); else -1.
 */
int	tenant_learn(struct token_map *, const struct call *,
	    uint64_t now_ms, unsigned char *digest, uint64_t *ttl_ms);

/* The SHA-256 of the call's bearer token into d (32 bytes): 0, or -1 if
 * it has none. */
int	tenant_bearer_digest(const struct call *, unsigned char *d);
/* Map the token of digest d to client until expires_ms. */
void	token_map_put(struct token_map *, const unsigned char *d,
	    const char *client, uint64_t expires_ms, uint64_t now_ms);
#define TENANT_DIGEST_LEN	32

/* Is s acceptable as a tenant name? */
int	tenant_name_valid(const char *s, size_t len);

#endif
