/*
 * route.c - upstream choice, prefixes, header filtering and request ids.
 *
 * Pure: reads the config and the call, writes the call.  No clock, no
 * sockets (reqid_new() reads the random generator).
 */
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#include "reqid.h"
#include "route.h"
#include "xmalloc.h"

/* RFC 9110 7.6.1 and the usual extras. */
static const char *const hop_by_hop[] = {
	"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
	"Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding",
	"Upgrade", NULL
};

int
route_hop_by_hop(const char *name, const char *conn)
{
	size_t	 i;

	for (i = 0; hop_by_hop[i] != NULL; i++)
		if (strcasecmp(name, hop_by_hop[i]) == 0)
			return 1;
	return conn != NULL && hdr_list_has(conn, name);
}

/* All Connection fields of a message joined with commas, or NULL. */
static char *
connection_tokens(const struct hdrs *h)
{
	char	*all = NULL, *tmp;
	size_t	 i;

	for (i = 0; i < h->n; i++) {
		if (strcasecmp(h->v[i].name, "Connection") != 0)
			continue;
		if (all == NULL)
			all = xstrdup(h->v[i].value);
		else {
			xasprintf(&tmp, "%s,%s", all, h->v[i].value);
			free(all);
			all = tmp;
		}
	}
	return all;
}

/*
 * If target's path is prefix or lies under it (segment boundary), return
 * what follows the prefix; else NULL.
 */
static const char *
strip_prefix(const char *target, const char *prefix)
{
	size_t	 n;

	if (prefix == NULL || *prefix == '\0')
		return NULL;
	n = strlen(prefix);
	if (strncmp(target, prefix, n) != 0)
		return NULL;
	if (target[n] == '/' || target[n] == '?' || target[n] == '\0')
		return target + n;
	return NULL;
}

static int
is_login_path(const char *path)
{
	return strncmp(path, "/oauth/", 7) == 0 ||
	    strcmp(path, "/oauth") == 0 || strncmp(path, "/oauth?", 7) == 0;
}

enum weir_err
route_call(const struct config *cfg, struct call *c)
{
	const char	*rest;

	/*
	 * Only origin-form targets: an absolute URL, an authority (CONNECT)
	 * or '*' would make weir a proxy for hosts it was not set up for.
	 */
	if (c->target[0] != '/')
		return WERR_NOT_ROUTABLE;
	if (strcmp(c->method, "CONNECT") == 0)
		return WERR_METHOD_NOT_ALLOWED;

	if ((rest = strip_prefix(c->target, cfg->login_prefix)) != NULL)
		c->up = UP_LOGIN;
	else if ((rest = strip_prefix(c->target, cfg->api_prefix)) != NULL)
		c->up = UP_API;
	else {
		rest = c->target;
		c->up = is_login_path(rest) ? UP_LOGIN : UP_API;
	}
	free(c->path_buf);
	c->path_buf = NULL;
	if (*rest == '/')
		c->path = rest;
	else {
		xasprintf(&c->path_buf, "/%s", rest);	/* "/api" or "/api?x" */
		c->path = c->path_buf;
	}

	if (route_request_id(cfg, c) == -1)
		return WERR_INTERNAL;
	return WERR_NONE;
}

int
route_request_id(const struct config *cfg, struct call *c)
{
	const char	*id;

	if (c->reqid[0] != '\0')
		return 0;
	id = hdrs_get(&c->in_hdrs, cfg->request_id_header);
	if (id != NULL && reqid_valid(id)) {
		call_set_reqid(c, id);
		c->reqid_from_client = 1;
		return 0;
	}
	call_set_reqid(c, "");
	return reqid_new(c->reqid_buf, sizeof(c->reqid_buf));
}

/*
 * Is the client's field name forwarded: end-to-end (conn is the request's
 * Connection tokens), and none of weir's own?
 */
static int
forwarded(const struct config *cfg, const char *name, const char *conn)
{
	return !route_hop_by_hop(name, conn) &&
	    strcasecmp(name, "Host") != 0 &&
	    strcasecmp(name, "Content-Length") != 0 &&
	    strcasecmp(name, "Expect") != 0 &&
	    strncasecmp(name, "X-Weir-", 7) != 0 &&
	    strcasecmp(name, cfg->request_id_header) != 0;
}

/*
 * Made when the call is sent, not when it arrives: a waiting call holds
 * the head as received and nothing more (tests/bench/memory.sh).
 */
void
route_upstream_headers_each(const struct config *cfg, const struct call *c,
    route_hdr_fn fn, void *arg)
{
	const struct hdrs	*add = &cfg->add_headers;
	char			*conn;
	size_t			 i;

	conn = connection_tokens(&c->in_hdrs);
	for (i = 0; i < c->in_hdrs.n; i++) {
		const struct hdr *h = &c->in_hdrs.v[i];

		if (forwarded(cfg, h->name, conn) &&
		    hdrs_get(add, h->name) == NULL)
			fn(h->name, h->value, arg);
	}
	free(conn);
	if (hdrs_get(add, cfg->request_id_header) == NULL)
		fn(cfg->request_id_header, c->reqid, arg);
	for (i = 0; i < add->n; i++)
		fn(add->v[i].name, add->v[i].value, arg);
}

/* route_hdr_fn: append to a list. */
static void
append(const char *name, const char *value, void *out)
{
	hdrs_add(out, name, value);
}

void
route_upstream_headers(const struct config *cfg, const struct call *c,
    struct hdrs *out)
{
	route_upstream_headers_each(cfg, c, append, out);
}

void
route_response_headers_each(const struct hdrs *in, route_hdr_fn fn,
    void *arg)
{
	char	*conn;
	size_t	 i;

	conn = connection_tokens(in);
	for (i = 0; i < in->n; i++) {
		const char *name = in->v[i].name;

		/* X-Weir-* are weir's to say: an upstream's (or anything
		 * between) would pass for weir's own. */
		if (route_hop_by_hop(name, conn) ||
		    strcasecmp(name, "Content-Length") == 0 ||
		    strncasecmp(name, "X-Weir-", 7) == 0)
			continue;
		fn(name, in->v[i].value, arg);
	}
	free(conn);
}

void
route_response_headers(const struct hdrs *in, struct hdrs *out)
{
	route_response_headers_each(in, append, out);
}
