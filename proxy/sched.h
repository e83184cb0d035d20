/*
 * sched.h - the queue between front and upstream.  Pure: every function
 * that depends on time takes now_ms; nothing reads the clock or touches a
 * socket.
 *
 * A submitted call is owned by sched until sched_next() hands it out (then
 * upstream owns it until its transfer is done and sched_done() is told) or
 * sched_remove() takes it back.
 */
#ifndef WEIR_SCHED_H
#define WEIR_SCHED_H

#include <stdint.h>

#include "call.h"
#include "config.h"

#define SCHED_NEVER	UINT64_MAX

struct sched;

struct sched	*sched_new(const struct config *);
void		 sched_free(struct sched *);

/* Queue a new call at the tail of its queue. */
void		 sched_submit(struct sched *, struct call *, uint64_t now_ms);
/* Put a call that must be tried again back, not before at_ms. */
void		 sched_requeue(struct sched *, struct call *, uint64_t at_ms,
		    uint64_t now_ms);
/* The next call that may be sent now, or NULL. */
struct call	*sched_next(struct sched *, uint64_t now_ms);
/* A call handed out by sched_next() finished its attempt. */
void		 sched_done(struct sched *, struct call *, uint64_t now_ms);
/* Take a queued call back (its client went away).  1 if it was queued. */
int		 sched_remove(struct sched *, struct call *);
/* When sched_next() may next return a call: now_ms, later, or
 * SCHED_NEVER when nothing waits. */
uint64_t	 sched_next_due(struct sched *, uint64_t now_ms);
/* Calls waiting in queues, and calls handed out and not done. */
uint64_t	 sched_queued(const struct sched *);
uint64_t	 sched_inflight(const struct sched *);
/* Take every queued call out, oldest first, one by one (shutdown). */
struct call	*sched_drain(struct sched *);

#endif
