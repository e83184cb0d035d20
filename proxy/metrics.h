/*
 * metrics.h - counters and histograms, and their Prometheus text form.
 *
 * Pure bookkeeping: callers report events (a call answered, an upstream
 * attempt, a 429 absorbed, a retry) with the tenant they belong to.  Per-
 * tenant series are bounded: metrics_render() labels the busiest
 * metrics_tenants tenants by name and sums the rest as tenant="other"; at
 * most max_tenants are tracked, the least busy folded into "other".
 * Tenant names are keys (client ids, hashes), never tokens.  Process
 * gauges come from the caller (struct metrics_process): nothing here reads
 * /proc or the clock.
 */
#ifndef WEIR_METRICS_H
#define WEIR_METRICS_H

#include <stddef.h>
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
/* A call of class cls left its queue after waiting ms (each time it is
 * dispatched). */
void	metrics_queue_wait(struct metrics *, enum prio_class cls,
	    uint64_t ms);

/* Totals of one tenant, for /status. */
/* A Redis round trip took us microseconds. */
void	metrics_redis_rtt(struct metrics *, uint64_t us);

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
 * /metrics is one table: each family is one row (name, type, help, which
 * labels its series carry, how its value is read), and rendering is one
 * loop over the rows, as in HAProxy's promex.  Adding a metric is one row
 * in metrics_rows (metrics.c) and its call site; a reader of its own only
 * if it is not a field that an existing reader finds by offset.
 */
enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

enum metrics_labels {
	METRICS_L_NONE,		/* one series, no labels */
	METRICS_L_TENANT,	/* tenant: the labeled ones, then "other" */
	METRICS_L_CODE,		/* tenant and code: each status seen */
	METRICS_L_REASON,	/* tenant and reason: each retry reason */
	METRICS_L_PRIORITY,	/* priority: each class, no tenant */
};

/* How a value is printed. */
enum metrics_fmt {
	METRICS_INT,		/* u, an integer */
	METRICS_REAL,		/* d, "%.6g" */
	METRICS_FIXED2,		/* d, two decimals */
	METRICS_FIXED3,		/* d, three decimals */
};

/* Gauges weir's metrics do not hold: the caller reads them (admin.c, from
 * /proc and its view). */
struct metrics_process {
	double		 cpu_seconds;
	uint64_t	 resident_bytes;
	uint64_t	 open_fds;
	double		 start_time_s;	/* since the epoch */
	uint64_t	 pending;	/* calls accepted, not yet answered */
	uint64_t	 body_bytes;	/* request bodies held */
	uint64_t	 draining;	/* 1 while draining */
	/* with redis set (share_info): */
	uint64_t	 redis;		/* 1: redis is configured */
	uint64_t	 redis_shared;	/* 1: shared mode, 0: local */
	uint64_t	 redis_instances;	/* live instances seen */
	uint64_t	 redis_ops;
	uint64_t	 redis_errors;	/* error replies */
	uint64_t	 redis_timeouts;	/* no answer in time, or lost */
	double		 redis_local_s;	/* time in local mode */
	uint64_t	 redis_granted;	/* slots reserved */
	uint64_t	 redis_wasted;	/* of them, dropped unused */
};

/* What /metrics is rendered from; label_tenants is how many tenants get a
 * label of their own, now_ms the loop's clock. */
struct metrics_src {
	const struct metrics		*m;
	const struct sched		*s;
	const struct metrics_process	*proc;
	uint64_t			 now_ms;
	unsigned			 label_tenants;
};

struct metrics_row;
struct metrics_series;		/* one tenant label: counters, sched gauges */
struct metrics_hist;

/* Where a reader reads: series is NULL for METRICS_L_NONE rows; k counts
 * the second label's values (code, reason) from 0. */
struct metrics_at {
	const struct metrics_src	*src;
	const struct metrics_row	*row;
	const struct metrics_series	*series;
	unsigned			 k;
};

/* A reader's answer: u or d as the row's fmt says, or hist for a
 * histogram; label is the second label's value. */
struct metrics_value {
	uint64_t			 u;
	double				 d;
	const struct metrics_hist	*hist;
	char				 label[16];
};

/* Fill v for at: 0, or -1 when there is no k-th value. */
typedef int (*metrics_read_cb)(const struct metrics_at *,
    struct metrics_value *);

struct metrics_row {
	const char		*name;
	enum metrics_type	 type;
	enum metrics_labels	 labels;
	const char		*help;
	enum metrics_fmt	 fmt;
	metrics_read_cb		 read;
	size_t			 off;	/* for the readers of a struct field */
};

/* Every family weir exposes, in the order /metrics lists them. */
extern const struct metrics_row	metrics_rows[];
extern const size_t		metrics_nrows;

/* Append the Prometheus exposition text of metrics_rows to out. */
void	metrics_render(const struct metrics_src *, struct buf *out);
/* The same for any table of n rows (tests add rows to it). */
void	metrics_render_rows(const struct metrics_row *, size_t n,
	    const struct metrics_src *, struct buf *out);

#endif
