/*
 * sched_sim.c - random histories against sched, with a model beside it;
 * see sched_sim.h.  Used by check_sched_sim.c (seeds) and
 * tests/fuzz/fuzz_sched.c (bytes).  Test code: it aborts on allocation
 * failure through xmalloc, and keeps the model as simple as it can be.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "config.h"
#include "sched.h"
#include "sched_sim.h"
#include "xmalloc.h"

#define NT		7	/* tenant names "t0".."t6" */
#define NCFG		3	/* configurations a history reloads between */
#define NSENDS		64	/* send times kept per tenant for the rate */
#define MAX_DEADLINE	20000	/* ms after arrival */

enum cstate {
	CS_QUEUED = 1,
	CS_INFLIGHT,
	CS_ANSWERED,	/* finished, expired, refused or taken back */
};

struct mcall {
	struct call	*c;
	enum cstate	 state;
	int		 tenant;
	int		 cls;		/* enum prio_class */
	uint64_t	 deadline;
	uint64_t	 not_before;
};

struct mtenant {
	size_t		*q[PRIO_N];	/* calls queued per class, head first */
	size_t		 qn[PRIO_N], qcap[PRIO_N];
	/* slots that went to higher classes while the class waited */
	uint64_t	 skipped[PRIO_N];
	/* waiting since before a reload (to another priority_share) */
	int		 reloaded[PRIO_N];
	uint64_t	 inflight;
	uint64_t	 pause_until;
	uint64_t	 learned_per_min;
	uint64_t	 sends[NSENDS];	/* ring, since the last reload */
	size_t		 nsends;
};

struct sim {
	struct config	*cfg[NCFG];
	int		 cur;
	struct sched	*s;
	uint64_t	 now;
	struct mcall	*calls;
	size_t		 ncalls, callcap;
	size_t		*inflight;	/* calls out, any order */
	size_t		 ninflight, inflightcap;
	struct mtenant	 t[NT];
	uint64_t	 due;		/* sched_next_due after the last pass */
	int		 quiet;		/* nothing happened since that pass */
	size_t		 op;		/* operation being run */
	char		*why;
	size_t		 whylen;
	int		 failed;
};

int			 sim_mutation;
struct sim_stats	 sim_stats;

static const char *const names[NT] = {
	"t0", "t1", "t2", "t3", "t4", "t5", "t6"
};

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t	 z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
fail(struct sim *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
fail(struct sim *m, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (m->failed)
		return;
	m->failed = 1;
	n = snprintf(m->why, m->whylen, "op %zu, t=%" PRIu64 " ms: ", m->op,
	    m->now);
	if (n < 0 || (size_t)n >= m->whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(m->why + n, m->whylen - (size_t)n, fmt, ap);
	va_end(ap);
}

#define CHECK(m, cond, ...) do {					\
	if (!(cond))							\
		fail((m), __VA_ARGS__);					\
} while (0)

/* Three configurations drawn from seed: small limits, so that caps,
 * queues, the tenant table and the buckets are all reached. */
static struct config *
draw_config(uint64_t *x)
{
	struct config	*cfg = config_new();
	char		 text[512], err[256];
	int		 n;

	n = snprintf(text, sizeof(text),
	    "rate = %" PRIu64 "/%s\nburst = %" PRIu64 "\n"
	    "concurrency = %" PRIu64 "\nmax_queue = %" PRIu64 "\n"
	    "max_tenants = %" PRIu64 "\npriority_share = %" PRIu64 "\n",
	    1 + splitmix(x) % 20, splitmix(x) % 2 ? "s" : "min",
	    1 + splitmix(x) % 6, 1 + splitmix(x) % 4, 1 + splitmix(x) % 10,
	    1 + splitmix(x) % 5, 2 + splitmix(x) % 4);
	if (splitmix(x) % 2)
		snprintf(text + n, sizeof(text) - (size_t)n,
		    "[tenant t1]\nrate = %" PRIu64 "/s\nburst = %" PRIu64 "\n"
		    "concurrency = %" PRIu64 "\n", 1 + splitmix(x) % 50,
		    1 + splitmix(x) % 10, 1 + splitmix(x) % 6);
	if (config_file_mem(cfg, "sim.conf", text, err, sizeof(err)) == -1 ||
	    config_finish(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "sim config: %s\n%s", err, text);
		abort();
	}
	return cfg;
}

static const struct limits *
lim(const struct sim *m, int t)
{
	return config_limits(m->cfg[m->cur], names[t]);
}

static void
push(size_t **v, size_t *n, size_t *cap, size_t x)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = x;
}

