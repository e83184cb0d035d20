/*
 * fuzz_json.c - libFuzzer target for the JSON weir reads from the
 * upstream: the jsmn getters (json.c) walked over every token, the 429
 * body parsers (policy_body_wait, policy_body_limit), and the OAuth token
 * answer that tenant_learn() remembers, followed by tenant_identify() on
 * calls whose Authorization or form body comes from the same bytes.
 *
 * The input is used in place, not copied: libFuzzer's buffer is exactly
 * size bytes long, so ASan sees any read past the document's end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "config.h"
#include "fuzz.h"
#include "json.h"
#include "policy.h"
#include "tenant.h"
#include "xmalloc.h"

#define MAX_TOKENS	256	/* what tenant_learn() allows */
#define NOW_MS		1000

static struct config	*cfg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg = config_new();
	return 0;
}

/* Every getter on token tok, with buffers of several sizes. */
static void
getters(const struct json *j, int tok)
{
	static const char *const keys[] = {
		"access_token", "token_type", "expires_in", "message", "code",
		"status", "contextId", "details", "errors", "limit", "key",
		"namespace", "value", "", NULL
	};
	char		 tiny[1], small[8], big[4096];
	long long	 v;
	int		 i, m;

	(void)json_string(j, tok, tiny, sizeof(tiny));
	if (json_string(j, tok, small, sizeof(small)) == 0)
		FUZZ_CHECK(strlen(small) < sizeof(small));
	if (json_string(j, tok, big, sizeof(big)) == 0)
		FUZZ_CHECK(strlen(big) < sizeof(big));
	(void)json_int(j, tok, &v);
	for (i = 0; keys[i] != NULL; i++) {
		if ((m = json_get(j, tok, keys[i])) == -1)
			continue;
		FUZZ_CHECK(m > tok);
		(void)json_string(j, m, big, sizeof(big));
		(void)json_int(j, m, &v);
		(void)json_get(j, m, "value");
	}
}

static void
walk(const uint8_t *data, size_t size)
{
	struct json	*j;
	const char	*text;
	size_t		 len;
	int		 tok;

	if ((j = json_parse((const char *)data, size, MAX_TOKENS)) == NULL)
		return;
	/* Out-of-range indexes included: the getters must refuse them. */
	for (tok = -2; tok <= MAX_TOKENS + 1; tok++) {
		getters(j, tok);
		/* a token's text lies inside the document */
		text = json_text(j, tok, &len);
		FUZZ_CHECK((text == NULL) == (json_type(j, tok) == JSON_NONE));
		if (text != NULL)
			FUZZ_CHECK(text >= (const char *)data &&
			    text + len <= (const char *)data + size);
	}
	json_free(j);
}

static void
body_429(const uint8_t *data, size_t size)
{
	uint64_t	 w;

	if (policy_body_wait((const char *)data, size, &w) == 0)
		FUZZ_CHECK(w <= 24ULL * 3600 * 1000);
	if (policy_body_limit((const char *)data, size, &w) == 0)
		FUZZ_CHECK(w > 0);
}

/* A fake answered POST /oauth/token from client c1. */
static struct call *
token_call(void)
{
	struct call	*c;

	c = call_new("POST", "/oauth/token");
	c->path = c->path_buf = xstrdup("/oauth/token");
	c->up = UP_LOGIN;
	c->status = 200;
	c->tenant = xstrdup("c1");
	return c;
}

/* tenant_identify() on c; whatever it picks must be a valid name. */
static void
identify(const struct token_map *m, struct call *c)
{
	if (tenant_identify(cfg, m, c, NOW_MS + 1) == WERR_NONE) {
		FUZZ_CHECK(c->tenant != NULL);
		FUZZ_CHECK(tenant_name_valid(c->tenant, strlen(c->tenant)));
	} else
		FUZZ_CHECK(c->tenant == NULL);
}

/*
 * A tenant taken from a form body is a whole client_id=VALUE field of it:
 * VALUE ends at '&' or at the end of the body.
 */
static void
form_named(const struct call *c, const uint8_t *data, size_t size)
{
	const uint8_t	*p, *end = data + size;
	char		*field;
	size_t		 n;
	int		 found = 0;

	if (c->tenant == NULL || strcmp(c->tenant, "anonymous") == 0)
		return;
	n = xasprintf(&field, "client_id=%s", c->tenant);
	for (p = data; !found && (p = memmem(p, (size_t)(end - p), field,
	    n)) != NULL; p++)
		found = (p == data || p[-1] == '&') &&
		    (p + n == end || p[n] == '&');
	free(field);
	FUZZ_CHECK(found);
}

static void
tokens(const uint8_t *data, size_t size)
{
	struct token_map	*m;
	struct call		*login, *c;
	struct json		*j;
	char			*raw, *auth, token[8192];
	int			 learned = 0;

	m = token_map_new(64);
	login = token_call();
	buf_append(&login->resp_body, data, size);
	tenant_learn(m, login, NOW_MS, NULL, NULL);
	call_free(login);

	/* The token it should have learned, if the answer had one. */
	if ((j = json_parse((const char *)data, size, MAX_TOKENS)) != NULL) {
		learned = json_string(j, json_get(j, 0, "access_token"),
		    token, sizeof(token)) == 0 && token[0] != '\0' &&
		    token[0] != ' ';
		json_free(j);
	}
	if (learned) {
		c = call_new("GET", "/api/v2/users/me");
		c->path = c->target;
		xasprintf(&auth, "Bearer %s", token);
		hdrs_add(&c->in_hdrs, "Authorization", auth);
		identify(m, c);
		/* Issued to c1, so calls with it belong to c1. */
		FUZZ_CHECK(strcmp(c->tenant, "c1") == 0);
		free(auth);
		call_free(c);
	}

	/* The bytes as the Authorization value, as is and as Basic. */
	raw = fuzz_cstr(data, size);
	c = call_new("GET", "/api/v2/users/me");
	c->path = c->target;
	hdrs_add(&c->in_hdrs, "Authorization", raw);
	identify(m, c);
	call_free(c);

	c = token_call();
	xasprintf(&auth, "Basic %s", raw);
	hdrs_add(&c->in_hdrs, "Authorization", auth);
	identify(m, c);
	free(auth);
	call_free(c);

	/* No Authorization: a client_secret_post form body. */
	c = token_call();
	buf_append(&c->body, data, size);
	identify(m, c);
	form_named(c, data, size);
	call_free(c);

	free(raw);
	explicit_bzero(token, sizeof(token));
	token_map_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	walk(data, size);
	body_429(data, size);
	tokens(data, size);
	return 0;
}
