/*
 * metrics.c - counters, histograms and their Prometheus text; see
 * metrics.h.  Pure: memory only.
 */
#include <stdarg.h>
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

struct hist {
	uint64_t	 bucket[NBUCKETS_H];	/* not cumulative */
	uint64_t	 count;
	double		 sum;
};

struct metrics {
	struct mt	**v;
	unsigned	 n;
	unsigned	 max;
	struct mt	 other;		/* folded and untracked tenants */
	struct hist	 queue_wait;
	struct hist	 upstream;
};

static const char *const reasons[3] = { "429", "5xx", "network" };

struct metrics *
metrics_new(unsigned max_tracked)
{
	struct metrics	*m;

	m = xcalloc(1, sizeof(*m));
	m->max = max_tracked < 1 ? 1 : max_tracked;
	m->v = xcalloc(m->max, sizeof(*m->v));
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
observe(struct hist *h, double secs)
{
	int	 i;

	for (i = 0; i < NBUCKETS_H; i++)
		if (secs <= bounds[i]) {
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
metrics_queue_wait(struct metrics *m, uint64_t ms)
{
	observe(&m->queue_wait, (double)ms / 1000.0);
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

/* Rendering: which tenants get a label of their own. */
struct row {
	const char			*name;
	uint64_t			 score;
	const struct mt			*mt;
	struct sched_tenant_info	 info;
	int				 has_info;
	int				 labeled;
};

struct rows {
	struct row	*v;
	size_t		 n, cap;
};

static struct row *
row_of(struct rows *rs, const char *name)
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
add_sched_row(const struct sched_tenant_info *info, void *arg)
{
	struct row	*r = row_of(arg, info->name);

	r->info = *info;
	r->has_info = 1;
	r->score += info->queued + info->inflight;
}

static int
by_score(const void *a, const void *b)
{
	const struct row	*x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void
render_hist(struct buf *b, const char *name, const char *help,
    const struct hist *h)
{
	uint64_t	 cum = 0;
	int		 i;

	buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (i = 0; i < NBUCKETS_H; i++) {
		cum += h->bucket[i];
		buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i],
		    (unsigned long long)cum);
	}
	buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)h->count);
	buf_printf(b, "%s_sum %.6f\n%s_count %llu\n", name, h->sum, name,
	    (unsigned long long)h->count);
}

void
metrics_render(const struct metrics *m, const struct sched *s,
    uint64_t now_ms, unsigned label_tenants, struct buf *b)
{
	struct rows	 rs = { 0 };
	struct mt	 other;
	struct sched_tenant_info oinfo;
	struct series {
		const char			*name;
		const struct mt			*mt;
		struct sched_tenant_info	 info;
	}		*lab;
	size_t		 i, nlab = 0;
	int		 k, any_other;

	for (i = 0; i < m->n; i++) {
		struct row *r = row_of(&rs, m->v[i]->name);

		r->mt = m->v[i];
		r->score += m->v[i]->busy;
	}
	sched_foreach(s, now_ms, add_sched_row, &rs);
	if (rs.n > 0)	/* no tenants yet: rs.v is NULL */
		qsort(rs.v, rs.n, sizeof(*rs.v), by_score);

	/* Everything past the first label_tenants goes to "other". */
	memset(&other, 0, sizeof(other));
	fold(&other, &m->other);
	memset(&oinfo, 0, sizeof(oinfo));
	any_other = m->other.busy > 0;
	for (i = 0; i < rs.n; i++) {
		if (i < label_tenants && strcmp(rs.v[i].name, OTHER) != 0) {
			rs.v[i].labeled = 1;
			continue;
		}
		any_other = 1;
		if (rs.v[i].mt != NULL)
			fold(&other, rs.v[i].mt);
		if (rs.v[i].has_info) {
			oinfo.queued += rs.v[i].info.queued;
			oinfo.inflight += rs.v[i].info.inflight;
			oinfo.rate_per_s += rs.v[i].info.rate_per_s;
			if (rs.v[i].info.paused_until_ms != 0)
				oinfo.paused_until_ms = 1;
		}
	}

	/* The labeled rows, then "other": one list to print from. */
	lab = xcalloc(rs.n + 1, sizeof(*lab));
	for (i = 0; i < rs.n; i++)
		if (rs.v[i].labeled) {
			lab[nlab].name = rs.v[i].name;
			lab[nlab].mt = rs.v[i].mt;
			if (rs.v[i].has_info)
				lab[nlab].info = rs.v[i].info;
			nlab++;
		}
	if (any_other) {
		lab[nlab].name = OTHER;
		lab[nlab].mt = &other;
		lab[nlab].info = oinfo;
		nlab++;
	}

	buf_printf(b, "# HELP weir_requests_total Calls answered to clients, "
	    "by tenant and status (499: the client went away).\n"
	    "# TYPE weir_requests_total counter\n");
	for (i = 0; i < nlab; i++)
		for (k = 0; lab[i].mt != NULL && k < NCODES &&
		    lab[i].mt->req[k].n > 0; k++)
			buf_printf(b, "weir_requests_total{tenant=\"%s\","
			    "code=\"%d\"} %llu\n", lab[i].name,
			    lab[i].mt->req[k].code,
			    (unsigned long long)lab[i].mt->req[k].n);
	buf_printf(b, "# HELP weir_upstream_requests_total Upstream attempts, by "
	    "tenant and status (0: no HTTP answer).\n"
	    "# TYPE weir_upstream_requests_total counter\n");
	for (i = 0; i < nlab; i++)
		for (k = 0; lab[i].mt != NULL && k < NCODES &&
		    lab[i].mt->up[k].n > 0; k++)
			buf_printf(b, "weir_upstream_requests_total{tenant=\"%s\","
			    "code=\"%d\"} %llu\n", lab[i].name,
			    lab[i].mt->up[k].code,
			    (unsigned long long)lab[i].mt->up[k].n);
	buf_printf(b, "# HELP weir_429_absorbed_total Upstream 429s retried, "
	    "that the caller never saw.\n"
	    "# TYPE weir_429_absorbed_total counter\n");
	for (i = 0; i < nlab; i++)
		buf_printf(b, "weir_429_absorbed_total{tenant=\"%s\"} %llu\n",
		    lab[i].name, (unsigned long long)(lab[i].mt != NULL ?
		    lab[i].mt->absorbed : 0));
	buf_printf(b, "# HELP weir_retries_total Upstream retries, by tenant and "
	    "reason.\n# TYPE weir_retries_total counter\n");
	for (i = 0; i < nlab; i++)
		for (k = 0; k < 3; k++)
			buf_printf(b, "weir_retries_total{tenant=\"%s\","
			    "reason=\"%s\"} %llu\n", lab[i].name, reasons[k],
			    (unsigned long long)(lab[i].mt != NULL ?
			    lab[i].mt->retries[k] : 0));
	buf_printf(b, "# HELP weir_queue_depth Calls waiting in the tenant's "
	    "queue.\n# TYPE weir_queue_depth gauge\n");
	for (i = 0; i < nlab; i++)
		buf_printf(b, "weir_queue_depth{tenant=\"%s\"} %llu\n",
		    lab[i].name, (unsigned long long)lab[i].info.queued);
	buf_printf(b, "# HELP weir_inflight Calls of the tenant under way "
	    "upstream.\n# TYPE weir_inflight gauge\n");
	for (i = 0; i < nlab; i++)
		buf_printf(b, "weir_inflight{tenant=\"%s\"} %llu\n",
		    lab[i].name, (unsigned long long)lab[i].info.inflight);
	buf_printf(b, "# HELP weir_tenant_rate Calls per second the tenant is "
	    "paced at now.\n# TYPE weir_tenant_rate gauge\n");
	for (i = 0; i < nlab; i++)
		buf_printf(b, "weir_tenant_rate{tenant=\"%s\"} %.6g\n",
		    lab[i].name, lab[i].info.rate_per_s);
	buf_printf(b, "# HELP weir_tenant_paused 1 while the tenant is paused "
	    "after a 429.\n# TYPE weir_tenant_paused gauge\n");
	for (i = 0; i < nlab; i++)
		buf_printf(b, "weir_tenant_paused{tenant=\"%s\"} %d\n",
		    lab[i].name, lab[i].info.paused_until_ms != 0);
	free(lab);
	render_hist(b, "weir_queue_wait_seconds",
	    "Time calls waited in their queue before each attempt.",
	    &m->queue_wait);
	render_hist(b, "weir_upstream_duration_seconds",
	    "Duration of upstream attempts.", &m->upstream);
	buf_printf(b, "# HELP weir_tenants Tenants weir is tracking.\n"
	    "# TYPE weir_tenants gauge\nweir_tenants %u\n", sched_tenants(s));
	buf_printf(b, "# HELP weir_tenants_refused_total New tenants refused "
	    "because max_tenants were all paused, learning or busy.\n"
	    "# TYPE weir_tenants_refused_total counter\n"
	    "weir_tenants_refused_total %llu\n",
	    (unsigned long long)sched_refused(s));
	buf_printf(b, "# HELP weir_queued Calls waiting in all queues.\n"
	    "# TYPE weir_queued gauge\nweir_queued %llu\n",
	    (unsigned long long)sched_queued(s));
	free(rs.v);
}