static void
q_remove_at(struct mtenant *t, int k, size_t i)
{
	memmove(&t->q[k][i], &t->q[k][i + 1], (t->qn[k] - i - 1) *
	    sizeof(t->q[k][0]));
	t->qn[k]--;
}

/* A call joins class k's queue, at its tail or (a retry) its head. */
static void
q_push(struct mtenant *t, int k, size_t i, int at_head)
{
	if (t->qn[k] == 0) {
		t->skipped[k] = 0;	/* it starts waiting */
		t->reloaded[k] = 0;
	}
	push(&t->q[k], &t->qn[k], &t->qcap[k], i);
	if (at_head) {
		memmove(&t->q[k][1], &t->q[k][0], (t->qn[k] - 1) *
		    sizeof(t->q[k][0]));
		t->q[k][0] = i;
	}
}

static size_t
q_len(const struct mtenant *t)
{
	return t->qn[PRIO_HIGH] + t->qn[PRIO_NORMAL] + t->qn[PRIO_LOW];
}

/*
 * The class the rule gives the next slot to, from the counts qn[] and
 * skipped[]: the lowest class that waited through share - 1 slots of
 * higher classes; else the highest class with calls; -1 if none.
 */
static int
rule_class(const size_t *qn, const uint64_t *skipped, uint64_t share)
{
	int	 k;

	for (k = PRIO_LOW; k > PRIO_HIGH; k--)
		if (qn[k] > 0 && skipped[k] >= share - 1)
			return k;
	for (k = PRIO_HIGH; k <= PRIO_LOW; k++)
		if (qn[k] > 0)
			return k;
	return -1;
}

/* Class k took a slot: every lower class with calls waited one more. */
static void
rule_slot(const size_t *qn, uint64_t *skipped, int k)
{
	int	 x;

	skipped[k] = 0;
	for (x = k + 1; x <= PRIO_LOW; x++)
		if (qn[x] > 0)
			skipped[x]++;
}

static size_t
new_call(struct sim *m, int t, int cls, uint64_t deadline)
{
	struct mcall	*mc;

	if (m->ncalls == m->callcap) {
		m->callcap = m->callcap ? m->callcap * 2 : 64;
		m->calls = xrealloc(m->calls, m->callcap *
		    sizeof(*m->calls));
	}
	mc = &m->calls[m->ncalls];
	memset(mc, 0, sizeof(*mc));
	mc->c = call_new("GET", "/api/v2/flows");
	mc->c->tenant = xstrdup(names[t]);
	mc->c->deadline_ms = deadline;
	mc->c->prio = (enum prio_class)cls;
	mc->cls = cls;
	/* sched never looks at front: it carries the model's index */
	mc->c->front = (void *)(uintptr_t)m->ncalls;
	mc->tenant = t;
	mc->deadline = deadline;
	return m->ncalls++;
}

static size_t
idx_of(const struct call *c)
{
	return (size_t)(uintptr_t)c->front;
}

static void
answered(struct sim *m, size_t i)
{
	m->calls[i].state = CS_ANSWERED;
	call_free(m->calls[i].c);
	m->calls[i].c = NULL;
}

static uint64_t
queued_total(const struct sim *m)
{
	uint64_t	 n = 0;
	int		 t;

	for (t = 0; t < NT; t++)
		n += q_len(&m->t[t]);
	return n;
}

/* Work a sched function may do: a walk of every tenant and every call. */
static void
check_steps(struct sim *m, uint64_t before, const char *what)
{
	uint64_t	 used = sched_totals(m->s).steps - before;
	uint64_t	 bound = 2 * ((uint64_t)sched_totals(m->s).tenants +
	    queued_total(m) + m->ninflight) + 4;

	CHECK(m, used <= bound, "%s did %" PRIu64 " steps, more than %"
	    PRIu64, what, used, bound);
}

/*
 * Could tenant t send its head call now?  The bucket and the cap are
 * sched's own figures (sched_tenant_info); the pause and the retry time
 * are the model's.
 */
