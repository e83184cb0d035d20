/*
 * error.c - the table of weir's errors and their JSON; see error.h.
 * Touches nothing but memory.
 */
#include <string.h>

#include "call.h"
#include "error.h"
#include "log.h"

static const struct {
	int		 status;
	const char	*code;
	const char	*message;
} table[WERR_COUNT] = {
	[WERR_NONE] = { 200, "weir.ok", "" },
	[WERR_BAD_REQUEST] = { 400, "weir.bad_request",
	    "The request is malformed" },
	[WERR_NOT_ROUTABLE] = { 400, "weir.not_routable",
	    "weir forwards only origin-form targets (/path?query) to its "
	    "configured upstreams; it is not an open proxy" },
	[WERR_METHOD_NOT_ALLOWED] = { 405, "weir.method_not_allowed",
	    "CONNECT is not supported: weir is not an open proxy" },
	[WERR_BAD_TENANT] = { 400, "weir.bad_tenant",
	    "X-Weir-Tenant (or the tenant header) must be 1-128 characters "
	    "of A-Z a-z 0-9 . _ : @ -" },
	[WERR_BAD_MAX_WAIT] = { 400, "weir.bad_max_wait",
	    "X-Weir-Max-Wait must be a number of seconds" },
	[WERR_BAD_PRIORITY] = { 400, "weir.bad_priority",
	    "X-Weir-Priority must be high, normal or low" },
	[WERR_BODY_TOO_LARGE] = { 413, "weir.body_too_large",
	    "The request body is larger than max_body" },
	[WERR_HEADERS_TOO_LARGE] = { 431, "weir.headers_too_large",
	    "The request head is larger than max_header_size" },
	[WERR_UNSUPPORTED_TRANSFER_ENCODING] = { 501,
	    "weir.unsupported_transfer_encoding",
	    "Only Transfer-Encoding: chunked is supported" },
	[WERR_BUSY] = { 503, "weir.busy",
	    "Request bodies held by weir have reached max_body_memory; "
	    "retry shortly" },
	[WERR_QUEUE_FULL] = { 503, "weir.queue_full",
	    "Too many calls are waiting for this tenant (max_queue)" },
	[WERR_TOO_MANY_TENANTS] = { 503, "weir.too_many_tenants",
	    "Too many tenants are active (max_tenants)" },
	[WERR_TOO_MANY_CONNECTIONS] = { 503, "weir.too_many_connections",
	    "weir has max_connections client connections open" },
	[WERR_OUT_OF_DESCRIPTORS] = { 503, "weir.too_many_connections",
	    "weir is out of file descriptors; retry the request" },
	[WERR_DEADLINE] = { 503, "weir.deadline",
	    "The call could not be sent upstream within its maximum wait "
	    "(max_wait / X-Weir-Max-Wait)" },
	[WERR_SHUTTING_DOWN] = { 503, "weir.shutting_down",
	    "weir is shutting down; retry the request" },
	[WERR_INTERNAL] = { 500, "weir.internal",
	    "weir could not make a request id" },
	[WERR_UPSTREAM_UNREACHABLE] = { 502, "weir.upstream_unreachable",
	    "The upstream could not be reached" },
	[WERR_UPSTREAM_TIMEOUT] = { 504, "weir.upstream_timeout",
	    "The upstream did not answer in time" },
	[WERR_UPSTREAM_TLS] = { 502, "weir.upstream_tls",
	    "TLS with the upstream failed" },
	[WERR_UPSTREAM_BAD_RESPONSE] = { 502, "weir.upstream_bad_response",
	    "The upstream sent a malformed or incomplete answer" },
	[WERR_UPSTREAM_SEND_FAILED] = { 502, "weir.upstream_send_failed",
	    "The request could not be sent to the upstream" },
	[WERR_UPSTREAM_ERROR] = { 502, "weir.upstream_error",
	    "The upstream transfer failed" },
	[WERR_UPSTREAM_HEAD_TOO_LARGE] = { 502, "weir.upstream_head_too_large",
	    "The upstream's answer head is too large to send after this "
	    "request's head (raise max_header_size)" },
	[WERR_CLIENT_GONE] = { 499, "weir.client_gone",
	    "The client went away before the answer" },
	[WERR_ADMIN_NOT_FOUND] = { 404, "weir.not_found",
	    "no such admin endpoint; try /healthz, /metrics, /status or /" },
	[WERR_ADMIN_METHOD] = { 405, "weir.method_not_allowed",
	    "the admin endpoints answer GET and HEAD" },
};

static enum weir_err
known(enum weir_err e)
{
	return (unsigned)e < WERR_COUNT ? e : WERR_INTERNAL;
}

int
error_status(enum weir_err e)
{
	return table[known(e)].status;
}

const char *
error_code(enum weir_err e)
{
	return table[known(e)].code;
}

const char *
error_message(enum weir_err e)
{
	return table[known(e)].message;
}

void
error_json(struct buf *b, enum weir_err e, const char *message,
    const char *reqid)
{
	if (message == NULL)
		message = error_message(e);
	buf_append(b, "{\"message\":\"", 12);
	json_escape(b, message, strlen(message));
	buf_printf(b, "\",\"code\":\"%s\",\"status\":%d", error_code(e),
	    error_status(e));
	if (reqid != NULL) {
		buf_append(b, ",\"contextId\":\"", 14);
		json_escape(b, reqid, strlen(reqid));
		buf_append(b, "\"", 1);
	}
	buf_append(b, ",\"details\":[],\"errors\":[]}", 26);
}
