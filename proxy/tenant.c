/*
 * tenant.c - tenant identification and the issued-token map; see tenant.h.
 *
 * Pure but for OpenSSL's SHA-256 and base64: no clock (now_ms is passed
 * in), no sockets.  Only digests of tokens are stored, and nothing here
 * logs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "json.h"
#include "tenant.h"
#include "xmalloc.h"

struct token_entry {
	unsigned char	 digest[SHA256_DIGEST_LENGTH];
	char		 client[TENANT_NAME_MAX + 1];
	uint64_t	 expires_ms;
	uint64_t	 added_ms;
	int		 used;
};

struct token_map {
	struct token_entry	*v;
	unsigned		 size;		/* power of two */
};

#define PROBE	8

struct token_map *
token_map_new(unsigned max)
{
	struct token_map	*m;
	unsigned		 size = 64;

	while (size < max && size < (1u << 24))
		size <<= 1;
	m = xcalloc(1, sizeof(*m));
	m->size = size;
	m->v = xcalloc(size, sizeof(*m->v));
	return m;
}

void
token_map_free(struct token_map *m)
{
	if (m == NULL)
		return;
	explicit_bzero(m->v, m->size * sizeof(*m->v));
	free(m->v);
	free(m);
}

static unsigned
slot_of(const struct token_map *m, const unsigned char *d)
{
	unsigned	 h;

	memcpy(&h, d, sizeof(h));
	return h & (m->size - 1);
}

int
tenant_name_valid(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > TENANT_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		/* strchr() finds the terminating NUL too: test c first */
		if (!isalnum(c) && (c == '\0' || strchr("._:@-", c) == NULL))
			return 0;
	}
	return 1;
}

static const struct token_entry *
map_find(const struct token_map *m, const unsigned char *d, uint64_t now_ms)
{
	unsigned	 i, s = slot_of(m, d);

	for (i = 0; i < PROBE; i++) {
		const struct token_entry *e = &m->v[(s + i) & (m->size - 1)];

		if (e->used && memcmp(e->digest, d, sizeof(e->digest)) == 0)
			return e->expires_ms > now_ms ? e : NULL;
	}
	return NULL;
}

/* The token after "Bearer ", or NULL. */
static const char *
bearer(const char *auth)
{
	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	auth += 7;
	while (*auth == ' ')
		auth++;
	return *auth != '\0' ? auth : NULL;
}

/* The client id of "Basic base64(id:secret)" into out: 0 or -1. */
static int
basic_client(const char *auth, char *out, size_t outlen)
{
	unsigned char	 dec[512];
	size_t		 len;
	int		 n;
	char		*colon;

	if (auth == NULL || strncasecmp(auth, "Basic ", 6) != 0)
		return -1;
	auth += 6;
	while (*auth == ' ')
		auth++;
	len = strlen(auth);
	if (len == 0 || len > (sizeof(dec) - 1) / 3 * 4)
		return -1;
	if ((n = EVP_DecodeBlock(dec, (const unsigned char *)auth,
	    (int)len)) < 0)
		return -1;
	dec[n] = '\0';
	colon = strchr((char *)dec, ':');
	if (colon == NULL)
		return -1;
	*colon = '\0';
	if (!tenant_name_valid((char *)dec, strlen((char *)dec)) ||
	    strlen((char *)dec) >= outlen) {
		explicit_bzero(dec, sizeof(dec));
		return -1;
	}
	strcpy(out, (char *)dec);
	explicit_bzero(dec, sizeof(dec));
	return 0;
}

/* client_id from a form body (client_secret_post): 0 or -1. */
static int
form_client(const struct buf *body, char *out, size_t outlen)
{
	const char	*p, *end, *v;
	size_t		 n;

	if (body->len == 0)
		return -1;
	p = body->p;
	end = body->p + body->len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));

		if (amp == NULL)
			amp = end;
		if ((size_t)(amp - p) > 10 && memcmp(p, "client_id=", 10) == 0) {
			v = p + 10;
			n = (size_t)(amp - v);
			if (n < outlen && tenant_name_valid(v, n)) {
				memcpy(out, v, n);
				out[n] = '\0';
				return 0;
			}
			return -1;
		}
		p = amp + 1;
	}
	return -1;
}

static int
is_token_request(const struct call *c)
{
	return c->up == UP_LOGIN && strcmp(c->method, "POST") == 0 &&
	    c->path != NULL && strncmp(c->path, "/oauth/token", 12) == 0 &&
	    (c->path[12] == '\0' || c->path[12] == '?');
}