static int
ready(struct sim *m, int t)
{
	struct sched_tenant_info	 info;
	const struct mtenant		*mt = &m->t[t];
	int				 k;

	k = rule_class(mt->qn, mt->skipped, lim(m, t)->priority_share);
	if (k == -1 ||
	    sched_tenant_info(m->s, names[t], m->now, &info) == -1)
		return 0;
	return info.inflight < info.cap && m->now >= mt->pause_until &&
	    m->now >= m->calls[mt->q[k][0]].not_before &&
	    info.available >= 1;
}

/* The calls a tenant sent in any interval ending now: at most burst +
 * elapsed * rate (the configured rate; a learned one is only lower). */
static void
check_rate(struct sim *m, int t)
{
	struct mtenant		*mt = &m->t[t];
	const struct limits	*l = lim(m, t);
	size_t			 j, n = mt->nsends < NSENDS ? mt->nsends :
	    NSENDS;
	uint64_t		 h, allowed;

	for (j = 0; j < n; j++) {
		h = mt->sends[(mt->nsends - 1 - j) % NSENDS];
		allowed = l->burst + (m->now - h) * l->rate.n / l->rate.per_ms;
		if (sim_mutation == SIM_MUT_FAST_RATE)	/* as if half */
			allowed = l->burst + (m->now - h) * l->rate.n / 2 /
			    l->rate.per_ms;
		CHECK(m, j + 2 <= allowed, "tenant %s sent %zu calls in %"
		    PRIu64 " ms (burst %" PRIu64 ", rate %" PRIu64 " per %"
		    PRIu64 " ms)", names[t], j + 2, m->now - h, l->burst,
		    l->rate.n, l->rate.per_ms);
	}
	mt->sends[mt->nsends % NSENDS] = m->now;
	mt->nsends++;
}

/*
 * An upper bound on when the kth queued call of t could go: k intervals,
 * plus what the bucket may still owe (a burst spent under a larger burst
 * before a reload), after the pause and the call's own retry time.
 */
static uint64_t
latest_possible(const struct sim *m, int t, const struct mcall *mc,
    uint64_t k)
{
	const struct limits	*l = lim(m, t);
	uint64_t		 n = l->rate.n, per = l->rate.per_ms, at;
	uint64_t		 owed = 0;
	int			 i;

	for (i = 0; i < NCFG; i++)
		if (config_limits(m->cfg[i], names[t])->burst > owed)
			owed = config_limits(m->cfg[i], names[t])->burst;

	if (m->t[t].learned_per_min > 0 &&
	    m->t[t].learned_per_min * per < n * 60000) {
		n = m->t[t].learned_per_min;
		per = 60000;
	}
	at = m->now + (k + owed) * ((per + n - 1) / n + 1) + 1;
	if (m->t[t].pause_until > at)
		at = m->t[t].pause_until;
	if (mc->not_before > at)
		at = mc->not_before;
	return at;
}

static void
take_expired(struct sim *m, struct call *list)
{
	struct call	*c, *next;
	int		 t;
	size_t		 i, k;

	/* Mark them first, then walk each queue in order for positions. */
	for (c = list; c != NULL; c = c->next) {
		i = idx_of(c);
		CHECK(m, i < m->ncalls && m->calls[i].state == CS_QUEUED,
		    "sched_expire returned call %zu, not queued", i);
		if (m->failed)
			return;
		CHECK(m, c->not_before_ms > c->deadline_ms, "expired call "
		    "%zu could go at %" PRIu64 ", by its deadline %" PRIu64,
		    i, c->not_before_ms, c->deadline_ms);
		m->calls[i].state = CS_ANSWERED;	/* for now */
		sim_stats.expired++;
	}
	/*
	 * A call's place in line is its rank in the order the rule serves
	 * the tenant's queues as they are: replay the rule over copies of
	 * the counts; an expired call takes no slot.
	 */
	for (t = 0; t < NT; t++) {
		struct mtenant *mt = &m->t[t];
		size_t n[PRIO_N], at[PRIO_N];
		uint64_t sk[PRIO_N];
		int cls;

		for (cls = 0; cls < PRIO_N; cls++) {
			n[cls] = mt->qn[cls];
			at[cls] = 0;
			sk[cls] = mt->skipped[cls];
		}
		k = 1;
		while ((cls = rule_class(n, sk,
		    lim(m, t)->priority_share)) != -1) {
			size_t j = mt->q[cls][at[cls]];
			struct mcall *mc = &m->calls[j];

			n[cls]--;
			if (mc->state == CS_QUEUED) {
				rule_slot(n, sk, cls);
				at[cls]++;
				k++;
				continue;
			}
			CHECK(m, mc->deadline < latest_possible(m, t, mc, k),
			    "call %zu of %s expired (deadline %" PRIu64
			    ") though it could go by %" PRIu64, j,
			    names[t], mc->deadline,
			    latest_possible(m, t, mc, k));
			q_remove_at(mt, cls, at[cls]);
		}
	}
	for (c = list; c != NULL; c = next) {
		next = c->next;
		i = idx_of(c);
		m->calls[i].state = CS_QUEUED;
		answered(m, i);
	}
}

