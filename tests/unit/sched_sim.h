/*
 * sched_sim.h - drive sched through a history of operations with a fake
 * clock, as weir's loop drives it, and check its invariants after every
 * step against a small model kept beside it.
 *
 * A history is a list of operations (submit calls of a class, finish an
 * attempt with 200, 429 or 503, take a call back, a client gone
 * mid-attempt, advance the clock to when sched says, a little, or a jump
 * of hours, reload with other limits; and for shared budgets: switch
 * between local mode at a part of the limits and shared mode, let lanes
 * ask for slots, answer an ask with a grant or a failure, grant slots
 * nobody asked for, a pause and a newer epoch from another instance).
 * Each operation refers to calls and tenants by small numbers taken
 * modulo what exists, so any list of operations is a valid history and
 * any sub-list of a history is one too: that is what lets a failing
 * history be shrunk, and a fuzzer's bytes be decoded into one.
 *
 * After every operation the loop's pass runs (sched_expire, then
 * sched_next until NULL) and these must hold:
 *  - every call is handed out, expired or taken back exactly once; none
 *    is lost (counts and per-tenant queues equal the model's);
 *  - sched_next hands out the head of the class the priority rule says
 *    (the highest class with calls, unless a lower class that waited
 *    through priority_share - 1 slots of higher classes is owed this
 *    one, the lowest such first), FIFO within a class, retries at the
 *    head of their class; never a call of a paused tenant before the
 *    pause ends (a 429, a pause in a grant or from another instance),
 *    never a retry before its time, never past the in-flight cap (local
 *    mode beside n instances: concurrency / n);
 *  - shares: no class with calls waiting sees priority_share slots of
 *    its tenant in a row go to higher classes;
 *  - local mode: no tenant sends more than burst + elapsed * rate in any
 *    interval (beside n instances: burst / n and rate / n), and since a
 *    switch from shared mode no more than 1 + elapsed * rate / n (the
 *    bucket starts empty: no burst on top of slots just spent);
 *  - shared mode: every call goes on a slot its lane was granted: no more
 *    calls than the grant's slots, none before its slot's time (slot i at
 *    max(t, t + d0 + i * T), t the grant's time, in ms rounded up), none
 *    on a slot dropped: of an epoch older than the newest sched was told
 *    (a grant, a pause from another instance), older than the horizon at
 *    a sched_wants, granted before a switch to local or before its lane
 *    was forgotten; nothing without a grant;
 *  - asks: sched_wants asks exactly for the lanes that have queued calls,
 *    no slots, no ask out, no pause and no retry time ahead (no lane
 *    starves, none asks twice), each for min(queued, max_k), with the
 *    floor a switch to shared set; grants nobody asked for, of an older
 *    epoch or in local mode are ignored and wasted;
 *  - slots: sched's granted, wasted, held (per lane) and epochs equal
 *    the model's, and granted == wasted + used + held;
 *  - round-robin: between two calls of one tenant in a pass, every other
 *    tenant that was ready at both got one;
 *  - after a pass no tenant is ready (sched_next does not stop early) and
 *    sched_next_due is later than now (the loop does not spin), or now
 *    exactly when a lane could ask for slots now (the loop must wake for
 *    it);
 *  - a pass at a time before sched_next_due, with nothing new, does
 *    nothing, and a sched_wants then asks for no lane that held no slots
 *    (the loop does not oversleep work);
 *  - no queued call is past its deadline by more than one expiry tick,
 *    and a call expires only when it could not have made its deadline;
 *  - every sched function does work bounded by the tenants and calls it
 *    holds (sched_steps).
 */
#ifndef WEIR_SCHED_SIM_H
#define WEIR_SCHED_SIM_H

#include <stddef.h>
#include <stdint.h>

enum sim_kind {
	SIM_SUBMIT = 0,
	SIM_DONE,
	SIM_REMOVE,
	SIM_ABANDON,
	SIM_ADVANCE,
	SIM_RELOAD,
	SIM_SHARE,	/* switch mode: local beside 1-3 instances, shared */
	SIM_WANTS,	/* sched_wants: the model records each ask */
	SIM_GRANT,	/* answer an ask (or not one): slots, none, failed */
	SIM_SPAUSE,	/* another instance's 429: pause, newer epoch */
	SIM_NKINDS
};

struct sim_op {
	uint8_t		 kind;	/* enum sim_kind */
	uint8_t		 a;	/* which tenant, call or config */
	uint8_t		 b;	/* how: outcome, count, kind of advance */
	uint32_t	 v;	/* a value: deadline, wait, time */
};

/* seed -> n random operations. */
void	sim_random(uint64_t seed, struct sim_op *ops, size_t n);
/* bytes -> at most max operations (6 bytes each); returns how many. */
size_t	sim_decode(const uint8_t *data, size_t len, struct sim_op *ops,
	    size_t max);

/*
 * Run a history; the limits are drawn from cfg_seed.  Returns 0, or -1
 * with what broke (and at which operation) in why.
 */
int	sim_run(uint64_t cfg_seed, const struct sim_op *ops, size_t n,
	    char *why, size_t whylen);

/*
 * Shrink a failing history: remove operations while it still fails.
 * Returns the new length (ops is rewritten in place).
 */
size_t	sim_shrink(uint64_t cfg_seed, struct sim_op *ops, size_t n);

/*
 * For testing the checker: make the model disagree with sched as a broken
 * scheduler would (pauses that end 10 s early, sending at twice the
 * rate, sending one slot early, keeping slots of an epoch it was told is
 * over), so that the invariants must catch it.  0: off.
 */
enum sim_mut {
	SIM_MUT_NONE = 0,
	SIM_MUT_SHORT_PAUSE,
	SIM_MUT_FAST_RATE,
	SIM_MUT_EARLY_SLOT,
	SIM_MUT_OLD_EPOCH,
};
extern int	sim_mutation;

/* What the histories run so far did, to show they reach every path. */
struct sim_stats {
	uint64_t	 histories, ops, sent, expired, requeued, throttled;
	uint64_t	 removed, queue_full, tenants_refused, reloads;
	uint64_t	 by_class[3];	/* sent, by class (prio.h) */
	uint64_t	 shares;	/* lower class sent while high waited */
	/* shared mode */
	uint64_t	 switches, asks, grants, ask_failed, shared_pauses;
	uint64_t	 on_slots;	/* calls sent on granted slots */
	uint64_t	 granted, wasted;	/* slots */
	uint64_t	 stale;		/* grants dropped past the horizon */
	uint64_t	ahead;		/* asks for more than was queued */
	uint64_t	 forgotten;	/* grants dropped with their lane */
	uint64_t	 drained;	/* sent locally after shared mode */
	uint64_t	 floors;	/* asks that restart empty */
	uint64_t	 beside;	/* sent locally beside others */
};
extern struct sim_stats	sim_stats;

/* One operation as text, for printing a failing history. */
void	sim_format(const struct sim_op *, char *out, size_t outlen);

#endif
