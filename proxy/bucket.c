/*
 * bucket.c - GCRA token bucket arithmetic; see bucket.h.
 */
#include "bucket.h"

#define US_PER_MS	UINT64_C(1000)

struct bucket_rate
bucket_rate(uint64_t n, uint64_t per_ms, uint64_t burst)
{
	struct bucket_rate	 r;

	if (n == 0)
		n = 1;
	r.interval_us = (per_ms * US_PER_MS + n - 1) / n;
	if (r.interval_us == 0)
		r.interval_us = 1;
	r.burst = burst > 0 ? burst : 1;
	return r;
}

/* TAT as of now: a bucket that has been full since before now. */
static uint64_t
tat_at(const struct bucket *b, uint64_t now_us)
{
	return b->tat_us > now_us ? b->tat_us : now_us;
}

uint64_t
bucket_due(const struct bucket *b, const struct bucket_rate *r, uint64_t k,
    uint64_t now_ms)
{
	uint64_t	 now_us = now_ms * US_PER_MS, tau, at;

	tau = (r->burst - 1) * r->interval_us;
	/* The kth call conforms at TAT + (k - 1) T - tau. */
	at = tat_at(b, now_us) + (k - 1) * r->interval_us;
	if (at <= now_us + tau)
		return now_ms;
	return (at - tau + US_PER_MS - 1) / US_PER_MS;
}

void
bucket_take(struct bucket *b, const struct bucket_rate *r, uint64_t now_ms)
{
	b->tat_us = tat_at(b, now_ms * US_PER_MS) + r->interval_us;
}

uint64_t
bucket_available(const struct bucket *b, const struct bucket_rate *r,
    uint64_t now_ms)
{
	uint64_t	 now_us = now_ms * US_PER_MS, used;

	/* Calls' worth of time TAT is ahead of now, rounded up. */
	used = (tat_at(b, now_us) - now_us + r->interval_us - 1) /
	    r->interval_us;
	return used >= r->burst ? 0 : r->burst - used;
}
