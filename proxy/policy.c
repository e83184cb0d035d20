/*
 * policy.c - classify an upstream outcome; see policy.h.  Pure.
 */
#include "policy.h"

void
policy_xfer_error(enum xfer_err e, int *status, const char **code,
    const char **message)
{
	switch (e) {
	case XFER_CONNECT:
		*status = 502;
		*code = "weir.upstream_unreachable";
		*message = "The upstream could not be reached";
		break;
	case XFER_TIMEOUT:
		*status = 504;
		*code = "weir.upstream_timeout";
		*message = "The upstream did not answer in time";
		break;
	case XFER_TLS:
		*status = 502;
		*code = "weir.upstream_tls";
		*message = "TLS with the upstream failed";
		break;
	case XFER_BAD_RESPONSE:
		*status = 502;
		*code = "weir.upstream_bad_response";
		*message = "The upstream sent a malformed or incomplete answer";
		break;
	case XFER_SEND:
		*status = 502;
		*code = "weir.upstream_send_failed";
		*message = "The request could not be sent to the upstream";
		break;
	case XFER_OK:
	case XFER_OTHER:
	default:
		*status = 502;
		*code = "weir.upstream_error";
		*message = "The upstream transfer failed";
		break;
	}
}

void
policy_classify(const struct config *cfg, struct call *c, uint64_t now_ms,
    struct policy_decision *d)
{
	int		 status;
	const char	*code, *message;

	(void)cfg;
	(void)now_ms;
	d->verdict = POLICY_ANSWER;
	d->wait_ms = 0;
	d->reason = NULL;
	if (c->xfer_error != XFER_OK) {
		policy_xfer_error(c->xfer_error, &status, &code, &message);
		call_set_error(c, status, code, message);
	}
}
