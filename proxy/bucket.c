/*
 * bucket.c - GCRA token bucket arithmetic; see bucket.h.
 */
#include "bucket.h"

#define US_PER_MS	UINT64_C(1000)

uint64_t
bucket_interval_us(uint64_t n, uint64_t per_ms)
{
	uint64_t	 us;

	if (n == 0)
		n = 1;
	us = (per_ms * US_PER_MS + n - 1) / n;
	return us > 0 ? us : 1;
}

void
bucket_init(struct bucket *b, uint64_t n, uint64_t per_ms, uint64_t burst)
{
	b->tat_us = 0;
	b->interval_us = bucket_interval_us(n, per_ms);
	b->burst = burst > 0 ? burst : 1;
}

/* TAT as of now: a bucket that has been full since before now. */
static uint64_t
tat_at(const struct bucket *b, uint64_t now_us)
{
	return b->tat_us > now_us ? b->tat_us : now_us;
}

void
bucket_set(struct bucket *b, uint64_t n, uint64_t per_ms, uint64_t burst,
    uint64_t now_ms)
{
	uint64_t	 now_us = now_ms * US_PER_MS, owed, t = bucket_interval_us(n, per_ms);

	if (t != b->interval_us && b->tat_us > now_us) {
		/* owed: the time TAT is ahead, in calls, at the new rate */
		owed = b->tat_us - now_us;
		b->tat_us = now_us + (owed / b->interval_us) * t +
		    (owed % b->interval_us) * t / b->interval_us;
	}
	b->interval_us = t;
	b->burst = burst > 0 ? burst : 1;
}

uint64_t
bucket_due(const struct bucket *b, uint64_t k, uint64_t now_ms)
{
	uint64_t	 now_us = now_ms * US_PER_MS, tau, at;

	tau = (b->burst - 1) * b->interval_us;
	/* The kth call conforms at TAT + (k - 1) T - tau. */
	at = tat_at(b, now_us) + (k - 1) * b->interval_us;
	if (at <= now_us + tau)
		return now_ms;
	return (at - tau + US_PER_MS - 1) / US_PER_MS;
}

void
bucket_drain(struct bucket *b, uint64_t now_ms)
{
	uint64_t	 at = now_ms * US_PER_MS +
			    (b->burst - 1) * b->interval_us;

	if (b->tat_us < at)
		b->tat_us = at;
}

void
bucket_take(struct bucket *b, uint64_t now_ms)
{
	b->tat_us = tat_at(b, now_ms * US_PER_MS) + b->interval_us;
}

uint64_t
bucket_available(const struct bucket *b, uint64_t now_ms)
{
	uint64_t	 now_us = now_ms * US_PER_MS, used;

	/* Calls' worth of time TAT is ahead of now, rounded up. */
	used = (tat_at(b, now_us) - now_us + b->interval_us - 1) /
	    b->interval_us;
	return used >= b->burst ? 0 : b->burst - used;
}

int
bucket_full(const struct bucket *b, uint64_t now_ms)
{
	return b->tat_us <= now_ms * US_PER_MS;
}

double
bucket_per_s(const struct bucket *b)
{
	return 1e6 / (double)b->interval_us;
}
