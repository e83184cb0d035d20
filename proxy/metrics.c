/*
 * metrics.c - counters, histograms and their Prometheus text; see
 * metrics.h.  Pure: memory only.  The bookkeeping comes first, then the
 * rendering: which tenants get a label, the readers, the table of rows
 * (metrics_rows) and the loop that prints it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "sched.h"
#include "xmalloc.h"

#define NCODES		24	/* distinct status codes kept per tenant */
#define NBUCKETS_H	14
#define OTHER		"other"

static const double bounds[NBUCKETS_H] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60
};
/* Redis round trips: a local one takes a tenth of a millisecond. */
static const double fine_bounds[NBUCKETS_H] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5
};

struct codecount {
	int		 code;		/* 0: no HTTP answer */
	uint64_t	 n;
};

struct mt {				/* one tenant's counters */
	char		*name;
	struct codecount req[NCODES];
	struct codecount up[NCODES];
	uint64_t	 absorbed;
	uint64_t	 retries[3];	/* 429, 5xx, network */
	uint64_t	 busy;		/* requests + attempts: for ranking */
};

struct metrics_hist {
	const double	*le;			/* NULL: bounds */
	uint64_t	 bucket[NBUCKETS_H];	/* not cumulative */
	uint64_t	 count;
	double		 sum;
};

struct metrics {
	struct mt	**v;
	unsigned	 n;
	unsigned	 max;
	struct mt	 other;		/* folded and untracked tenants */
	struct metrics_hist queue_wait;
	struct metrics_hist queue_wait_cls[PRIO_N];
	struct metrics_hist upstream;
	struct metrics_hist redis_rtt;
};

static const char *const reasons[3] = { "429", "5xx", "network" };

struct metrics *
metrics_new(unsigned max_tracked)
{
	struct metrics	*m;

	m = xcalloc(1, sizeof(*m));
	m->max = max_tracked < 1 ? 1 : max_tracked;
	m->v = xcalloc(m->max, sizeof(*m->v));
	m->redis_rtt.le = fine_bounds;
	m->other.name = xstrdup(OTHER);
	return m;
}

void
metrics_free(struct metrics *m)
{
	unsigned	 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->v[i]->name);
		free(m->v[i]);
	}
	free(m->v);
	free(m->other.name);
	free(m);
}

static void
count_code(struct codecount *cc, int code, uint64_t n)
{
	int	 i;

	for (i = 0; i < NCODES; i++) {
		if (cc[i].n == 0 || cc[i].code == code) {
			cc[i].code = code;
			cc[i].n += n;
			return;
		}
	}
	cc[NCODES - 1].n += n;	/* improbable: many odd codes */
}

static void
fold(struct mt *into, const struct mt *from)
{
	int	 i;

	for (i = 0; i < NCODES && from->req[i].n > 0; i++)
		count_code(into->req, from->req[i].code, from->req[i].n);
	for (i = 0; i < NCODES && from->up[i].n > 0; i++)
		count_code(into->up, from->up[i].code, from->up[i].n);
	into->absorbed += from->absorbed;
	for (i = 0; i < 3; i++)
		into->retries[i] += from->retries[i];
	into->busy += from->busy;
}

/* The counters of tenant name; full, the least busy are folded. */
static struct mt *
tenant(struct metrics *m, const char *name)
{
	struct mt	*t;
	unsigned	 i, least = 0;

	if (name == NULL)
		return &m->other;
	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i]->name, name) == 0)
			return m->v[i];
	if (m->n == m->max) {
		for (i = 1; i < m->n; i++)
			if (m->v[i]->busy < m->v[least]->busy)
				least = i;
		fold(&m->other, m->v[least]);
		free(m->v[least]->name);
		free(m->v[least]);
		m->v[least] = m->v[--m->n];
	}
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	m->v[m->n++] = t;
	return t;
}

static void
observe(struct metrics_hist *h, double secs)
{
	const double	*le = h->le != NULL ? h->le : bounds;
	int		 i;

	for (i = 0; i < NBUCKETS_H; i++)
		if (secs <= le[i]) {
			h->bucket[i]++;
			break;
		}
	h->count++;
	h->sum += secs;
}