/* What weir's loop does after every event: expire, then dispatch. */
static void
pass(struct sim *m)
{
	struct call	*c;
	uint64_t	 before, due;
	int		 t, x, k, expect_nothing, last_at[NT], nserved;
	int		 readyset[NT], was_ready[NT][NT];
	size_t		 i, did = 0;

	expect_nothing = m->quiet && m->now < m->due;
	before = sched_totals(m->s).steps;
	c = sched_expire(m->s, m->now);
	check_steps(m, before, "sched_expire");
	if (c != NULL)
		did++;
	take_expired(m, c);

	for (t = 0; t < NT; t++)
		last_at[t] = -1;
	for (nserved = 0; !m->failed; nserved++) {
		for (t = 0; t < NT; t++)
			readyset[t] = ready(m, t);
		before = sched_totals(m->s).steps;
		c = sched_next(m->s, m->now);
		check_steps(m, before, "sched_next");
		if (c == NULL)
			break;
		did++;
		i = idx_of(c);
		CHECK(m, i < m->ncalls && m->calls[i].state == CS_QUEUED,
		    "sched_next returned call %zu, not queued", i);
		if (m->failed)
			return;
		t = m->calls[i].tenant;
		k = rule_class(m->t[t].qn, m->t[t].skipped,
		    lim(m, t)->priority_share);
		CHECK(m, m->calls[i].cls == k, "sched_next returned a %s call "
		    "of %s; the rule says %s", prio_name(m->calls[i].cls),
		    names[t], k == -1 ? "none" : prio_name(k));
		if (m->failed)
			return;
		CHECK(m, m->t[t].q[k][0] == i, "sched_next returned call %zu "
		    "of %s, not the head of its %s queue (%zu)", i, names[t],
		    prio_name(k), m->t[t].q[k][0]);
		CHECK(m, m->now >= m->t[t].pause_until, "call %zu of %s sent "
		    "during its tenant's pause (until %" PRIu64 ")", i,
		    names[t], m->t[t].pause_until);
		CHECK(m, m->now >= m->calls[i].not_before, "retry %zu sent "
		    "before its time %" PRIu64, i, m->calls[i].not_before);
		CHECK(m, m->t[t].inflight < lim(m, t)->concurrency, "%s has "
		    "%" PRIu64 " calls out and concurrency %" PRIu64
		    ", and got one more", names[t], m->t[t].inflight,
		    lim(m, t)->concurrency);
		CHECK(m, readyset[t], "sched_next sent a call of %s, which "
		    "the model says was not ready", names[t]);
		/* round-robin: since t's last call in this pass, everyone
		 * ready then and now was served */
		for (x = 0; x < NT && last_at[t] >= 0; x++)
			CHECK(m, x == t || !was_ready[t][x] || !readyset[x] ||
			    last_at[x] > last_at[t], "%s served twice while "
			    "%s waited, ready", names[t], names[x]);
		for (x = 0; x < NT; x++)
			was_ready[t][x] = readyset[x];
		last_at[t] = nserved;
		check_rate(m, t);
		sim_stats.sent++;
		sim_stats.by_class[k]++;
		if (k != PRIO_HIGH && m->t[t].qn[PRIO_HIGH] > 0)
			sim_stats.shares++;
		q_remove_at(&m->t[t], k, 0);
		rule_slot(m->t[t].qn, m->t[t].skipped, k);
		m->t[t].reloaded[k] = 0;
		/* the shares: no class that waits saw share slots in a row
		 * go to higher classes (within one configuration: a class
		 * that waited 5 slots under a share of 10 has waited more
		 * than a new share of 2 allows, and goes at the next slot it
		 * is not beaten to by a lower owed class) */
		for (x = PRIO_NORMAL; x <= PRIO_LOW; x++)
			CHECK(m, m->t[t].qn[x] == 0 || m->t[t].reloaded[x] ||
			    m->t[t].skipped[x] <
			    lim(m, t)->priority_share, "%s: its %s calls "
			    "waited through %" PRIu64 " slots of higher "
			    "classes (priority_share %" PRIu64 ")", names[t],
			    prio_name(x), m->t[t].skipped[x],
			    lim(m, t)->priority_share);
		m->calls[i].state = CS_INFLIGHT;
		m->t[t].inflight++;
		push(&m->inflight, &m->ninflight, &m->inflightcap, i);
	}
	if (m->failed)
		return;
	CHECK(m, !expect_nothing || did == 0, "a pass before the due time "
	    "%" PRIu64 " did work", m->due);

	/* after the pass: nothing ready, and the loop will sleep */
	for (t = 0; t < NT; t++)
		CHECK(m, !ready(m, t), "sched_next returned NULL while %s was "
		    "ready", names[t]);
	before = sched_totals(m->s).steps;
	due = sched_next_due(m->s, m->now);
	check_steps(m, before, "sched_next_due");
	CHECK(m, due > m->now, "sched_next_due says %" PRIu64 " after a "
	    "full pass at %" PRIu64 ": the loop would spin", due, m->now);
	CHECK(m, queued_total(m) == 0 ||
	    due <= m->now + SCHED_EXPIRE_EVERY_MS, "calls queued but the "
	    "next wake-up is at %" PRIu64, due);
	m->due = due;
	m->quiet = 1;

	/* the counts, and the deadlines */
	CHECK(m, sched_totals(m->s).queued == queued_total(m), "sched_queued %"
	    PRIu64 ", model %" PRIu64, sched_totals(m->s).queued, queued_total(m));
	CHECK(m, sched_totals(m->s).inflight == m->ninflight, "sched_inflight %"
	    PRIu64 ", model %zu", sched_totals(m->s).inflight, m->ninflight);
	for (t = 0; t < NT; t++) {
		struct sched_tenant_info info;
		struct mtenant *mt = &m->t[t];

		int cls;

		if (q_len(mt) == 0 && mt->inflight == 0)
			continue;
		CHECK(m, sched_tenant_info(m->s, names[t], m->now, &info) == 0,
		    "%s has calls but sched forgot it", names[t]);
		if (m->failed)
			return;
		CHECK(m, info.queued == q_len(mt) &&
		    info.inflight == mt->inflight,
		    "%s: sched says %" PRIu64 " queued, %" PRIu64 " out; "
		    "model %zu, %" PRIu64, names[t], info.queued,
		    info.inflight, q_len(mt), mt->inflight);
		for (cls = 0; cls < PRIO_N; cls++) {
			CHECK(m, info.queued_by[cls] == mt->qn[cls],
			    "%s: sched says %" PRIu64 " %s calls queued, "
			    "model %zu", names[t], info.queued_by[cls],
			    prio_name(cls), mt->qn[cls]);
			for (i = 0; i < mt->qn[cls]; i++) {
				uint64_t d = m->calls[mt->q[cls][i]].deadline;

				CHECK(m, d == UINT64_MAX ||
				    d + SCHED_EXPIRE_EVERY_MS > m->now,
				    "call %zu held %" PRIu64 " ms past its "
				    "deadline", mt->q[cls][i], m->now - d);
			}
		}
	}
}

