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
#define NASKS		(4 * NT)	/* asks one sched_wants may make */

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

/*
 * Shared mode: the slots a lane was last granted, as sched must hold
 * them: slot i at max(start, base + i * T) (base = start + d0), in ms
 * rounded up; used of n spent.  Once dropped, why (for the message).
 */
struct mgrant {
	uint64_t	 n, used;
	int64_t		 start_us, base_us;
	uint64_t	 T_us;
	uint64_t	 epoch;
	int		 live;		/* held by the lane */
	const char	*dropped;	/* else why not, if it ever was */
	uint64_t	 dropped_by;	/* the newer epoch that dropped it */
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
	uint64_t	 ask_epoch;	/* epoch when it last asked */
	uint64_t	 sends[NSENDS];	/* ring, since the last reload */
	size_t		 nsends;

	/* sched holds a lane for it (learned after every submit) */
	int		 lane;
	/* local after shared: the bucket started empty at drained_at, and
	 * ndrained calls went since */
	int		 drained;
	uint64_t	 drained_at, ndrained;

	/* shared mode, as its lane should know it */
	struct mgrant	 g;
	uint64_t	 epoch;		/* newest sched was told */
	uint64_t	 redis_epoch;	/* newest there is ("Redis") */
	int		 asking;	/* an ask is out: for ask_k slots */
	uint64_t	 ask_k, ask_at;
	uint64_t	 ahead;		/* asks for this many, queued or not */
	uint64_t	 ask_after;	/* no ask before (a retry time) */
	int		 floor;		/* its next ask restarts empty */
	uint64_t	 max_T_us;	/* slowest T its lane was granted */
};