enum weir_err
tenant_identify(const struct config *cfg, const struct token_map *m,
    struct call *c, uint64_t now_ms)
{
	char			 name[TENANT_NAME_MAX + 1];
	const char		*v, *auth, *tok;
	unsigned char		 d[SHA256_DIGEST_LENGTH];
	const struct token_entry *e;

	free(c->tenant);
	c->tenant = NULL;
	if (cfg->tenant_key == TENANT_KEY_HEADER) {
		v = hdrs_get(&c->in_hdrs, cfg->tenant_header);
		if (v == NULL) {
			c->tenant = xstrdup("default");
			return WERR_NONE;
		}
		if (!tenant_name_valid(v, strlen(v)))
			goto bad;
		c->tenant = xstrdup(v);
		return WERR_NONE;
	}

	if ((v = hdrs_get(&c->in_hdrs, "X-Weir-Tenant")) != NULL) {
		if (!tenant_name_valid(v, strlen(v)))
			goto bad;
		c->tenant = xstrdup(v);
		return WERR_NONE;
	}
	auth = hdrs_get(&c->in_hdrs, "Authorization");
	if ((tok = bearer(auth)) != NULL) {
		SHA256((const unsigned char *)tok, strlen(tok), d);
		if ((e = map_find(m, d, now_ms)) != NULL)
			c->tenant = xstrdup(e->client);
		else
			xasprintf(&c->tenant, "tok:%02x%02x%02x%02x%02x%02x",
			    d[0], d[1], d[2], d[3], d[4], d[5]);
		explicit_bzero(d, sizeof(d));
		return WERR_NONE;
	}
	if (basic_client(auth, name, sizeof(name)) == 0 ||
	    (is_token_request(c) && form_client(&c->body, name,
	    sizeof(name)) == 0)) {
		c->tenant = xstrdup(name);
		return WERR_NONE;
	}
	c->tenant = xstrdup("anonymous");
	return WERR_NONE;
 bad:
	return WERR_BAD_TENANT;
}

void
token_map_put(struct token_map *m, const unsigned char *d,
    const char *client, uint64_t expires_ms, uint64_t now_ms)
{
	struct token_entry	*e, *victim = NULL;
	unsigned		 i, s = slot_of(m, d);

	for (i = 0; i < PROBE; i++) {
		e = &m->v[(s + i) & (m->size - 1)];
		if (!e->used || memcmp(e->digest, d, sizeof(e->digest)) == 0) {
			victim = e;
			break;
		}
		if (victim == NULL || e->added_ms < victim->added_ms)
			victim = e;	/* the oldest goes */
	}
	memcpy(victim->digest, d, sizeof(victim->digest));
	snprintf(victim->client, sizeof(victim->client), "%s", client);
	victim->added_ms = now_ms;
	victim->expires_ms = expires_ms;
	victim->used = 1;
}

int
tenant_bearer_digest(const struct call *c, unsigned char *d)
{
	const char	*tok = bearer(hdrs_get(&c->in_hdrs, "Authorization"));

	if (tok == NULL)
		return -1;
	SHA256((const unsigned char *)tok, strlen(tok), d);
	return 0;
}

int
tenant_learn(struct token_map *m, const struct call *c, uint64_t now_ms,
    unsigned char *digest, uint64_t *ttl_ms)
{
	struct json		*j;
	char			 token[8192];
	long long		 expires = 0;
	unsigned char		 d[SHA256_DIGEST_LENGTH];

	if (!is_token_request(c) || c->status != 200 || c->tenant == NULL ||
	    strcmp(c->tenant, "anonymous") == 0 ||
	    strncmp(c->tenant, "tok:", 4) == 0)
		return -1;
	if ((j = json_parse(c->resp_body.p, c->resp_body.len, 256)) == NULL)
		return -1;
	if (json_string(j, json_get(j, 0, "access_token"), token,
	    sizeof(token)) == -1) {
		json_free(j);
		return -1;
	}
	if (json_int(j, json_get(j, 0, "expires_in"), &expires) == -1 ||
	    expires <= 0 || expires > 10 * 365 * 86400LL)
		expires = 86400;
	json_free(j);
	SHA256((const unsigned char *)token, strlen(token), d);
	explicit_bzero(token, sizeof(token));
	token_map_put(m, d, c->tenant, now_ms + (uint64_t)expires * 1000,
	    now_ms);
	if (digest != NULL)
		memcpy(digest, d, sizeof(d));
	if (ttl_ms != NULL)
		*ttl_ms = (uint64_t)expires * 1000;
	explicit_bzero(d, sizeof(d));
	return 0;
}
