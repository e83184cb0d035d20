/*
 * route.h - where a call goes and what travels with it.  Pure: no clock,
 * no sockets.
 *
 * route_call() takes a call as front made it (method, raw target, the
 * headers as received) and fills in the upstream (api or login), the path
 * to send, and the headers to forward: hop-by-hop fields removed (and any
 * named in Connection), Host dropped (the upstream's is set by upstream.c),
 * framing fields dropped (upstream.c frames the body), weir's own control
 * headers removed, and the request id set.  The add_header fields join at
 * dispatch (route_upstream_headers), so that a reload reaches calls that
 * were already queued.
 * Refuses anything that is not for a configured upstream: weir is never an
 * open proxy.
 */
#ifndef WEIR_ROUTE_H
#define WEIR_ROUTE_H

#include "call.h"
#include "config.h"

/*
 * Fill in call->up, call->path, call->reqid.  A caller id
 * under cfg->request_id_header is kept when valid, else a new one is made.
 * Returns WERR_NONE, or the error to answer with (the call is untouched
 * but for what was filled before the refusal).
 */
enum weir_err route_call(const struct config *, struct call *);

/*
 * Give the call its request id, unless it has one: the caller's under
 * cfg->request_id_header when acceptable, else a new UUIDv4.  0, or -1 if
 * no random bytes could be had.
 */
int	route_request_id(const struct config *, struct call *);

/*
 * Is this a hop-by-hop field that a proxy must not forward?  conn is the
 * message's Connection value (or NULL): fields it names are hop-by-hop too.
 */
int	route_hop_by_hop(const char *name, const char *conn);

/* One field, name and value owned by the list it comes from. */
typedef void (*route_hdr_fn)(const char *name, const char *value,
	    void *arg);

/* The fields one attempt sends: the client's end-to-end ones, less any
 * the configuration's add_header replaces, the request id, then the
 * add_header fields.  Appended to out. */
void	route_upstream_headers(const struct config *, const struct call *,
	    struct hdrs *out);
/* The same fields, in the same order, handed to fn one by one: no copy. */
void	route_upstream_headers_each(const struct config *,
	    const struct call *, route_hdr_fn fn, void *arg);

/* Copy the response fields a client may see into out: not hop-by-hop
 * ones, not Content-Length, not X-Weir-* (weir adds its own). */
void	route_response_headers(const struct hdrs *in, struct hdrs *out);
/* The same fields handed to fn one by one: no copy. */
void	route_response_headers_each(const struct hdrs *in, route_hdr_fn fn,
	    void *arg);

#endif
