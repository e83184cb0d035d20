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
 * could its kth queued call go" come from the same arithmetic.  Changing
 * the rate or the burst (a reload, a rate learned from a 429) needs no
 * conversion: TAT is a point in time.
 *
 * Time is kept in microseconds and T is rounded up to a whole one, so a
 * bucket never lets calls go faster than its rate (at 300/min the error
 * is 1 us in 200 ms); the ms times it answers are rounded up too.  Same
 * shape as curl's lib/ratelimit.h, tested the same way (a stepped clock).
 */
#ifndef WEIR_BUCKET_H
#define WEIR_BUCKET_H

#include <stdint.h>

/* A rate and a burst in the form the arithmetic wants. */
struct bucket_rate {
	uint64_t	interval_us;	/* T: the time one call costs */
	uint64_t	burst;		/* calls that may go at once, >= 1 */
};

struct bucket {
	uint64_t	tat_us;		/* 0: full */
};

/* n calls per per_ms milliseconds, burst at once (n, per_ms, burst >= 1). */
struct bucket_rate bucket_rate(uint64_t n, uint64_t per_ms, uint64_t burst);

/* The soonest time (ms, >= now_ms) at which the kth call from now
 * (k >= 1) may go, if every call before it goes as soon as it may. */
uint64_t	 bucket_due(const struct bucket *, const struct bucket_rate *,
		    uint64_t k, uint64_t now_ms);
/* One call goes at now_ms (whether or not it was due: callers check). */
void		 bucket_take(struct bucket *, const struct bucket_rate *,
		    uint64_t now_ms);
/* Calls that may go at now_ms, 0 to burst (for /status). */
uint64_t	 bucket_available(const struct bucket *,
		    const struct bucket_rate *, uint64_t now_ms);

#endif
