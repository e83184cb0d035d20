/*
 * proxy.h - the life of a call, in one place: arrival, submission to its
 * tenant's queue, dispatch, each attempt's end, retry or answer, and the
 * client going away.
 *
 * front hands over a call whose request is whole and checked
 * (proxy_arrive); proxy routes it, names its tenant, gives it its
 * deadline and queues it in sched (first asking Redis about a token
 * another weir may have seen issued).  Each loop pass proxy_dispatch()
 * answers the calls that can no longer make their deadline and starts the
 * ones sched says are due.  When an attempt ends (proxy_attempt_done,
 * upstream's callback) policy decides and proxy applies the decision:
 * pause the tenant, requeue, or answer through front_answer().  Exactly
 * one owner at a time: front until proxy_arrive() returns WERR_NONE, then
 * sched or upstream, then front again from front_answer() on.
 */
#ifndef WEIR_PROXY_H
#define WEIR_PROXY_H

#include <stdint.h>

#include "call.h"
#include "config.h"

struct front;
struct loop_time;
struct metrics;
struct sched;
struct share;
struct token_map;
struct upstream;

struct proxy;

/* now is the loop's clock, read by proxy whenever it needs the time. */
struct proxy	*proxy_new(const struct config *, const struct loop_time *now,
		    struct sched *, struct token_map *, struct metrics *);
void		 proxy_free(struct proxy *);
/* The two ends, once they exist (they call back into proxy). */
void		 proxy_set_ends(struct proxy *, struct front *,
		    struct upstream *);
void		 proxy_set_config(struct proxy *, const struct config *);
/* Budgets shared through Redis (share.c): 429s pause the tenant
 * everywhere, tokens issued elsewhere are looked up.  NULL: none. */
void		 proxy_set_share(struct proxy *, struct share *);

/*
 * A request arrived whole (front_hooks.arrive): route it, name its tenant,
 * set its deadline and queue it.  WERR_NONE: sched has it, or its token
 * is being looked up in Redis (then it is queued or answered when Redis
 * answers, within redis_timeout).  Otherwise
 * front keeps it and answers with the error (and call->retry_after_s).
 */
enum weir_err	 proxy_arrive(struct call *, void *proxy);
/* The client of a call that sched or upstream holds went away
 * (front_hooks.abandon): take it back. */
void		 proxy_abandon(struct call *, void *proxy);
/* A streaming call's client took bytes (front_hooks.drained). */
void		 proxy_drained(struct call *, void *proxy);
/* An attempt is over (upstream_done_cb): retry or answer. */
void		 proxy_attempt_done(struct call *, void *proxy);
/* An answer starts streaming, or has more bytes (upstream_stream_cb). */
void		 proxy_stream(struct call *, void *proxy);

/* The loop's pass (loop_cb): answer the calls past hope, start the due
 * ones. */
void		 proxy_dispatch(void *proxy);
/* Milliseconds until sched next has work, or -1 for none
 * (loop_timeout_cb). */
long		 proxy_timeout(void *proxy);
/* The end of a drain: every queued call is answered 503
 * weir.shutting_down and nothing more is sent; front_shutdown() then
 * takes back the calls out upstream. */
void		 proxy_shutdown(struct proxy *);

#endif
