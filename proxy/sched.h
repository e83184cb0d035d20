/*
 * sched.h - per-tenant queues and pacing.  Pure: every function that
 * depends on time takes now_ms; nothing reads the clock or touches a
 * socket.
 *
 * Each tenant has a queue, a token bucket (rate, burst), an in-flight cap
 * (concurrency) and a pause (after a 429).  Ready tenants are served
 * round-robin.  A tenant's queue is one FIFO per priority class
 * (call->prio): its next slot goes to its oldest high call, then normal,
 * then low, except that a lower class that waits is owed a share: once
 * it has seen priority_share - 1 slots in a row go to higher classes, it
 * gets the next one (the lower of two owed classes first).  Classes never
 * make a slot: when a tenant may send is the bucket's, the cap's and the
 * pause's business alone.  On top of the bucket, sched learns the
 * upstream's window from 429s: how many calls a window took before the
 * first 429 (the budget), and when the window reset (the 429's wait).  In
 * later windows it sends the budget as fast as the bucket allows, then
 * only one call at a time until the next 429 marks the next reset: one
 * rejected call per window instead of one per in-flight call, and no
 * quota wasted at a window's start.
 *
 * A submitted call is owned by sched until sched_next() or
 * sched_expire() hands it out, or sched_remove() takes it back.
 */
#ifndef WEIR_SCHED_H
#define WEIR_SCHED_H

#include <stdint.h>

#include "call.h"
#include "config.h"

#define SCHED_NEVER	UINT64_MAX

/* How often queued calls are checked against their deadlines. */
#define SCHED_EXPIRE_EVERY_MS	50

struct sched;

struct sched	*sched_new(const struct config *);
void		 sched_free(struct sched *);
/* Re-read every tenant's limits from a new config (reload); the new
 * rates apply from now_ms. */
void		 sched_set_config(struct sched *, const struct config *,
		    uint64_t now_ms);

/*
 * Queue a new call (call->tenant, call->prio set) at the tail of its
 * tenant's queue for its class.
 * Returns WERR_NONE, or WERR_QUEUE_FULL or WERR_TOO_MANY_TENANTS; the
 * caller keeps the call then.  A slot is
 * free when max_tenants is not reached or some tenant has nothing queued
 * or out, no pause, and nothing learned from a 429 in the last few
 * minutes: a flood of new tenant names cannot erase a pause.
 */
enum weir_err	 sched_submit(struct sched *, struct call *, uint64_t now_ms);
/* Put a call that must be tried again at the head of its class's queue,
 * not to be sent before at_ms. */
void		 sched_requeue(struct sched *, struct call *, uint64_t at_ms,
		    uint64_t now_ms);
/* The next call that may be sent now (round-robin over ready tenants),
 * or NULL. */
struct call	*sched_next(struct sched *, uint64_t now_ms);
/* A call handed out by sched_next() finished its attempt. */
void		 sched_done(struct sched *, struct call *, uint64_t now_ms);
/*
 * The upstream answered c with 429 and says wait wait_ms: pause c's
 * tenant until then and learn from it.  limit_per_min is the 429 body's
 * limit (0: none).
 */
void		 sched_throttle(struct sched *, struct call *, uint64_t now_ms,
		    uint64_t wait_ms, uint64_t limit_per_min);
/*
 * Queued calls that cannot be sent before their deadline, unlinked and
 * chained through call->next (NULL if none).  Each has not_before_ms set
 * to the soonest it could have been sent (policy_deadline() says what it
 * is answered).
 */
struct call	*sched_expire(struct sched *, uint64_t now_ms);
/* Take a queued call back (its client went away).  1 if it was queued. */
int		 sched_remove(struct sched *, struct call *);
/* When sched_next() or sched_expire() may next have work: now_ms, later,
 * or SCHED_NEVER. */
uint64_t	 sched_next_due(struct sched *, uint64_t now_ms);
/*
 * Shared pacing (share.c drives it).  Local (the default): each lane paces
 * with its own bucket, at its part of the limits when share_n instances
 * share them (rate, burst and concurrency divided by share_n).  Shared:
 * a lane sends only on slots granted by Redis: it asks for them through
 * sched_wants(), one request at a time, and gets them with sched_grant().
 */
