/*
 * error.h - weir's own errors: one enum, one table, one renderer.
 *
 * Every answer weir makes itself (not the upstream's) is one of these, as
 * curl's CURLcode and curl_easy_strerror(): the enum travels, the table
 * says its HTTP status, its Genesys-shape code and its usual message, and
 * error_json() renders it, for the proxy and the admin listener alike.  A
 * call may carry a more precise message than the table's ("obs-fold, RFC
 * 9112 5.2" for a bad request); the code and status never vary.
 */
#ifndef WEIR_ERROR_H
#define WEIR_ERROR_H

struct buf;

enum weir_err {
	WERR_NONE = 0,
	/* the request */
	WERR_BAD_REQUEST,
	WERR_NOT_ROUTABLE,
	WERR_METHOD_NOT_ALLOWED,
	WERR_BAD_TENANT,
	WERR_BAD_MAX_WAIT,
	WERR_BAD_PRIORITY,
	WERR_BODY_TOO_LARGE,
	WERR_HEADERS_TOO_LARGE,
	WERR_UNSUPPORTED_TRANSFER_ENCODING,
	/* weir's limits and state */
	WERR_BUSY,
	WERR_QUEUE_FULL,
	WERR_TOO_MANY_TENANTS,
	WERR_TOO_MANY_CONNECTIONS,
	WERR_OUT_OF_DESCRIPTORS,
	WERR_DEADLINE,
	WERR_SHUTTING_DOWN,
	WERR_INTERNAL,
	/* the upstream */
	WERR_UPSTREAM_UNREACHABLE,
	WERR_UPSTREAM_TIMEOUT,
	WERR_UPSTREAM_TLS,
	WERR_UPSTREAM_BAD_RESPONSE,
	WERR_UPSTREAM_SEND_FAILED,
	WERR_UPSTREAM_ERROR,
	WERR_UPSTREAM_HEAD_TOO_LARGE,
	/* the client left: logged, never sent */
	WERR_CLIENT_GONE,
	/* the admin listener */
	WERR_ADMIN_NOT_FOUND,
	WERR_ADMIN_METHOD,
	WERR_COUNT
};

/* The HTTP status, the code ("weir.queue_full") and the usual message. */
int		 error_status(enum weir_err);
const char	*error_code(enum weir_err);
const char	*error_message(enum weir_err);

/*
 * Append the JSON error body, Genesys' shape
 * {"message","code","status","contextId","details":[],"errors":[]}, to b.
 * message NULL: the table's.  reqid NULL: no contextId (the admin
 * listener's answers have no request id).
 */
void		 error_json(struct buf *b, enum weir_err, const char *message,
		    const char *reqid);

#endif