void
metrics_answered(struct metrics *m, const struct call *c, int status)
{
	struct mt	*t = tenant(m, c->tenant);

	count_code(t->req, status, 1);
	t->busy++;
}

void
metrics_attempt(struct metrics *m, const struct call *c,
    uint64_t duration_ms)
{
	struct mt	*t = tenant(m, c->tenant);

	count_code(t->up, c->xfer_error == XFER_OK ? c->status : 0, 1);
	t->busy++;
	observe(&m->upstream, (double)duration_ms / 1000.0);
}

void
metrics_retry(struct metrics *m, const char *name, const char *reason)
{
	struct mt	*t = tenant(m, name);
	int		 i;

	for (i = 0; i < 3; i++)
		if (strcmp(reason, reasons[i]) == 0)
			t->retries[i]++;
	if (strcmp(reason, "429") == 0)
		t->absorbed++;
}

void
metrics_queue_wait(struct metrics *m, enum prio_class cls, uint64_t ms)
{
	observe(&m->queue_wait, (double)ms / 1000.0);
	if ((unsigned)cls < PRIO_N)
		observe(&m->queue_wait_cls[cls], (double)ms / 1000.0);
}

void
metrics_redis_rtt(struct metrics *m, uint64_t us)
{
	observe(&m->redis_rtt, (double)us / 1e6);
}

void
metrics_tenant_totals(const struct metrics *m, const char *name,
    struct metrics_totals *tt)
{
	const struct mt	*t = NULL;
	unsigned	 i;
	int		 k;

	memset(tt, 0, sizeof(*tt));
	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i]->name, name) == 0)
			t = m->v[i];
	if (t == NULL)
		return;
	for (k = 0; k < NCODES; k++) {
		tt->requests += t->req[k].n;
		if (t->req[k].code >= 500 || t->req[k].code == 0)
			tt->errors += t->req[k].n;
		tt->upstream += t->up[k].n;
	}
	tt->absorbed_429 = t->absorbed;
	tt->retries = t->retries[0] + t->retries[1] + t->retries[2];
}

/*
 * Rendering, first which tenants get a label of their own: the busiest
 * label_tenants by calls counted and calls queued or out, ties by name;
 * the rest are summed as "other".
 */
struct rank {
	const char			*name;
	uint64_t			 score;
	const struct mt			*mt;
	struct sched_tenant_info	 info;	/* zero: sched has none */
};

struct ranks {
	struct rank	*v;
	size_t		 n, cap;
};

/* One labeled tenant, or "other": what the per-tenant readers read. */
struct metrics_series {
	const char			*name;
	const struct mt			*mt;	/* NULL: none counted */
	struct sched_tenant_info	 info;	/* zero: sched has none */
};

struct labeled {
	struct metrics_series	*v;	/* the labeled, then "other" */
	size_t			 n;
	struct mt		 other;
};

static struct rank *
rank_of(struct ranks *rs, const char *name)
{
	size_t	 i;

	for (i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].name, name) == 0)
			return &rs->v[i];
	if (rs->n == rs->cap) {
		rs->cap = rs->cap == 0 ? 64 : rs->cap * 2;
		rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
	}
	memset(&rs->v[rs->n], 0, sizeof(rs->v[0]));
	rs->v[rs->n].name = name;
	return &rs->v[rs->n++];
}

/* sched_tenant_cb */
static void
add_sched_rank(const struct sched_tenant_info *info, void *arg)
{
	struct rank	*r = rank_of(arg, info->name);

	r->info = *info;
	r->score += info->queued + info->inflight;
}

