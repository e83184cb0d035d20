/*
 * policy.h - what to do with the outcome of one upstream attempt.  Pure:
 * no clock (now_ms is passed in), no sockets.
 *
 * policy_classify() looks at the call's last attempt (transfer error or
 * upstream status and headers) and says: answer the client now, or try
 * again after wait_ms.  On a transfer failure that will be answered, it
 * turns the call's answer into weir's own JSON error (502 or 504).
 */
#ifndef WEIR_POLICY_H
#define WEIR_POLICY_H

#include <stdint.h>

#include "call.h"
#include "config.h"

enum policy_verdict {
	POLICY_ANSWER = 0,
	POLICY_RETRY,
};

struct policy_decision {
	enum policy_verdict	 verdict;
	uint64_t		 wait_ms;	/* with POLICY_RETRY */
	const char		*reason;	/* "429", "503", "connect" */
};

void	policy_classify(const struct config *, struct call *, uint64_t now_ms,
	    struct policy_decision *);

/* The HTTP status and JSON code weir answers a failed transfer with. */
void	policy_xfer_error(enum xfer_err, int *status, const char **code,
	    const char **message);

#endif
