/*
 * bucket.h - a token bucket as a value: the generic cell rate algorithm
 * (GCRA), one number per bucket, the theoretical arrival time (TAT) of the
 * next call.  Pure: the time is passed in.
 *
 * A bucket of rate n per per_ms and size burst lets a call go at now when
 * TAT - tau <= now, where the emission interval T = per_ms / n and
 * tau = (burst - 1) * T; sending moves TAT to max(TAT, now) + T.  One
 * number says both how many calls may go now and exactly when the kth
 * next one may, so the scheduler's "when is this tenant due" and "when
 * could its kth queued call go" come from the same arithmetic.
 *
 * Time is kept in microseconds and T is rounded up to a whole one, so a
 * bucket never lets calls go faster than its rate (at 300/min the error
 * is 1 us in 200 ms); the ms times it answers are rounded up too.  Same
 * shape as curl's lib/ratelimit.h, tested the same way (a stepped clock).
 */
#ifndef WEIR_BUCKET_H
#define WEIR_BUCKET_H

#include <stdint.h>

struct bucket {
	uint64_t	tat_us;		/* 0: full */
	uint64_t	interval_us;	/* T: the time one call costs */
	uint64_t	burst;		/* calls that may go at once, >= 1 */
};

/* T, the time one call costs at n calls per per_ms ms, in us, rounded
 * up (n == 0 is taken as 1). */
uint64_t	 bucket_interval_us(uint64_t n, uint64_t per_ms);
/* A full bucket of n calls per per_ms milliseconds, burst at once (n,
 * per_ms and burst >= 1; 0 is taken as 1). */
void		 bucket_init(struct bucket *, uint64_t n, uint64_t per_ms,
		    uint64_t burst);
/*
 * A new rate or burst from now_ms on (a reload, a rate learned from a
 * 429).  The calls already spent and not yet paid back stay spent, and
 * are paid back at the new rate: a faster rate applies at once, a slower
 * one lengthens what is owed.
 */
void		 bucket_set(struct bucket *, uint64_t n, uint64_t per_ms,
		    uint64_t burst, uint64_t now_ms);
/* The soonest time (ms, >= now_ms) at which the kth call from now
 * (k >= 1) may go, if every call before it goes as soon as it may. */
uint64_t	 bucket_due(const struct bucket *, uint64_t k, uint64_t now_ms);
/* Empty the bucket at now_ms: the next call may go at now_ms, then one
 * per T (no burst). */
void		 bucket_drain(struct bucket *, uint64_t now_ms);
/* One call goes at now_ms (whether or not it was due: callers check). */
void		 bucket_take(struct bucket *, uint64_t now_ms);
/* Calls that may go at now_ms, 0 to burst (for /status). */
uint64_t	 bucket_available(const struct bucket *, uint64_t now_ms);
/* Has the bucket been full since now_ms or before (nothing to forget)? */
int		 bucket_full(const struct bucket *, uint64_t now_ms);
/* Calls per second, for people. */
double		 bucket_per_s(const struct bucket *);

#endif