struct sched_share {
	int		 shared;	/* slots from Redis, else buckets */
	unsigned	 share_n;	/* local: instances sharing, >= 1 */
	int		 floor;		/* shared: next asks restart empty */
	uint64_t	 horizon_ms;	/* shared: a slot older than this is
					 * dropped */
};
void		 sched_set_share(struct sched *, const struct sched_share *,
		    uint64_t now_ms);

/* A lane that wants slots: k for its queued calls (or, while Redis grants
 * all it asks at once, up to twice its last grant, at most burst, for the
 * calls to come), no more than its in-flight cap leaves room for, nor
 * max_k. */
struct sched_want {
	const char		*tenant;
	uint64_t		 k;
	int			 floor;		/* restart the bucket empty */
	const struct limits	*lim;
};
typedef void (*sched_want_cb)(const struct sched_want *, void *arg);
/* Each lane with queued calls, room under its in-flight cap, no slots,
 * no pause and no request out asks now (fn is called; it counts as
 * asking until its answer). */
void		 sched_wants(struct sched *, uint64_t now_ms, uint64_t max_k,
		    sched_want_cb fn, void *arg);

/* What a reservation got: n slots, slot i at max(0, d0_us + i * T_us)
 * from now; the tenant's epoch and pause as Redis knows them. */
struct sched_slots {
	uint64_t	 n;
	int64_t		 d0_us;
	uint64_t	 T_us;
	uint64_t	 epoch;
	uint64_t	 pause_ms;	/* left of the shared pause, 0: none */
	uint64_t	 limit_per_min;	/* learned from a 429 body, 0: none */
	uint64_t	 retry_ms;	/* n == 0: ask again after this */
};
void		 sched_grant(struct sched *, const char *tenant,
		    const struct sched_slots *, uint64_t now_ms);
/* The reservation failed (Redis did not answer): the lane may ask again
 * retry_ms from now. */
void		 sched_ask_failed(struct sched *, const char *tenant,
		    uint64_t now_ms, uint64_t retry_ms);
/* Another instance saw a 429: pause_ms from now, epoch (drops slots of
 * older epochs). */
void		 sched_shared_pause(struct sched *, const char *tenant,
		    uint64_t epoch, uint64_t pause_ms, uint64_t now_ms);

/* What sched holds and has done, all tenants together. */
struct sched_totals {
	uint64_t	 queued;	/* calls waiting in queues */
	uint64_t	 inflight;	/* handed out and not done */
	uint64_t	 tenants;	/* lanes */
	uint64_t	 refused;	/* new tenants refused: every lane was
					 * worth keeping */
	uint64_t	 steps;		/* loop iterations so far (tests bound
					 * the work per call with it) */
	uint64_t	 granted;	/* shared slots granted */
	uint64_t	 wasted;	/* of them, dropped unused */
};
struct sched_totals sched_totals(const struct sched *);
/* Calls of class k waiting, all tenants. */
uint64_t	 sched_queued_class(const struct sched *, enum prio_class k);
/* Take every queued call out, one by one (shutdown). */
struct call	*sched_drain(struct sched *);

/* A tenant's state, for headers, logs and /status. */
struct sched_tenant_info {
	const char	*name;
	uint64_t	 queued;
	uint64_t	 queued_by[PRIO_N];	/* of them, by class */
	uint64_t	 inflight;
	uint64_t	 cap;			/* in-flight cap now */
	uint64_t	 paused_until_ms;	/* 0: not paused */
	double		 rate_per_s;		/* paced at now */
	uint64_t	 available;		/* calls the bucket allows now */
	uint64_t	 budget;		/* learned per window, 0 unknown */
	uint64_t	 learned_per_min;	/* from 429 bodies, 0 unknown */
	double		 configured_per_s;	/* the configured rate */
	uint64_t	 throttled;		/* 429s seen */
	uint64_t	 last_429_ms;		/* 0: never */
	uint64_t	 sent;			/* attempts sent */
	uint64_t	 epoch;			/* shared: newest 429 epoch */
};
/* Fill info for tenant name: 0, or -1 if unknown. */
int		 sched_tenant_info(const struct sched *, const char *name,
		    uint64_t now_ms, struct sched_tenant_info *);
/* Call fn for every tenant sched knows (in no particular order). */
typedef void (*sched_tenant_cb)(const struct sched_tenant_info *, void *);
void		 sched_foreach(const struct sched *, uint64_t now_ms,
		    sched_tenant_cb fn, void *arg);

#endif