static void
op_submit(struct sim *m, const struct sim_op *op)
{
	int		 t = op->a % NT, n = 1 + op->b % 4, k;
	int		 cls = (op->b >> 3) % PRIO_N;	/* bits 3-7 */
	uint64_t	 deadline, before;
	enum weir_err	 err;
	size_t		 i;

	deadline = op->b & 4 ? UINT64_MAX : m->now + op->v % MAX_DEADLINE;
	for (k = 0; k < n && !m->failed; k++) {
		struct sched_tenant_info info;
		int known = sched_tenant_info(m->s, names[t], m->now,
		    &info) == 0;

		if (!known) {
			/* new, or forgotten to make room: it starts anew
			 * (with a full bucket: the rate counts from here) */
			m->t[t].nsends = 0;
			m->t[t].learned_per_min = 0;
		}

		i = new_call(m, t, cls, deadline);
		before = sched_totals(m->s).steps;
		err = sched_submit(m->s, m->calls[i].c, m->now);
		check_steps(m, before, "sched_submit");
		if (err == WERR_NONE) {
			m->calls[i].state = CS_QUEUED;
			m->calls[i].not_before = m->now;
			q_push(&m->t[t], cls, i, 0);
			continue;
		}
		if (err == WERR_QUEUE_FULL) {
			sim_stats.queue_full++;
			CHECK(m, q_len(&m->t[t]) >= lim(m, t)->max_queue,
			    "queue_full with %zu queued of %" PRIu64,
			    q_len(&m->t[t]), lim(m, t)->max_queue);
		} else {
			sim_stats.tenants_refused++;
			CHECK(m, err == WERR_TOO_MANY_TENANTS && !known &&
			    sched_totals(m->s).tenants >=
			    m->cfg[m->cur]->max_tenants,
			    "refused %s with %s, %" PRIu64 " tenants",
			    names[t], error_code(err),
			    sched_totals(m->s).tenants);
		}
		m->calls[i].state = CS_QUEUED;
		answered(m, i);
	}
}

