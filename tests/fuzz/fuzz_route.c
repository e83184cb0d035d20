/*
 * fuzz_route.c - libFuzzer target for request routing and header
 * filtering: route_call(), route_response_headers() and tenant_identify()
 * on a request read from the input, under two configurations.
 *
 * Input format, HTTP/1-like: the first line is "METHOD SP TARGET", the
 * lines after it "Name: value" header fields up to an empty line, and the
 * rest is the body.  Lines end in LF (a CR before it is dropped).  Like
 * libmicrohttpd, the reader drops lines without a colon and names that
 * are empty, and trims blanks around values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "call.h"
#include "config.h"
#include "fuzz.h"
#include "hdr.h"
#include "reqid.h"
#include "route.h"
#include "tenant.h"
#include "xmalloc.h"

#define NOW_MS	1000

/* Prefixed routes (the Node.js SDK's setGateway) and two add_headers. */
static const char conf_prefixed[] =
    "api_prefix = /api\n"
    "login_prefix = /login\n"
    "add_header = X-Genesys-Client: weir-fuzz\n"
    "add_header = User-Agent: weir\n";
/* No prefixes, tenants by header, Genesys' correlation id as the id. */
static const char conf_plain[] =
    "request_id_header = ININ-Correlation-Id\n"
    "tenant_key = header:X-Tenant\n"
    "add_header = Accept-Encoding: identity\n";

static struct config	*cfg_prefixed, *cfg_plain;

static struct config *
load(const char *text)
{
	struct config	*cfg;
	char		 err[256];

	cfg = config_new();
	if (config_file_mem(cfg, "fuzz.conf", text, err, sizeof(err)) == -1 ||
	    config_finish(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz_route: %s\n", err);
		abort();
	}
	return cfg;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg_prefixed = load(conf_prefixed);
	cfg_plain = load(conf_plain);
	return 0;
}

/* The next line of [*p, end) without its LF (and CR); NULL at the end. */
static const char *
next_line(const char **p, const char *end, size_t *len)
{
	const char	*line = *p, *nl;

	if (line >= end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	*len = (size_t)((nl != NULL ? nl : end) - line);
	*p = nl != NULL ? nl + 1 : end;
	if (*len > 0 && line[*len - 1] == '\r')
		(*len)--;
	return line;
}

static struct call *
read_request(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size;
	const char	*line, *sp, *colon, *v;
	char		*method, *target;
	struct call	*c;
	size_t		 len, nlen, vlen;

	if ((line = next_line(&p, end, &len)) == NULL) {
		line = "";
		len = 0;
	}
	if ((sp = memchr(line, ' ', len)) != NULL) {
		method = xstrndup(line, (size_t)(sp - line));
		target = xstrndup(sp + 1, len - (size_t)(sp - line) - 1);
	} else {
		method = xstrndup(line, len);
		target = xstrdup("/");
	}
	c = call_new(method, target);
	free(method);
	free(target);

	while ((line = next_line(&p, end, &len)) != NULL && len > 0) {
		if ((colon = memchr(line, ':', len)) == NULL ||
		    colon == line)
			continue;
		nlen = (size_t)(colon - line);
		v = colon + 1;
		vlen = len - nlen - 1;
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		/* libmicrohttpd's strings are C strings: no NUL inside. */
		if (memchr(line, '\0', nlen) != NULL ||
		    memchr(v, '\0', vlen) != NULL)
			continue;
		hdrs_addn(&c->in_hdrs, line, nlen, v, vlen);
	}
	if (p < end) {
		buf_append(&c->body, p, (size_t)(end - p));
		c->has_body = 1;
	}
	return c;
}

static int
is_add_header(const struct config *cfg, const char *name)
{
	return hdrs_get(&cfg->add_headers, name) != NULL;
}

/* Is name listed in any Connection field of h? */
static int
named_in_connection(const struct hdrs *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->v[i].name, "Connection") == 0 &&
		    hdr_list_has(h->v[i].value, name))
			return 1;
	return 0;
}

