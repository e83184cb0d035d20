/*
 * policy.h - what to do with the outcome of one upstream attempt.  Pure:
 * no clock (now_ms, the loop's monotonic clock, and wall_ms, the epoch
 * time for absolute dates, are passed in), no sockets.
 *
 * 429: wait as Retry-After (delta or HTTP-date) says, else the reset
 *   headers (X-RateLimit-Reset / RateLimit-Reset, delta or epoch seconds),
 *   else the body's "Retry the request in [N] seconds", else exponential
 *   backoff with jitter (1 s base, 60 s cap), never more than max_pause;
 *   pause the whole tenant; any method is retried (429 means not
 *   processed).
 * 502/503/504 and transfer failures: retried with backoff for idempotent
 *   methods (GET HEAD OPTIONS PUT DELETE, or an Idempotency-Key), up to
 *   max_retries; a refused connection (nothing was sent) for any method.
 * Anything else, or a wait that would end past the call's deadline: answer.
 * So is a call whose answer streams already (call->streaming): its client
 * has the head, and a failed transfer can only cut the body short.
 */
#ifndef WEIR_POLICY_H
#define WEIR_POLICY_H

#include <stdint.h>

#include "call.h"
#include "config.h"

enum policy_verdict {
	POLICY_ANSWER = 0,	/* the upstream's answer, as it came */
	POLICY_RETRY,		/* send the call again after wait_ms */
	POLICY_FAIL,		/* answer weir's error err */
};

/*
 * A decision.  The caller applies it: counts the retry (reason) on the
 * call, pauses the tenant (pause_tenant), sets the error and Retry-After,
 * then requeues or answers.  policy never changes the call.
 */
struct policy_decision {
	enum policy_verdict	 verdict;
	uint64_t		 wait_ms;	/* RETRY: from now */
	enum weir_err		 err;		/* FAIL */
	int			 retry_after_s;	/* >0: answer with this */
	const char		*reason;	/* "429", "5xx", "network" */
	int			 pause_tenant;	/* 429: hold the whole tenant */
	uint64_t		 wait_hint_ms;	/* 429: the upstream's wait */
	uint64_t		 limit_per_min;	/* 429 body's limit.value, or 0 */
};

/* What to do with the outcome of c's last attempt. */
void	policy_classify(const struct config *, const struct call *,
	    uint64_t now_ms, int64_t wall_ms, struct policy_decision *);

/*
 * What a call gets when it cannot be sent before its deadline, the one
 * place this is decided: its last 429 if it had one, else 503
 * weir.deadline, with Retry-After the time until earliest_ms, the soonest
 * it could have gone (at least 1 s).
 */
void	policy_deadline(const struct call *, uint64_t earliest_ms,
	    uint64_t now_ms, struct policy_decision *);

/* The error weir answers a failed transfer with. */
enum weir_err policy_xfer_error(enum xfer_err);

/*
 * Parsers, 0 or -1 (garbage).  Retry-After: delta-seconds or an HTTP-date
 * (IMF-fixdate, RFC 850, asctime); a date in the past is a wait of 0.
 * Reset: delta seconds, or epoch seconds when larger than 10^9.
 */
int	policy_retry_after(const char *, int64_t wall_ms, uint64_t *wait_ms);
int	policy_reset(const char *, int64_t wall_ms, uint64_t *wait_ms);
/* From a 429 body: "Retry the request in [N] seconds" and limit.value. */
int	policy_body_wait(const char *body, size_t len, uint64_t *wait_ms);
int	policy_body_limit(const char *body, size_t len, uint64_t *per_min);
/* Backoff for the nth retry (n >= 1): base * 2^(n-1) capped at cap_ms,
 * jittered into [half, full] by seed. */
uint64_t policy_backoff(unsigned n, uint64_t base_ms, uint64_t cap_ms,
	    uint32_t seed);
/* Is the method safe to repeat (or does the call carry an
 * Idempotency-Key)? */
int	policy_idempotent(const struct call *);
/*
 * Will an answer with this status go to the client as it is, whatever its
 * body says (1), or may policy_classify() retry it (0: a 429, or a
 * 502/503/504 for a call that may still be retried)?  Decided on the head
 * alone, so that upstream.c may stream the body of a final answer.
 */
int	policy_final_status(const struct config *, const struct call *,
	    int status);

#endif