/* Take the ith in-flight call off the list. */
static size_t
take_inflight(struct sim *m, size_t which)
{
	size_t	 k = which % m->ninflight, i = m->inflight[k];

	m->inflight[k] = m->inflight[--m->ninflight];
	m->t[m->calls[i].tenant].inflight--;
	return i;
}

static void
requeue_or_answer(struct sim *m, size_t i, uint64_t wait)
{
	struct mcall	*mc = &m->calls[i];
	struct mtenant	*mt = &m->t[mc->tenant];

	/* as policy does: retry only within the deadline */
	if (mc->deadline != UINT64_MAX && m->now + wait > mc->deadline) {
		answered(m, i);
		return;
	}
	sched_requeue(m->s, mc->c, m->now + wait, m->now);
	sim_stats.requeued++;
	mc->state = CS_QUEUED;
	mc->not_before = m->now + wait;
	q_push(mt, mc->cls, i, 1);	/* a retry: the head of its class */
}

static void
op_done(struct sim *m, const struct sim_op *op)
{
	size_t		 i;
	struct call	*c;
	uint64_t	 wait, limit;
	int		 t;

	if (m->ninflight == 0)
		return;
	i = take_inflight(m, op->a);
	c = m->calls[i].c;
	t = m->calls[i].tenant;
	c->xfer_error = XFER_OK;
	switch (op->b % 4) {
	case 0:
	case 1:
		c->status = 200;
		sched_done(m->s, c, m->now);
		answered(m, i);
		break;
	case 2:
		c->status = 429;
		sched_done(m->s, c, m->now);
		wait = op->b & 16 ? (uint64_t)op->v * 1000 :
		    1 + op->v % 70000;
		limit = op->b & 8 ? 1 + op->v % 600 : 0;
		sched_throttle(m->s, c, m->now, wait, limit);
		sim_stats.throttled++;
		if (sim_mutation == SIM_MUT_SHORT_PAUSE)
			wait += 10000;	/* sched was told less than the truth */
		if (m->now + wait > m->t[t].pause_until)
			m->t[t].pause_until = m->now + wait;
		if (limit > 0)
			m->t[t].learned_per_min = limit;
		requeue_or_answer(m, i, wait);
		break;
	default:
		c->status = 503;
		sched_done(m->s, c, m->now);
		requeue_or_answer(m, i, op->v % 3000);
		break;
	}
}

static void
op_abandon(struct sim *m, const struct sim_op *op)
{
	size_t	 i;

	if (m->ninflight == 0)
		return;
	i = take_inflight(m, op->a);
	m->calls[i].c->xfer_error = XFER_OTHER;	/* the client left */
	sched_done(m->s, m->calls[i].c, m->now);
	answered(m, i);
}

