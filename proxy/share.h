/*
 * share.h - one budget per tenant across every weir, through Redis.
 *
 * With `redis` set, each tenant's pacing state lives in Redis: one GCRA
 * state (its theoretical arrival time), its 429 pause and an epoch bumped
 * by each pause, and what a 429 body said of its limit.  Instances reserve
 * send slots for their queued calls a short horizon ahead (scripts.c's
 * reserve), sched sends on them on the local clock, and a 429 anywhere
 * pauses the tenant everywhere (pause, then a pub/sub message so others
 * learn it at once).  Issued tokens map to their client on every instance.
 *
 * Redis is never on a call's path when slots are held, and never makes a
 * call fail: when it is slow or gone (an operation past redis_timeout, or
 * a few errors in a row) weir goes local: each tenant at its part of the
 * limits (divided by the live instances last seen, sched_set_share), known
 * pauses kept, and comes back to shared when Redis answers again.
 */
#ifndef WEIR_SHARE_H
#define WEIR_SHARE_H

#include <stdint.h>

#include "config.h"
#include "loop.h"
#include "sched.h"

struct share;
struct metrics;

/* NULL when cfg has no redis (nothing is shared then). */
struct share	*share_new(struct loop *, const struct config *,
		    struct sched *, struct metrics *);
void		 share_free(struct share *);
void		 share_set_config(struct share *, const struct config *);
/* Leave the live-instance set (clean shutdown); best effort. */
void		 share_leave(struct share *);

/* A 429 paused tenant for wait_ms here: pause it everywhere. */
void		 share_throttled(struct share *, const char *tenant,
		    uint64_t wait_ms, uint64_t limit_per_min);

/* A token (its SHA-256 digest) was issued to client for ttl_ms. */
void		 share_token_learn(struct share *, const unsigned char *digest,
		    const char *client, uint64_t ttl_ms);
/*
 * Look a token up: fn is called once, later (never before this returns),
 * with the client id, or NULL when Redis does not know it or did not
 * answer in time.  Returns 0, or -1 when weir is not in shared mode or
 * the lookup cannot be sent (fn is not called).
 */
typedef void (*share_token_cb)(const char *client, void *arg);
int		 share_token_lookup(struct share *, const unsigned char *digest,
		    share_token_cb fn, void *arg);

/* For /status, the status page and metrics. */
struct share_info {
	const char	*addr;		/* the redis URL, password hidden */
	int		 shared;	/* 1: shared mode, 0: local */
	const char	*why;		/* local: why ("connecting", ...) */
	uint64_t	 instances;	/* live instances last seen */
	uint64_t	 local_ms;	/* time spent in local mode */
	uint64_t	 ops, errors, timeouts, reconnects;
	uint64_t	 rtt_count;	/* round trips (metrics has them
					 * as a histogram) */
	uint64_t	 rtt_sum_us;
	uint64_t	 granted, wasted;
	uint64_t	 mismatches;	/* replies whose limits differed */
};
void		 share_info(const struct share *, struct share_info *);

#endif