static int
by_score(const void *a, const void *b)
{
	const struct rank	*x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Every tenant metrics or sched knows, busiest first. */
static void
rank(const struct metrics_src *src, struct ranks *rs)
{
	const struct metrics	*m = src->m;
	struct rank		*r;
	size_t			 i;

	for (i = 0; i < m->n; i++) {
		r = rank_of(rs, m->v[i]->name);
		r->mt = m->v[i];
		r->score += m->v[i]->busy;
	}
	sched_foreach(src->s, src->now_ms, add_sched_rank, rs);
	if (rs->n > 0)	/* no tenants yet: rs->v is NULL */
		qsort(rs->v, rs->n, sizeof(*rs->v), by_score);
}

/* The series to print: the first label_tenants ranks, then "other" with
 * everything past them, if there is any. */
static void
pick_labels(const struct metrics_src *src, struct labeled *l)
{
	struct ranks			 rs = { 0 };
	struct sched_tenant_info	 oinfo;
	const struct rank		*r;
	size_t				 i;
	int				 any_other;

	rank(src, &rs);
	memset(l, 0, sizeof(*l));
	memset(&oinfo, 0, sizeof(oinfo));
	fold(&l->other, &src->m->other);
	any_other = src->m->other.busy > 0;
	l->v = xcalloc(rs.n + 1, sizeof(*l->v));
	for (i = 0; i < rs.n; i++) {
		r = &rs.v[i];
		if (i < src->label_tenants && strcmp(r->name, OTHER) != 0) {
			l->v[l->n].name = r->name;
			l->v[l->n].mt = r->mt;
			l->v[l->n].info = r->info;
			l->n++;
			continue;
		}
		any_other = 1;
		if (r->mt != NULL)
			fold(&l->other, r->mt);
		oinfo.queued += r->info.queued;
		oinfo.inflight += r->info.inflight;
		oinfo.rate_per_s += r->info.rate_per_s;
		if (r->info.paused_until_ms != 0)
			oinfo.paused_until_ms = 1;
	}
	if (any_other) {
		l->v[l->n].name = OTHER;
		l->v[l->n].mt = &l->other;
		l->v[l->n].info = oinfo;
		l->n++;
	}
	free(rs.v);
}

/*
 * The readers.  A struct field is read through the row's off: readers
 * named for the struct (proc_u, info_d ...) serve every row of that kind.
 */
#define FIELD(type, base, off)	(*(const type *)((const char *)(base) + (off)))

/* Each status code counted, in the order first seen. */
static int
rd_codes(const struct metrics_at *at, struct metrics_value *v)
{
	const struct codecount	*cc;

	if (at->series->mt == NULL || at->k >= NCODES)
		return -1;
	cc = &FIELD(struct codecount, at->series->mt, at->row->off) + at->k;
	if (cc->n == 0)
		return -1;
	snprintf(v->label, sizeof(v->label), "%d", cc->code);
	v->u = cc->n;
	return 0;
}

static int
rd_absorbed(const struct metrics_at *at, struct metrics_value *v)
{
	v->u = at->series->mt != NULL ? at->series->mt->absorbed : 0;
	return 0;
}

static int
rd_retries(const struct metrics_at *at, struct metrics_value *v)
{
	if (at->k >= 3)
		return -1;
	snprintf(v->label, sizeof(v->label), "%s", reasons[at->k]);
	v->u = at->series->mt != NULL ? at->series->mt->retries[at->k] : 0;
	return 0;
}

static int
rd_info_u(const struct metrics_at *at, struct metrics_value *v)
{
	v->u = FIELD(uint64_t, &at->series->info, at->row->off);
	return 0;
}

static int
rd_info_d(const struct metrics_at *at, struct metrics_value *v)
{
	v->d = FIELD(double, &at->series->info, at->row->off);
	return 0;
}

static int
rd_paused(const struct metrics_at *at, struct metrics_value *v)
{
	v->u = at->series->info.paused_until_ms != 0;
	return 0;
}

static int
rd_hist(const struct metrics_at *at, struct metrics_value *v)
{
	v->hist = &FIELD(struct metrics_hist, at->src->m, at->row->off);
	return 0;
}

/* A uint64_t of sched's totals, at the row's offset. */
static int
rd_totals(const struct metrics_at *at, struct metrics_value *v)
{
	struct sched_totals	 t = sched_totals(at->src->s);

	v->u = FIELD(uint64_t, &t, at->row->off);
	return 0;
}

static int
rd_queued_class(const struct metrics_at *at, struct metrics_value *v)
{
	if (at->k >= PRIO_N)
		return -1;
	snprintf(v->label, sizeof(v->label), "%s", prio_name(at->k));
	v->u = sched_queued_class(at->src->s, (enum prio_class)at->k);
	return 0;
}

static int
rd_hist_class(const struct metrics_at *at, struct metrics_value *v)
{
	if (at->k >= PRIO_N)
		return -1;
	snprintf(v->label, sizeof(v->label), "%s", prio_name(at->k));
	v->hist = &at->src->m->queue_wait_cls[at->k];
	return 0;
}

static int
rd_proc_u(const struct metrics_at *at, struct metrics_value *v)
{
	v->u = FIELD(uint64_t, at->src->proc, at->row->off);
	return 0;
}

static int
rd_proc_d(const struct metrics_at *at, struct metrics_value *v)
{
	v->d = FIELD(double, at->src->proc, at->row->off);
	return 0;
}

/* The Redis rows exist only with redis set. */
static int
rd_redis_u(const struct metrics_at *at, struct metrics_value *v)
{
	if (!at->src->proc->redis)
		return -1;
	return rd_proc_u(at, v);
}

static int
rd_redis_d(const struct metrics_at *at, struct metrics_value *v)
{
	if (!at->src->proc->redis)
		return -1;
	return rd_proc_d(at, v);
}

static int
rd_redis_hist(const struct metrics_at *at, struct metrics_value *v)
{
	if (!at->src->proc->redis)
		return -1;
	return rd_hist(at, v);
}

#define INFO(f)	offsetof(struct sched_tenant_info, f)
#define PROC(f)	offsetof(struct metrics_process, f)

const struct metrics_row metrics_rows[] = {
	{ "weir_requests_total", METRICS_COUNTER, METRICS_L_CODE,
	    "Calls answered to clients, by tenant and status (499: the client "
	    "went away).",
	    METRICS_INT, rd_codes, offsetof(struct mt, req) },
	{ "weir_upstream_requests_total", METRICS_COUNTER, METRICS_L_CODE,
	    "Upstream attempts, by tenant and status (0: no HTTP answer).",
	    METRICS_INT, rd_codes, offsetof(struct mt, up) },
	{ "weir_429_absorbed_total", METRICS_COUNTER, METRICS_L_TENANT,
	    "Upstream 429s retried, that the caller never saw.",
	    METRICS_INT, rd_absorbed, 0 },
	{ "weir_retries_total", METRICS_COUNTER, METRICS_L_REASON,
	    "Upstream retries, by tenant and reason.",
	    METRICS_INT, rd_retries, 0 },
	{ "weir_queue_depth", METRICS_GAUGE, METRICS_L_TENANT,
	    "Calls waiting in the tenant's queue.",
	    METRICS_INT, rd_info_u, INFO(queued) },
	{ "weir_inflight", METRICS_GAUGE, METRICS_L_TENANT,
	    "Calls of the tenant under way upstream.",
	    METRICS_INT, rd_info_u, INFO(inflight) },
	{ "weir_tenant_rate", METRICS_GAUGE, METRICS_L_TENANT,
	    "Calls per second the tenant is paced at now.",
	    METRICS_REAL, rd_info_d, INFO(rate_per_s) },
	{ "weir_tenant_paused", METRICS_GAUGE, METRICS_L_TENANT,
	    "1 while the tenant is paused after a 429.",
	    METRICS_INT, rd_paused, 0 },
	{ "weir_queue_wait_seconds", METRICS_HISTOGRAM, METRICS_L_NONE,
	    "Time calls waited in their queue before each attempt.",
	    METRICS_INT, rd_hist, offsetof(struct metrics, queue_wait) },
	{ "weir_upstream_duration_seconds", METRICS_HISTOGRAM, METRICS_L_NONE,
	    "Duration of upstream attempts.",
	    METRICS_INT, rd_hist, offsetof(struct metrics, upstream) },
	{ "weir_tenants", METRICS_GAUGE, METRICS_L_NONE,
	    "Tenants weir is tracking.",
	    METRICS_INT, rd_totals, offsetof(struct sched_totals, tenants) },
	{ "weir_tenants_refused_total", METRICS_COUNTER, METRICS_L_NONE,
	    "New tenants refused because max_tenants were all paused, "
	    "learning or busy.",
	    METRICS_INT, rd_totals, offsetof(struct sched_totals, refused) },
	{ "weir_queued", METRICS_GAUGE, METRICS_L_NONE,
	    "Calls waiting in all queues.",
	    METRICS_INT, rd_totals, offsetof(struct sched_totals, queued) },
	{ "weir_queued_by_priority", METRICS_GAUGE, METRICS_L_PRIORITY,
	    "Calls waiting in all queues, by priority class.",
	    METRICS_INT, rd_queued_class, 0 },
	{ "weir_queue_wait_by_priority_seconds", METRICS_HISTOGRAM,
	    METRICS_L_PRIORITY,
	    "Time calls waited in their queue before each attempt, by "
	    "priority class.",
	    METRICS_INT, rd_hist_class, 0 },
	{ "process_cpu_seconds_total", METRICS_COUNTER, METRICS_L_NONE,
	    "User and system CPU time spent.",
	    METRICS_FIXED2, rd_proc_d, PROC(cpu_seconds) },
	{ "process_resident_memory_bytes", METRICS_GAUGE, METRICS_L_NONE,
	    "Resident memory size.",
	    METRICS_INT, rd_proc_u, PROC(resident_bytes) },
	{ "process_open_fds", METRICS_GAUGE, METRICS_L_NONE,
	    "Open file descriptors.",
	    METRICS_INT, rd_proc_u, PROC(open_fds) },
	{ "process_start_time_seconds", METRICS_GAUGE, METRICS_L_NONE,
	    "Start time since the epoch.",
	    METRICS_FIXED3, rd_proc_d, PROC(start_time_s) },
	{ "weir_pending", METRICS_GAUGE, METRICS_L_NONE,
	    "Calls accepted and not yet answered.",
	    METRICS_INT, rd_proc_u, PROC(pending) },
	{ "weir_body_memory_bytes", METRICS_GAUGE, METRICS_L_NONE,
	    "Request body bytes held, all calls together (max_body_memory).",
	    METRICS_INT, rd_proc_u, PROC(body_bytes) },
	{ "weir_draining", METRICS_GAUGE, METRICS_L_NONE,
	    "1 while weir drains before stopping.",
	    METRICS_INT, rd_proc_u, PROC(draining) },
	{ "weir_redis_shared", METRICS_GAUGE, METRICS_L_NONE,
	    "1 while budgets are shared through Redis, 0 while paced locally.",
	    METRICS_INT, rd_redis_u, PROC(redis_shared) },
	{ "weir_redis_instances", METRICS_GAUGE, METRICS_L_NONE,
	    "Live weir instances last seen in Redis.",
	    METRICS_INT, rd_redis_u, PROC(redis_instances) },
	{ "weir_redis_duration_seconds", METRICS_HISTOGRAM, METRICS_L_NONE,
	    "Round trips to Redis.",
	    METRICS_INT, rd_redis_hist, offsetof(struct metrics, redis_rtt) },
	{ "weir_redis_operations_total", METRICS_COUNTER, METRICS_L_NONE,
	    "Operations sent to Redis.",
	    METRICS_INT, rd_redis_u, PROC(redis_ops) },
	{ "weir_redis_errors_total", METRICS_COUNTER, METRICS_L_NONE,
	    "Redis operations answered with an error.",
	    METRICS_INT, rd_redis_u, PROC(redis_errors) },
	{ "weir_redis_timeouts_total", METRICS_COUNTER, METRICS_L_NONE,
	    "Redis operations not answered within redis_timeout, or lost "
	    "with the connection.",
	    METRICS_INT, rd_redis_u, PROC(redis_timeouts) },
	{ "weir_redis_local_seconds_total", METRICS_COUNTER, METRICS_L_NONE,
	    "Time spent pacing locally because Redis was slow or gone.",
	    METRICS_FIXED3, rd_redis_d, PROC(redis_local_s) },
	{ "weir_redis_slots_granted_total", METRICS_COUNTER, METRICS_L_NONE,
	    "Send slots reserved in Redis.",
	    METRICS_INT, rd_redis_u, PROC(redis_granted) },
	{ "weir_redis_slots_wasted_total", METRICS_COUNTER, METRICS_L_NONE,
	    "Reserved slots dropped unused (a 429 elsewhere, stale, or no "
	    "call left to send).",
	    METRICS_INT, rd_redis_u, PROC(redis_wasted) },
};
const size_t metrics_nrows = sizeof(metrics_rows) / sizeof(metrics_rows[0]);

static const char *const type_names[] = {
	[METRICS_COUNTER] = "counter",
	[METRICS_GAUGE] = "gauge",
	[METRICS_HISTOGRAM] = "histogram",
};

/* The second label's name, by the row's labels. */
static const char *const label2[] = {
	[METRICS_L_CODE] = "code",
	[METRICS_L_REASON] = "reason",
	[METRICS_L_PRIORITY] = "priority",
};

/* name, suffix and the labels, up to the space before the value. */
static void
series_head(struct buf *b, const struct metrics_at *at,
    const struct metrics_value *v, const char *suffix, const char *le)
{
	const char	*sep = "{";

	buf_printf(b, "%s%s", at->row->name, suffix);
	if (at->series != NULL) {
		buf_printf(b, "%stenant=\"%s\"", sep, at->series->name);
		sep = ",";
	}
	if (label2[at->row->labels] != NULL) {
		buf_printf(b, "%s%s=\"%s\"", sep, label2[at->row->labels],
		    v->label);
		sep = ",";
	}
	if (le != NULL) {
		buf_printf(b, "%sle=\"%s\"", sep, le);
		sep = ",";
	}
	buf_printf(b, "%s ", *sep == ',' ? "}" : "");
}

static void
render_hist(struct buf *b, const struct metrics_at *at,
    const struct metrics_value *v)
{
	const struct metrics_hist	*h = v->hist;
	uint64_t			 cum = 0;
	char				 le[32];
	int				 i;

	for (i = 0; i < NBUCKETS_H; i++) {
		cum += h->bucket[i];
		snprintf(le, sizeof(le), "%g", h->le != NULL ? h->le[i] :
		    bounds[i]);
		series_head(b, at, v, "_bucket", le);
		buf_printf(b, "%llu\n", (unsigned long long)cum);
	}
	series_head(b, at, v, "_bucket", "+Inf");
	buf_printf(b, "%llu\n", (unsigned long long)h->count);
	series_head(b, at, v, "_sum", NULL);
	buf_printf(b, "%.6f\n", h->sum);
	series_head(b, at, v, "_count", NULL);
	buf_printf(b, "%llu\n", (unsigned long long)h->count);
}

static void
render_value(struct buf *b, enum metrics_fmt fmt,
    const struct metrics_value *v)
{
	switch (fmt) {
	case METRICS_INT:
		buf_printf(b, "%llu\n", (unsigned long long)v->u);
		break;
	case METRICS_REAL:
		buf_printf(b, "%.6g\n", v->d);
		break;
	case METRICS_FIXED2:
		buf_printf(b, "%.2f\n", v->d);
		break;
	case METRICS_FIXED3:
		buf_printf(b, "%.3f\n", v->d);
		break;
	}
}

/* Every value of one row for one series (NULL: a row without labels). */
static void
render_series(struct buf *b, const struct metrics_src *src,
    const struct metrics_row *row, const struct metrics_series *series)
{
	struct metrics_at	 at = { src, row, series, 0 };
	struct metrics_value	 v;

	for (;; at.k++) {
		memset(&v, 0, sizeof(v));
		if (row->read(&at, &v) == -1)
			break;
		if (row->type == METRICS_HISTOGRAM)
			render_hist(b, &at, &v);
		else {
			series_head(b, &at, &v, "", NULL);
			render_value(b, row->fmt, &v);
		}
		if (label2[row->labels] == NULL)
			break;	/* one value per series */
	}
}

void
metrics_render_rows(const struct metrics_row *rows, size_t n,
    const struct metrics_src *src, struct buf *b)
{
	struct labeled	 l;
	size_t		 i, j;

	pick_labels(src, &l);
	for (i = 0; i < n; i++) {
		buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", rows[i].name,
		    rows[i].help, rows[i].name, type_names[rows[i].type]);
		if (rows[i].labels == METRICS_L_NONE ||
		    rows[i].labels == METRICS_L_PRIORITY)
			render_series(b, src, &rows[i], NULL);
		else
			for (j = 0; j < l.n; j++)
				render_series(b, src, &rows[i], &l.v[j]);
	}
	free(l.v);
}

void
metrics_render(const struct metrics_src *src, struct buf *b)
{
	metrics_render_rows(metrics_rows, metrics_nrows, src, b);
}
