/*
 * metrics.h - counters and histograms, and their Prometheus text form.
 *
 * Pure bookkeeping: callers report events (a call answered, an upstream
 * attempt, a 429 absorbed, a retry) with the tenant they belong to.  Per-
 * tenant series are bounded: metrics_render() labels the busiest
 * metrics_tenants tenants by name and sums the rest as tenant="other"; at
 * most max_tenants are tracked, the least busy folded into "other".
 * Tenant names are keys (client ids, hashes), never tokens.
 */
#ifndef WEIR_METRICS_H
#define WEIR_METRICS_H

#include <stdint.h>

#include "call.h"

struct metrics;
struct sched;

struct metrics	*metrics_new(unsigned max_tracked);
void		 metrics_free(struct metrics *);

/* A call was answered to its client with status (499: client gone). */
void	metrics_answered(struct metrics *, const struct call *, int status);
/* An upstream attempt finished (status 0: no HTTP answer), took ms. */
void	metrics_attempt(struct metrics *, const struct call *,
	    uint64_t duration_ms);
/* A retry was decided; reason "429", "5xx" or "network". */
void	metrics_retry(struct metrics *, const char *tenant, const char *reason);
/* A call left its queue after waiting ms (each time it is dispatched). */
void	metrics_queue_wait(struct metrics *, uint64_t ms);

/* Totals of one tenant, for /status. */
struct metrics_totals {
	uint64_t	 requests;	/* answered to clients */
	uint64_t	 upstream;	/* attempts */
	uint64_t	 absorbed_429;	/* 429s the caller never saw */
	uint64_t	 retries;
	uint64_t	 errors;	/* answers >= 500 weir made or passed */
};
void	metrics_tenant_totals(const struct metrics *, const char *tenant,
	    struct metrics_totals *);

/*
 * Append the Prometheus exposition text to out.  sched supplies the
 * per-tenant gauges; now_ms is the loop's clock; label_tenants is how many
 * tenants get their own label.  The caller adds process gauges.
 */
void	metrics_render(const struct metrics *, const struct sched *,
	    uint64_t now_ms, unsigned label_tenants, struct buf *out);

#endif