/* What route.h promises about a routed call. */
static void
check_routed(const struct config *cfg, const struct call *c)
{
	const struct hdr	*h;
	struct hdrs		 sent = { 0 };
	size_t			 i, ids = 0;

	FUZZ_CHECK(c->path != NULL && c->path[0] == '/');
	FUZZ_CHECK(c->up == UP_API || c->up == UP_LOGIN);
	FUZZ_CHECK(reqid_valid(c->reqid));
	/* what goes upstream: add_header replaces, never duplicates */
	route_upstream_headers(cfg, c, &sent);
	for (i = 0; i < sent.n; i++) {
		h = &sent.v[i];
		if (is_add_header(cfg, h->name))
			continue;
		if (strcasecmp(h->name, cfg->request_id_header) == 0) {
			FUZZ_CHECK(strcmp(h->value, c->reqid) == 0);
			ids++;
			continue;
		}
		FUZZ_CHECK(!route_hop_by_hop(h->name, NULL));
		FUZZ_CHECK(!named_in_connection(&c->in_hdrs, h->name));
		FUZZ_CHECK(strcasecmp(h->name, "Host") != 0);
		FUZZ_CHECK(strcasecmp(h->name, "Content-Length") != 0);
		FUZZ_CHECK(strcasecmp(h->name, "Expect") != 0);
		FUZZ_CHECK(strncasecmp(h->name, "X-Weir-", 7) != 0);
	}
	FUZZ_CHECK(ids == (is_add_header(cfg, cfg->request_id_header) ? 0 : 1));
	for (i = 0; i < cfg->add_headers.n; i++)
		FUZZ_CHECK(hdrs_get(&sent, cfg->add_headers.v[i].name) != NULL);
	FUZZ_CHECK(sent.n <= c->in_hdrs.n + 1 + cfg->add_headers.n);
	hdrs_free(&sent);
}

static void
route(const struct config *cfg, const struct token_map *m, struct call *c)
{
	enum weir_err		 err;

	if ((err = route_call(cfg, c)) != WERR_NONE) {
		FUZZ_CHECK(error_status(err) >= 400 &&
		    error_status(err) <= 599);
		FUZZ_CHECK(strncmp(error_code(err), "weir.", 5) == 0);
		return;
	}
	check_routed(cfg, c);
	if (tenant_identify(cfg, m, c, NOW_MS) == WERR_NONE)
		FUZZ_CHECK(c->tenant != NULL &&
		    tenant_name_valid(c->tenant, strlen(c->tenant)));
	else
		FUZZ_CHECK(c->tenant == NULL);
}

/* The same fields as an upstream's answer. */
static void
response(const struct call *c)
{
	struct hdrs	 out;
	size_t		 i;

	memset(&out, 0, sizeof(out));
	route_response_headers(&c->in_hdrs, &out);
	for (i = 0; i < out.n; i++) {
		FUZZ_CHECK(!route_hop_by_hop(out.v[i].name, NULL));
		FUZZ_CHECK(!named_in_connection(&c->in_hdrs, out.v[i].name));
		FUZZ_CHECK(strcasecmp(out.v[i].name, "Content-Length") != 0);
	}
	hdrs_free(&out);
}

/* A map that knows one token, so a bearer lookup can hit. */
static struct token_map *
token_map(void)
{
	static const char	 answer[] = "{\"access_token\":\"fuzz-token\","
	    "\"token_type\":\"bearer\",\"expires_in\":86399}";
	struct token_map	*m;
	struct call		*login;

	m = token_map_new(64);
	login = call_new("POST", "/oauth/token");
	login->path = login->path_buf = xstrdup("/oauth/token");
	login->up = UP_LOGIN;
	login->status = 200;
	login->tenant = xstrdup("fuzz-client");
	buf_append(&login->resp_body, answer, sizeof(answer) - 1);
	tenant_learn(m, login, 0, NULL, NULL);
	call_free(login);
	return m;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token_map	*m;
	struct call		*c;

	m = token_map();
	c = read_request(data, size);
	route(cfg_prefixed, m, c);
	/* Routing again must replace, not add to, what the first did. */
	route(cfg_plain, m, c);
	response(c);

	/* As if the request were a token request that was answered. */
	if (c->path != NULL) {
		c->status = 200;
		buf_append(&c->resp_body, c->body.p, c->body.len);
		tenant_learn(m, c, NOW_MS, NULL, NULL);
	}
	call_free(c);
	token_map_free(m);
	return 0;
}