static void
op_remove(struct sim *m, const struct sim_op *op)
{
	struct mtenant	*mt = NULL;
	size_t		 i, k;
	int		 t, j, cls;

	if (op->v & 1 && m->ninflight > 0) {
		/* a call that is out is not in any queue */
		i = m->inflight[op->a % m->ninflight];
		CHECK(m, sched_remove(m->s, m->calls[i].c) == 0,
		    "sched_remove took call %zu, which is out", i);
	}
	for (j = 0; j < NT; j++) {
		t = (op->a + j) % NT;
		if (q_len(&m->t[t]) > 0) {
			mt = &m->t[t];
			break;
		}
	}
	if (mt == NULL)
		return;
	k = op->b % q_len(mt);
	for (cls = 0; k >= mt->qn[cls]; cls++)
		k -= mt->qn[cls];
	i = mt->q[cls][k];
	CHECK(m, sched_remove(m->s, m->calls[i].c) == 1,
	    "sched_remove did not find queued call %zu", i);
	q_remove_at(mt, cls, k);
	answered(m, i);
	sim_stats.removed++;
}

static void
op_advance(struct sim *m, const struct sim_op *op)
{
	switch (op->b % 4) {
	case 0:		/* as the loop does: to when sched said */
		if (m->due != SCHED_NEVER && m->due > m->now)
			m->now = m->due;
		else
			m->now += 1000;
		break;
	case 1:
		m->now += op->v % 500;
		break;
	case 2:
		m->now += op->v % 100000;
		break;
	default:	/* the process was stopped: a jump of hours */
		m->now += op->v % (4 * 3600 * 1000);
		break;
	}
}

static void
op_reload(struct sim *m, const struct sim_op *op)
{
	int	 t, k;

	m->cur = op->a % NCFG;
	sim_stats.reloads++;
	for (t = 0; t < NT; t++)
		for (k = 0; k < PRIO_N; k++)
			m->t[t].reloaded[k] = 1;
	sched_set_config(m->s, m->cfg[m->cur], m->now);
	/* the rate is checked within one configuration */
	for (t = 0; t < NT; t++)
		m->t[t].nsends = 0;
}

/* Finish everything and check that every call came out exactly once. */
static void
wind_down(struct sim *m)
{
	struct call	*c;
	size_t		 i;
	int		 t;

	while (m->ninflight > 0 && !m->failed) {
		i = take_inflight(m, 0);
		m->calls[i].c->status = 200;
		m->calls[i].c->xfer_error = XFER_OK;
		sched_done(m->s, m->calls[i].c, m->now);
		answered(m, i);
	}
	while (!m->failed && (c = sched_drain(m->s)) != NULL) {
		i = idx_of(c);
		CHECK(m, i < m->ncalls && m->calls[i].state == CS_QUEUED,
		    "sched_drain returned call %zu, not queued", i);
		if (m->failed)
			return;
		for (t = 0; t < NT; t++)
			for (int cls = 0; cls < PRIO_N; cls++)
				for (size_t k = 0; k < m->t[t].qn[cls]; k++)
					if (m->t[t].q[cls][k] == i)
						q_remove_at(&m->t[t], cls, k);
		answered(m, i);
	}
	CHECK(m, sched_totals(m->s).queued == 0 && sched_totals(m->s).inflight == 0,
	    "after the drain sched holds %" PRIu64 " queued, %" PRIu64
	    " out", sched_totals(m->s).queued, sched_totals(m->s).inflight);
	for (i = 0; i < m->ncalls; i++)
		CHECK(m, m->calls[i].state == CS_ANSWERED, "call %zu was "
		    "lost (state %d)", i, m->calls[i].state);
}