/* What one sched_wants asked. */
struct mask {
	int		 t;		/* -1: a name the model never used */
	uint64_t	 k;
	int		 floor;
	int		 lim_ok;	/* the tenant's limits */
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
	struct sched_share share;	/* the mode sched was last set to */
	uint64_t	 granted, wasted, used;	/* slots, all tenants */
	struct mask	 asks[NASKS];	/* what sched_wants is asking */
	size_t		 nasks;
	uint64_t	 due;		/* sched_next_due after the last pass */
	int		 quiet;		/* nothing happened since that pass */
	int		 before_due;	/* quiet, and the clock before due */
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

/* This instance's part of a limit in local mode beside n instances. */
static uint64_t
part(uint64_t v, unsigned n)
{
	return v / n > 0 ? v / n : 1;
}

/* The n that divides the limits now: share_n in local mode, else 1. */
static unsigned
share_k(const struct sim *m)
{
	return m->share.shared || m->share.share_n == 0 ? 1 :
	    m->share.share_n;
}

/* The time (ms) of slot j of a grant: max(start, base + j * T), rounded
 * up, as the grant says. */
static uint64_t
slot_at(const struct mgrant *g, uint64_t j)
{
	int64_t	 at = g->base_us + (int64_t)(j * g->T_us);

	if (at < g->start_us)
		at = g->start_us;
	return ((uint64_t)at + 999) / 1000;
}

/* Slots t's lane holds. */
static uint64_t
held(const struct mtenant *mt)
{
	return mt->g.live ? mt->g.n - mt->g.used : 0;
}

/* t's lane drops what it holds of its grant: wasted. */
static void
drop_grant(struct sim *m, int t, const char *why, uint64_t by_epoch)
{
	struct mgrant	*g = &m->t[t].g;

	m->t[t].ahead = 0;
	if (!g->live)
		return;
	m->wasted += g->n - g->used;
	g->live = 0;
	g->dropped = why;
	g->dropped_by = by_epoch;
}

/* Could t's lane ask for slots now (sched_wants must ask for it)? */
static int
can_ask(const struct sim *m, int t)
{
	const struct mtenant	*mt = &m->t[t];

	return m->share.shared && mt->lane && q_len(mt) > 0 &&
	    !mt->asking && held(mt) == 0 && m->now >= mt->ask_after &&
	    m->now >= mt->pause_until &&
	    mt->inflight < lim(m, t)->concurrency;
}

/* Why each lane in shared mode with calls and no slots may not ask now,
 * as text (for a message). */
static void
no_ask(const struct sim *m, char *out, size_t outlen)
{
	const struct mtenant	*mt;
	size_t			 len = 0;
	int			 t;

	out[0] = '\0';
	for (t = 0; t < NT && len + 1 < outlen; t++) {
		mt = &m->t[t];
		if (!m->share.shared || q_len(mt) == 0 || held(mt) > 0)
			continue;
		if (mt->asking)
			snprintf(out + len, outlen - len, " (%s asks)",
			    names[t]);
		else if (m->now < mt->pause_until)
			snprintf(out + len, outlen - len, " (%s is paused "
			    "until %" PRIu64 ")", names[t], mt->pause_until);
		else if (mt->inflight >= lim(m, t)->concurrency)
			snprintf(out + len, outlen - len, " (%s is at its "
			    "in-flight cap)", names[t]);
		else
			snprintf(out + len, outlen - len, " (%s retries at %"
			    PRIu64 ")", names[t], mt->ask_after);
		len += strlen(out + len);
	}
}

/*
 * After a submit: which tenants sched holds a lane for.  A new lane starts
 * with nothing learned (a full bucket, epoch 0, no floor); a lane sched
 * forgot to make room must have had nothing to lose, and what it held of
 * a grant is wasted.
 */
static void
sync_lanes(struct sim *m)
{
	struct sched_tenant_info	 info;
	struct mtenant			*mt;
	int				 t, known;

	for (t = 0; t < NT; t++) {
		mt = &m->t[t];
		known = sched_tenant_info(m->s, names[t], m->now, &info) == 0;
		if (mt->lane && !known) {
			CHECK(m, q_len(mt) == 0 && mt->inflight == 0 &&
			    !mt->asking && mt->pause_until <= m->now,
			    "sched forgot %s, which had %zu calls queued, %"
			    PRIu64 " out, %s ask out, a pause until %" PRIu64,
			    names[t], q_len(mt), mt->inflight,
			    mt->asking ? "an" : "no", mt->pause_until);
			if (held(mt) > 0)
				sim_stats.forgotten++;
			drop_grant(m, t, "its lane was forgotten", 0);
			mt->lane = 0;
		} else if (!mt->lane && known) {
			/* new, or back: it starts anew (with a full bucket:
			 * the rate counts from here) */
			mt->lane = 1;
			mt->nsends = 0;
			mt->learned_per_min = 0;
			mt->drained = 0;
			memset(&mt->g, 0, sizeof(mt->g));
			mt->epoch = 0;
			mt->ask_after = 0;
			mt->floor = 0;
			mt->max_T_us = 0;
		}
	}
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
 * Could tenant t send its head call now?  Local mode: the bucket and the
 * cap are sched's own figures (sched_tenant_info); the pause and the
 * retry time are the model's.  Shared mode: all the model's.
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
	if (m->share.shared)	/* the model's slots */
		return mt->inflight < lim(m, t)->concurrency &&
		    m->now >= mt->pause_until &&
		    m->now >= m->calls[mt->q[k][0]].not_before &&
		    held(mt) > 0 && m->now >= slot_at(&mt->g, mt->g.used);
	return info.inflight < info.cap && m->now >= mt->pause_until &&
	    m->now >= m->calls[mt->q[k][0]].not_before &&
	    info.available >= 1;
}

/*
 * Local mode.  The calls a tenant sent in any interval ending now: at
 * most burst + elapsed * rate (the configured rate; a learned one is only
 * lower), beside n instances burst / n + elapsed * rate / n.  Since a
 * switch from shared mode: at most 1 + elapsed * rate / n (its bucket
 * started empty).
 */
static void
check_rate(struct sim *m, int t)
{
	struct mtenant		*mt = &m->t[t];
	const struct limits	*l = lim(m, t);
	size_t			 j, n = mt->nsends < NSENDS ? mt->nsends :
	    NSENDS;
	uint64_t		 h, allowed, burst, per;
	unsigned		 k = share_k(m);

	burst = part(l->burst, k);
	per = l->rate.per_ms * k;
	if (sim_mutation == SIM_MUT_FAST_RATE)	/* as if half */
		per *= 2;
	for (j = 0; j < n; j++) {
		h = mt->sends[(mt->nsends - 1 - j) % NSENDS];
		allowed = burst + (m->now - h) * l->rate.n / per;
		CHECK(m, j + 2 <= allowed, "tenant %s sent %zu calls in %"
		    PRIu64 " ms (burst %" PRIu64 ", rate %" PRIu64 " per %"
		    PRIu64 " ms, a part of 1/%u)", names[t], j + 2,
		    m->now - h, l->burst, l->rate.n, l->rate.per_ms, k);
	}
	mt->sends[mt->nsends % NSENDS] = m->now;
	mt->nsends++;
	if (k > 1)
		sim_stats.beside++;
	if (!mt->drained)
		return;
	mt->ndrained++;
	sim_stats.drained++;
	allowed = 1 + (m->now - mt->drained_at) * l->rate.n / per;
	CHECK(m, mt->ndrained <= allowed, "tenant %s sent %" PRIu64 " calls "
	    "in the %" PRIu64 " ms since it went local after shared mode "
	    "(rate %" PRIu64 " per %" PRIu64 " ms, a part of 1/%u): a burst "
	    "on top of the slots", names[t], mt->ndrained,
	    m->now - mt->drained_at, l->rate.n, l->rate.per_ms, k);
}

/*
 * Shared mode: call i of t goes on the next slot of its lane's grant,
 * which must be held (not dropped), not spent, of an epoch no older than
 * the newest sched was told, and due.
 */
static void
use_slot(struct sim *m, int t, size_t i)
{
	struct mtenant	*mt = &m->t[t];
	struct mgrant	*g = &mt->g;
	uint64_t	 j = g->used, at;

	CHECK(m, g->n > 0, "call %zu of %s sent in shared mode, and its lane "
	    "was never granted a slot", i, names[t]);
	CHECK(m, g->live || g->dropped_by == 0, "call %zu of %s sent on a "
	    "slot of epoch %" PRIu64 ", older than epoch %" PRIu64 " sched "
	    "was told", i, names[t], g->epoch, g->dropped_by);
	CHECK(m, g->live, "call %zu of %s sent on a slot dropped: %s", i,
	    names[t], g->dropped != NULL ? g->dropped : "?");
	CHECK(m, g->used < g->n, "call %zu of %s sent: the %" PRIu64 "th "
	    "call on a grant of %" PRIu64 " slots", i, names[t],
	    g->used + 1, g->n);
	CHECK(m, g->epoch >= mt->epoch, "call %zu of %s sent on a slot of "
	    "epoch %" PRIu64 ", older than epoch %" PRIu64 " sched was told",
	    i, names[t], g->epoch, mt->epoch);
	if (m->failed)
		return;
	if (sim_mutation == SIM_MUT_EARLY_SLOT)
		j++;	/* as if sched sent slot j one slot early */
	at = slot_at(g, j);
	CHECK(m, m->now >= at, "call %zu of %s sent before its slot's time %"
	    PRIu64 " (slot %" PRIu64 " of %" PRIu64 ", granted at %" PRIu64
	    ", d0 %" PRId64 " us, T %" PRIu64 " us)", i, names[t], at, j,
	    g->n, (uint64_t)g->start_us / 1000, g->base_us - g->start_us,
	    g->T_us);
	g->used++;
	m->used++;
	sim_stats.on_slots++;
}

/*
 * An upper bound on when the kth queued call of t could go: k intervals,
 * plus what the bucket may still owe (a burst spent under a larger burst
 * before a reload), after the pause and the call's own retry time.
 * Local beside n instances, the intervals are n times longer.  Shared:
 * after the slots held, at the slowest rate its grants had (sched hopes
 * for later slots at its last grant's pace).
 */
static uint64_t
latest_possible(const struct sim *m, int t, const struct mcall *mc,
    uint64_t k)
{
	const struct limits	*l = lim(m, t);
	const struct mtenant	*mt = &m->t[t];
	uint64_t		 n = l->rate.n, per = l->rate.per_ms, at;
	uint64_t		 owed = 0, T_ms, from = m->now;
	int			 i;

	for (i = 0; i < NCFG; i++)
		if (config_limits(m->cfg[i], names[t])->burst > owed)
			owed = config_limits(m->cfg[i], names[t])->burst;

	if (mt->learned_per_min > 0 &&
	    mt->learned_per_min * per < n * 60000) {
		n = mt->learned_per_min;
		per = 60000;
	}
	per *= share_k(m);
	T_ms = (per + n - 1) / n + 1;
	if (m->share.shared) {
		if (mt->max_T_us / 1000 + 2 > T_ms)
			T_ms = mt->max_T_us / 1000 + 2;
		if (held(mt) > 0 && slot_at(&mt->g, mt->g.n - 1) > from)
			from = slot_at(&mt->g, mt->g.n - 1);
	}
	at = from + (k + owed) * T_ms + 1;
	if (mt->pause_until > at)
		at = mt->pause_until;
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

/*
 * Slots: sched's count of granted and wasted ones, what each lane holds
 * and its epoch are the model's; and every slot granted was used, wasted
 * or is held.
 */
static void
check_slots(struct sim *m)
{
	struct sched_totals		 tot = sched_totals(m->s);
	struct sched_tenant_info	 info;
	const struct mtenant		*mt;
	uint64_t			 hold = 0;
	int				 t;

	for (t = 0; t < NT && !m->failed; t++) {
		mt = &m->t[t];
		if (!mt->lane ||
		    sched_tenant_info(m->s, names[t], m->now, &info) == -1)
			continue;
		CHECK(m, info.epoch == mt->epoch, "%s: sched's epoch is %"
		    PRIu64 ", the model's %" PRIu64, names[t], info.epoch,
		    mt->epoch);
		if (!m->share.shared)
			continue;
		CHECK(m, info.available == held(mt), "%s: sched holds %"
		    PRIu64 " slots (epoch %" PRIu64 "), the model %" PRIu64
		    " (epoch %" PRIu64 ")", names[t], info.available,
		    info.epoch, held(mt), mt->epoch);
		hold += info.available;
	}
	CHECK(m, tot.granted == m->granted && tot.wasted == m->wasted,
	    "sched counts %" PRIu64 " slots granted, %" PRIu64 " wasted; "
	    "the model %" PRIu64 ", %" PRIu64, tot.granted, tot.wasted,
	    m->granted, m->wasted);
	CHECK(m, tot.granted == tot.wasted + m->used + hold, "%" PRIu64
	    " slots granted, but %" PRIu64 " wasted, %" PRIu64 " used and %"
	    PRIu64 " held", tot.granted, tot.wasted, m->used, hold);
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
		CHECK(m, m->t[t].inflight < part(lim(m, t)->concurrency,
		    share_k(m)), "%s has %" PRIu64 " calls out and "
		    "concurrency %" PRIu64 " (a part of 1/%u), and got one "
		    "more", names[t], m->t[t].inflight,
		    lim(m, t)->concurrency, share_k(m));
		if (m->share.shared)
			use_slot(m, t, i);
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
		if (!m->share.shared)
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
	for (t = 0; t < NT && !can_ask(m, t); t++)
		;
	if (t < NT)	/* a lane to ask for: the loop must run now */
		CHECK(m, due == m->now, "%s could ask for slots now, at %"
		    PRIu64 ", but sched_next_due says %" PRIu64, names[t],
		    m->now, due);
	else if (due <= m->now) {
		char	 why[128];

		no_ask(m, why, sizeof(why));
		CHECK(m, due > m->now, "sched_next_due says %" PRIu64 " after "
		    "a full pass at %" PRIu64 " and no lane could ask for "
		    "slots%s: the loop would spin", due, m->now, why);
	}
	CHECK(m, queued_total(m) == 0 ||
	    due <= m->now + SCHED_EXPIRE_EVERY_MS, "calls queued but the "
	    "next wake-up is at %" PRIu64, due);
	m->due = due;
	m->quiet = 1;
	check_slots(m);

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

		i = new_call(m, t, cls, deadline);
		before = sched_totals(m->s).steps;
		err = sched_submit(m->s, m->calls[i].c, m->now);
		check_steps(m, before, "sched_submit");
		sync_lanes(m);	/* a lane made, another forgotten */
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
	/* the rate is checked within one configuration (a larger burst
	 * refills an emptied bucket) */
	for (t = 0; t < NT; t++) {
		m->t[t].nsends = 0;
		m->t[t].drained = 0;
	}
}

/*
 * Switch mode: local beside 1-3 instances, or shared (floor: the next
 * asks restart empty; horizon 50-500 ms).  Going local drops every slot
 * held and every ask out; from shared, each lane's bucket starts empty.
 */
static void
op_share(struct sim *m, const struct sim_op *op)
{
	struct sched_share	 sh;
	struct mtenant		*mt;
	uint64_t		 before;
	int			 t, was = m->share.shared;

	memset(&sh, 0, sizeof(sh));
	sh.shared = op->b % 3 != 0;
	sh.share_n = 1 + op->a % 3;
	sh.floor = (op->b >> 2) & 1;
	sh.horizon_ms = 50 + op->v % 451;
	before = sched_totals(m->s).steps;
	sched_set_share(m->s, &sh, m->now);
	check_steps(m, before, "sched_set_share");
	m->share = sh;
	sim_stats.switches++;
	for (t = 0; t < NT; t++) {
		mt = &m->t[t];
		mt->nsends = 0;	/* the rate is checked within one mode */
		mt->drained = 0;
		if (!mt->lane)
			continue;
		if (sh.shared) {
			if (sh.floor)
				mt->floor = 1;
			continue;
		}
		drop_grant(m, t, "the switch to local mode", 0);
		mt->asking = 0;
		if (was) {
			mt->drained = 1;
			mt->drained_at = m->now;
			mt->ndrained = 0;
		}
	}
}

/* sched_wants' callback: note the ask (checked when it returns). */
static void
on_want(const struct sched_want *w, void *arg)
{
	struct sim	*m = arg;
	struct mask	*a;
	int		 t;

	if (m->nasks++ >= NASKS)
		return;
	a = &m->asks[m->nasks - 1];
	for (t = 0; t < NT && strcmp(names[t], w->tenant) != 0; t++)
		;
	a->t = t < NT ? t : -1;
	a->k = w->k;
	a->floor = w->floor;
	a->lim_ok = t < NT && w->lim == lim(m, t);
}

/*
 * sched_wants: slots older than the horizon are dropped first; then
 * exactly the lanes that could ask, ask, each once, for min(queued,
 * room under the in-flight cap, max_k), with their floor.  Before the due time with nothing new, no
 * lane that held no slots asks.
 */
static void
op_wants(struct sim *m, const struct sim_op *op)
{
	struct mtenant	*mt;
	struct mask	*a;
	uint64_t	 max_k = op->b & 1 ? 1000 : 1 + op->a % 6, before, k;
	int		 t, could[NT], had[NT], asked[NT];
	size_t		 j;

	for (t = 0; t < NT; t++) {
		mt = &m->t[t];
		had[t] = held(mt) > 0;
		asked[t] = 0;
		if (m->share.shared && q_len(mt) > 0 && held(mt) > 0 &&
		    slot_at(&mt->g, mt->g.used) + m->share.horizon_ms <
		    m->now) {
			drop_grant(m, t, "older than the horizon", 0);
			sim_stats.stale++;
		}
		could[t] = can_ask(m, t);
	}
	m->nasks = 0;
	before = sched_totals(m->s).steps;
	sched_wants(m->s, m->now, max_k, on_want, m);
	check_steps(m, before, "sched_wants");
	CHECK(m, m->nasks <= NASKS, "sched_wants asked %zu times", m->nasks);
	for (j = 0; j < m->nasks && !m->failed; j++) {
		a = &m->asks[j];
		CHECK(m, a->t != -1, "sched_wants asked for a tenant nobody "
		    "submitted to");
		if (m->failed)
			return;
		t = a->t;
		mt = &m->t[t];
		CHECK(m, !asked[t], "sched_wants asked for %s twice", names[t]);
		CHECK(m, !mt->asking, "sched_wants asked for %s, whose ask of %"
		    PRIu64 " at %" PRIu64 " is still out", names[t],
		    mt->ask_k, mt->ask_at);
		CHECK(m, could[t], "sched_wants asked for %s (%s mode, %zu "
		    "queued, %" PRIu64 " slots held, retry at %" PRIu64
		    ", pause until %" PRIu64 ")", names[t],
		    m->share.shared ? "shared" : "local", q_len(mt), held(mt),
		    mt->ask_after, mt->pause_until);
		CHECK(m, !m->before_due || had[t], "sched_wants asked for %s "
		    "before the due time %" PRIu64, names[t], m->due);
		/* no more than it can send: its queue, the room under its
		 * in-flight cap, max_k */
		k = q_len(mt) > mt->ahead ? q_len(mt) : mt->ahead;
		if (k > max_k)
			k = max_k;
		if (lim(m, t)->concurrency - mt->inflight < k)
			k = lim(m, t)->concurrency - mt->inflight;
		CHECK(m, a->k == k, "sched_wants asked %" PRIu64 " slots for "
		    "%s, with %zu queued, %" PRIu64 " in flight and max_k %"
		    PRIu64, a->k, names[t], q_len(mt), mt->inflight, max_k);
		CHECK(m, a->floor == mt->floor, "sched_wants asked for %s with "
		    "floor %d, the model says %d", names[t], a->floor,
		    mt->floor);
		CHECK(m, a->lim_ok, "sched_wants asked for %s with other "
		    "limits than its own", names[t]);
		asked[t] = 1;
		mt->asking = 1;
		mt->ask_epoch = mt->epoch;
		mt->ask_k = a->k;
		if (a->k > q_len(mt))
			sim_stats.ahead++;
		mt->ask_at = m->now;
		sim_stats.floors += mt->floor;
		mt->floor = 0;
		sim_stats.asks++;
	}
	for (t = 0; t < NT; t++)
		CHECK(m, !could[t] || asked[t], "sched_wants did not ask for "
		    "%s, which has %zu calls queued and no slots, no ask out, "
		    "no pause, no retry time ahead", names[t], q_len(&m->t[t]));
}

/* Pick the tenant an answer is for: the nth that asks, or (b's low bits
 * 0, or nobody asks) any, asking or not. */
static int
answer_whom(const struct sim *m, const struct sim_op *op)
{
	int	 t, n = 0, which;

	for (t = 0; t < NT; t++)
		n += m->t[t].asking;
	if (n == 0 || (op->b & 3) == 0)
		return op->a % NT;
	which = op->a % n;
	for (t = 0; t < NT; t++)
		if (m->t[t].asking && which-- == 0)
			break;
	return t;
}

/*
 * The model's side of sched_grant: a grant for a lane that does not ask
 * (or in local mode) is wasted whole, so is one of an epoch older than
 * the lane knows (which then takes that epoch and asks again 1 ms
 * later); else the lane learns its epoch (a newer one drops what
 * it held) and pause, and holds its slots, or asks again after retry.
 */
static void
model_grant(struct sim *m, int t, const struct sched_slots *g)
{
	struct mtenant	*mt = &m->t[t];

	m->granted += g->n;
	sim_stats.granted += g->n;
	if (!mt->lane || !mt->asking) {
		m->wasted += g->n;
		return;
	}
	mt->asking = 0;
	/* below the epoch the lane knew when it asked: Redis lost its
	 * state and counts again from there */
	if (g->epoch < mt->ask_epoch)
		mt->epoch = g->epoch;
	/* a pause holds whatever its epoch */
	if (g->pause_ms > 0 && m->now + g->pause_ms > mt->pause_until)
		mt->pause_until = m->now + g->pause_ms;
	if (g->epoch < mt->epoch) {
		/* computed before a pause heard of while asking */
		m->wasted += g->n;
		return;
	}
	if (g->epoch > mt->epoch) {
		drop_grant(m, t, "a newer epoch", g->epoch);
		mt->epoch = g->epoch;
	}
	if (!m->share.shared) {
		m->wasted += g->n;
		return;
	}
	if (g->limit_per_min > 0)
		mt->learned_per_min = g->limit_per_min;
	mt->ask_after = g->n == 0 ? m->now + g->retry_ms : 0;
	/* all it asked for, all due at once: ask twice that next time */
	if (g->n > 0 && g->n >= mt->ask_k &&
	    g->d0_us + (int64_t)((g->n - 1) * g->T_us) <= 0)
		mt->ahead = 2 * g->n < lim(m, t)->burst ? 2 * g->n :
		    lim(m, t)->burst;
	else
		mt->ahead = 0;
	if (g->n == 0)
		return;
	memset(&mt->g, 0, sizeof(mt->g));
	mt->g.n = g->n;
	mt->g.start_us = (int64_t)(m->now * 1000);
	mt->g.base_us = mt->g.start_us + g->d0_us;
	mt->g.T_us = g->T_us;
	mt->g.epoch = g->epoch;
	mt->g.live = 1;
	if (g->T_us > mt->max_T_us)
		mt->max_T_us = g->T_us;
}

/*
 * Answer an ask (or a tenant that did not ask): failed (retry in 1-50
 * ms), or n of its k slots, d0 from -(burst - 1) T (a burst at once) to
 * the horizon, T the tenant's rate's or up to three times slower; of the
 * tenant's epoch, sometimes an older one (a reply computed before a 429)
 * or a newer one (another instance's 429); sometimes with a pause or a
 * limit learned from a 429 body; with a retry time when n is 0.
 */
static void
op_grant(struct sim *m, const struct sim_op *op)
{
	struct sched_slots	 g;
	struct mtenant		*mt;
	const struct limits	*l;
	uint64_t		 x, k, rate_T, horizon;
	int64_t			 lo, span;
	int			 t = answer_whom(m, op);

	mt = &m->t[t];
	l = lim(m, t);
	/* more random bits, all from the operation */
	x = (uint64_t)op->v << 16 | (uint64_t)op->a << 8 | op->b;
	if (op->b >> 5 == 0) {	/* failed: 1 in 8 */
		sched_ask_failed(m->s, names[t], m->now, 1 + op->v % 50);
		sim_stats.ask_failed++;
		if (mt->lane && mt->asking) {
			mt->asking = 0;
			mt->ask_after = m->now + 1 + op->v % 50;
		}
		return;
	}
	memset(&g, 0, sizeof(g));
	k = mt->asking ? mt->ask_k : 1 + splitmix(&x) % 4;
	g.n = splitmix(&x) % (k + 1);
	rate_T = (l->rate.per_ms * 1000 + l->rate.n - 1) / l->rate.n;
	g.T_us = rate_T * (1 + splitmix(&x) % 3);
	if (splitmix(&x) % 2)
		g.T_us += splitmix(&x) % rate_T;
	horizon = m->share.shared ? m->share.horizon_ms : 250;
	lo = -(int64_t)((l->burst - 1) * g.T_us);
	span = (int64_t)(horizon * 1000) - lo + 1;
	g.d0_us = lo + (int64_t)(splitmix(&x) % (uint64_t)span);
	switch (splitmix(&x) % 8) {
	case 0:		/* computed before a 429 */
		g.epoch = mt->redis_epoch > 0 ?
		    splitmix(&x) % mt->redis_epoch : 0;
		break;
	case 1:		/* another instance saw a 429 */
		g.epoch = ++mt->redis_epoch;
		break;
	default:
		g.epoch = mt->redis_epoch;
		break;
	}
	if (splitmix(&x) % 4 == 0)
		g.pause_ms = 1 + splitmix(&x) % 5000;
	if (splitmix(&x) % 16 == 0)
		g.limit_per_min = 1 + splitmix(&x) % 600;
	if (g.n == 0)
		g.retry_ms = 1 + splitmix(&x) % 200;
	sched_grant(m->s, names[t], &g, m->now);
	sim_stats.grants++;
	model_grant(m, t, &g);
}

/*
 * Another instance saw a 429: a pause (or none) and, mostly, a newer
 * epoch; sometimes the epoch sched knows, or an older one.  A lane sched
 * holds learns them (a newer epoch drops its slots); an older epoch is
 * ignored whole.
 */
static void
op_spause(struct sim *m, const struct sim_op *op)
{
	struct mtenant	*mt = &m->t[op->a % NT];
	uint64_t	 epoch, told, pause = op->b & 4 ? 0 : op->v % 30000;
	int		 t = op->a % NT;

	if (op->b % 4 != 3)
		epoch = ++mt->redis_epoch;
	else
		epoch = mt->redis_epoch > 0 ? op->v % (mt->redis_epoch + 1) :
		    0;
	told = epoch;
	if (sim_mutation == SIM_MUT_OLD_EPOCH && mt->lane && epoch > mt->epoch)
		told = mt->epoch;	/* sched would not learn it */
	sched_shared_pause(m->s, names[t], told, pause, m->now);
	sim_stats.shared_pauses++;
	if (!mt->lane)
		return;
	/* a pause holds whatever its epoch */
	if (pause > 0 && m->now + pause > mt->pause_until)
		mt->pause_until = m->now + pause;
	if (epoch > mt->epoch) {
		drop_grant(m, t, "a newer epoch", epoch);
		mt->epoch = epoch;
	}
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
	m.share.share_n = 1;	/* sched starts local, alone */
	m.now = 1000 + splitmix(&x) % 100000;
	m.due = SCHED_NEVER;
	sim_stats.histories++;
	for (i = 0; i < n && !m.failed; i++) {
		m.op = i;
		sim_stats.ops++;
		m.before_due = m.quiet && m.now < m.due;
		if (ops[i].kind % SIM_NKINDS != SIM_ADVANCE)
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
		case SIM_SHARE:
			op_share(&m, &ops[i]);
			break;
		case SIM_WANTS:
			op_wants(&m, &ops[i]);
			break;
		case SIM_GRANT:
			op_grant(&m, &ops[i]);
			break;
		case SIM_SPAUSE:
			op_spause(&m, &ops[i]);
			break;
		}
		if (!m.failed)
			pass(&m);
	}
	m.op = n;
	if (!m.failed)
		wind_down(&m);
	sim_stats.wasted += m.wasted;
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
		/* submits and clock steps most, reloads and mode switches
		 * rarely */
		switch (r % 28) {
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
		case 14:
			ops[i].kind = SIM_SHARE;
			break;
		case 15: case 16: case 17:
			ops[i].kind = SIM_WANTS;
			break;
		case 18: case 19: case 20:
			ops[i].kind = SIM_GRANT;
			break;
		case 21:
			ops[i].kind = SIM_SPAUSE;
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
		"submit", "done", "remove", "abandon", "advance", "reload",
		"share", "wants", "grant", "spause"
	};

	snprintf(out, outlen, "{ %s, a=%u, b=%u, v=%" PRIu32 " }",
	    kinds[op->kind % SIM_NKINDS], op->a, op->b, op->v);
}