int
sim_run(uint64_t cfg_seed, const struct sim_op *ops, size_t n, char *why,
    size_t whylen)
{
	struct sim	 m;
	uint64_t	 x = cfg_seed;
	size_t		 i;
	int		 k;

	memset(&m, 0, sizeof(m));
	m.why = why;
	m.whylen = whylen;
	if (whylen > 0)
		why[0] = '\0';
	for (k = 0; k < NCFG; k++)
		m.cfg[k] = draw_config(&x);
	m.s = sched_new(m.cfg[0]);
	m.now = 1000 + splitmix(&x) % 100000;
	m.due = SCHED_NEVER;
	sim_stats.histories++;
	for (i = 0; i < n && !m.failed; i++) {
		m.op = i;
		sim_stats.ops++;
		if (ops[i].kind != SIM_ADVANCE)
			m.quiet = 0;
		switch (ops[i].kind % SIM_NKINDS) {
		case SIM_SUBMIT:
			op_submit(&m, &ops[i]);
			break;
		case SIM_DONE:
			op_done(&m, &ops[i]);
			break;
		case SIM_REMOVE:
			op_remove(&m, &ops[i]);
			break;
		case SIM_ABANDON:
			op_abandon(&m, &ops[i]);
			break;
		case SIM_ADVANCE:
			op_advance(&m, &ops[i]);
			break;
		case SIM_RELOAD:
			op_reload(&m, &ops[i]);
			break;
		}
		if (!m.failed)
			pass(&m);
	}
	m.op = n;
	if (!m.failed)
		wind_down(&m);
	/* free what is left, whatever state the failure left it in */
	while (m.ninflight > 0) {
		i = take_inflight(&m, 0);
		m.calls[i].c->xfer_error = XFER_OTHER;
		sched_done(m.s, m.calls[i].c, m.now);
	}
	while (sched_drain(m.s) != NULL)
		;
	for (i = 0; i < m.ncalls; i++)
		call_free(m.calls[i].c);
	sched_free(m.s);
	for (k = 0; k < NCFG; k++)
		config_free(m.cfg[k]);
	for (k = 0; k < NT; k++)
		for (i = 0; i < PRIO_N; i++)
			free(m.t[k].q[i]);
	free(m.calls);
	free(m.inflight);
	return m.failed ? -1 : 0;
}

void
sim_random(uint64_t seed, struct sim_op *ops, size_t n)
{
	uint64_t	 x = seed, r;
	size_t		 i;

	for (i = 0; i < n; i++) {
		r = splitmix(&x);
		/* submits and clock steps most, reloads rarely */
		switch (r % 20) {
		case 0: case 1: case 2: case 3: case 4: case 5:
			ops[i].kind = SIM_SUBMIT;
			break;
		case 6: case 7: case 8: case 9: case 10:
			ops[i].kind = SIM_DONE;
			break;
		case 11:
			ops[i].kind = SIM_REMOVE;
			break;
		case 12:
			ops[i].kind = SIM_ABANDON;
			break;
		case 13:
			ops[i].kind = SIM_RELOAD;
			break;
		default:
			ops[i].kind = SIM_ADVANCE;
			break;
		}
		r = splitmix(&x);
		ops[i].a = (uint8_t)r;
		ops[i].b = (uint8_t)(r >> 8);
		ops[i].v = (uint32_t)(r >> 32);
	}
}

size_t
sim_decode(const uint8_t *data, size_t len, struct sim_op *ops, size_t max)
{
	size_t	 n = 0;

	for (; len >= 6 && n < max; data += 6, len -= 6, n++) {
		ops[n].kind = data[0] % SIM_NKINDS;
		ops[n].a = data[1];
		ops[n].b = data[2];
		ops[n].v = (uint32_t)data[3] | (uint32_t)data[4] << 8 |
		    (uint32_t)data[5] << 16;
	}
	return n;
}

size_t
sim_shrink(uint64_t cfg_seed, struct sim_op *ops, size_t n)
{
	struct sim_op	*try = xmalloc((n > 0 ? n : 1) *
	    sizeof(*try));
	char		 why[512];
	size_t		 chunk, at, k;
	int		 changed;

	for (chunk = n / 2; chunk >= 1; ) {
		changed = 0;
		for (at = 0; at + chunk <= n; ) {
			/* the history without ops[at .. at+chunk) */
			memcpy(try, ops, at * sizeof(*try));
			memcpy(try + at, ops + at + chunk,
			    (n - at - chunk) * sizeof(*try));
			k = n - chunk;
			if (sim_run(cfg_seed, try, k, why, sizeof(why)) == -1) {
				memcpy(ops, try, k * sizeof(*ops));
				n = k;
				changed = 1;
			} else
				at += chunk;
		}
		if (!changed)
			chunk /= 2;
		else if (chunk > n / 2)
			chunk = n / 2 > 0 ? n / 2 : 1;
		if (n <= 1)
			break;
	}
	free(try);
	return n;
}

void
sim_format(const struct sim_op *op, char *out, size_t outlen)
{
	static const char *const kinds[SIM_NKINDS] = {
		"submit", "done", "remove", "abandon", "advance", "reload"
	};

	snprintf(out, outlen, "{ %s, a=%u, b=%u, v=%" PRIu32 " }",
	    kinds[op->kind % SIM_NKINDS], op->a, op->b, op->v);
}
