/*
 * sched.c - per-tenant queues, token buckets, pauses, window learning,
 * round-robin and deadlines; see sched.h.  Pure: memory only, the time is
 * passed in.
 *
 * Tenants live in a hash table (bounded by max_tenants: an idle tenant is
 * evicted to make room).  Tenants with queued calls are also on a ring;
 * sched_next() walks the ring from a cursor that moves past every tenant
 * it serves, so a tenant with 10,000 queued calls delays another by one
 * dispatch at most.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "xmalloc.h"

#define NBUCKETS	1024

struct tenant {
	char			*name;
	const struct limits	*lim;

	struct call		*head, *tail;	/* FIFO, through call->next */
	uint64_t		 queued;
	uint64_t		 inflight;

	double			 tokens;	/* token bucket */
	uint64_t		 refill_ms;
	uint64_t		 paused_until;
	uint64_t		 learned_per_min;	/* 429 body's limit */

	/* the upstream's window, as learned from 429s */
	uint32_t		 win_id;	/* current window */
	uint64_t		 win_sent;	/* sent in it */
	uint64_t		 win_ok;	/* of those, answered (not 429) */
	uint64_t		 budget;	/* calls a window takes; 0: unknown */

	uint64_t		 throttled;
	uint64_t		 last_429_ms;
	uint64_t		 sent;
	uint64_t		 last_used_ms;

	struct tenant		*hnext;		/* hash chain */
	struct tenant		*rnext, *rprev;	/* ring of tenants with calls */
	int			 on_ring;
};

struct sched {
	const struct config	*cfg;
	struct tenant		*buckets[NBUCKETS];
	unsigned		 ntenants;
	struct tenant		*cursor;	/* ring position to serve next */
	uint64_t		 queued;
	uint64_t		 inflight;
	uint64_t		 next_expire_ms;
};

static unsigned
hash(const char *s)
{
	uint32_t	 h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % NBUCKETS;
}

static struct tenant *
tenant_find(const struct sched *s, const char *name)
{
	struct tenant	*t;

	for (t = s->buckets[hash(name)]; t != NULL; t = t->hnext)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static void
tenant_unhash(struct sched *s, struct tenant *t)
{
	struct tenant	**pp;

	for (pp = &s->buckets[hash(t->name)]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == t) {
			*pp = t->hnext;
			break;
		}
	s->ntenants--;
	free(t->name);
	free(t);
}

/* Make room: forget the least recently used idle tenant.  0 or -1. */
static int
evict_idle(struct sched *s)
{
	struct tenant	*t, *victim = NULL;
	unsigned	 i;

	for (i = 0; i < NBUCKETS; i++)
		for (t = s->buckets[i]; t != NULL; t = t->hnext)
			if (t->queued == 0 && t->inflight == 0 &&
			    (victim == NULL ||
			    t->last_used_ms < victim->last_used_ms))
				victim = t;
	if (victim == NULL)
		return -1;
	tenant_unhash(s, victim);
	return 0;
}

static struct tenant *
tenant_get(struct sched *s, const char *name, uint64_t now_ms)
{
	struct tenant	*t;
	unsigned	 h;

	if ((t = tenant_find(s, name)) != NULL)
		return t;
	if (s->ntenants >= s->cfg->max_tenants && evict_idle(s) == -1)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->lim = config_limits(s->cfg, name);
	t->tokens = (double)t->lim->burst;
	t->refill_ms = now_ms;
	t->last_used_ms = now_ms;
	h = hash(name);
	t->hnext = s->buckets[h];
	s->buckets[h] = t;
	s->ntenants++;
	return t;
}

struct sched *
sched_new(const struct config *cfg)
{
	struct sched	*s;

	s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	return s;
}

void
sched_free(struct sched *s)
{
	struct tenant	*t, *next;
	unsigned	 i;

	if (s == NULL)
		return;
	for (i = 0; i < NBUCKETS; i++)
		for (t = s->buckets[i]; t != NULL; t = next) {
			next = t->hnext;
			free(t->name);
			free(t);
		}
	free(s);
}

void
sched_set_config(struct sched *s, const struct config *cfg)
{
	struct tenant	*t;
	unsigned	 i;

	s->cfg = cfg;
	for (i = 0; i < NBUCKETS; i++)
		for (t = s->buckets[i]; t != NULL; t = t->hnext) {
			t->lim = config_limits(cfg, t->name);
			if (t->tokens > (double)t->lim->burst)
				t->tokens = (double)t->lim->burst;
		}
}

/* The rate a tenant is paced at, in calls per ms: the configured one, or
 * what a 429 body said if that is lower. */
static double
rate_per_ms(const struct tenant *t)
{
	double	 r = (double)t->lim->rate.n / (double)t->lim->rate.per_ms;
	double	 learned;

	if (t->learned_per_min > 0) {
		learned = (double)t->learned_per_min / 60000.0;
		if (learned < r)
			r = learned;
	}
	return r;
}

static void
refill(struct tenant *t, uint64_t now_ms)
{
	if (now_ms <= t->refill_ms)
		return;
	t->tokens += (double)(now_ms - t->refill_ms) * rate_per_ms(t);
	if (t->tokens > (double)t->lim->burst)
		t->tokens = (double)t->lim->burst;
	t->refill_ms = now_ms;
}

static void
ring_add(struct sched *s, struct tenant *t)
{
	if (t->on_ring)
		return;
	t->on_ring = 1;
	if (s->cursor == NULL) {
		t->rnext = t->rprev = t;
		s->cursor = t;
		return;
	}
	/* Join just before the cursor: served after everyone waiting. */
	t->rnext = s->cursor;
	t->rprev = s->cursor->rprev;
	t->rprev->rnext = t;
	s->cursor->rprev = t;
}

static void
ring_del(struct sched *s, struct tenant *t)
{
	if (!t->on_ring)
		return;
	t->on_ring = 0;
	if (t->rnext == t)
		s->cursor = NULL;
	else {
		t->rprev->rnext = t->rnext;
		t->rnext->rprev = t->rprev;
		if (s->cursor == t)
			s->cursor = t->rnext;
	}
	t->rnext = t->rprev = NULL;
}

static void
queue_push_tail(struct tenant *t, struct call *c)
{
	c->next = NULL;
	if (t->tail != NULL)
		t->tail->next = c;
	else
		t->head = c;
	t->tail = c;
	t->queued++;
}

static void
queue_unlink(struct tenant *t, struct call *c, struct call *prev)
{
	if (prev != NULL)
		prev->next = c->next;
	else
		t->head = c->next;
	if (t->tail == c)
		t->tail = prev;
	c->next = NULL;
	t->queued--;
}

int
sched_submit(struct sched *s, struct call *c, uint64_t now_ms,
    const char **code)
{
	struct tenant	*t;

	if ((t = tenant_get(s, c->tenant, now_ms)) == NULL) {
		*code = "weir.too_many_tenants";
		return -1;
	}
	if (t->queued >= t->lim->max_queue) {
		*code = "weir.queue_full";
		return -1;
	}
	c->not_before_ms = now_ms;
	c->enqueued_ms = now_ms;
	queue_push_tail(t, c);
	t->last_used_ms = now_ms;
	s->queued++;
	ring_add(s, t);
	return 0;
}

void
sched_requeue(struct sched *s, struct call *c, uint64_t at_ms,
    uint64_t now_ms)
{
	struct tenant	*t = tenant_find(s, c->tenant);

	if (t == NULL)	/* cannot happen: a tenant with calls stays */
		t = tenant_get(s, c->tenant, now_ms);
	c->not_before_ms = at_ms;
	c->enqueued_ms = now_ms;
	/* A retry goes to the head: it is the oldest call. */
	c->next = t->head;
	t->head = c;
	if (t->tail == NULL)
		t->tail = c;
	t->queued++;
	s->queued++;
	ring_add(s, t);
}

/* The in-flight cap now: the configured one, or one call at a time once
 * this window's learned budget is spent (probing for the next reset). */
static uint64_t
cap_now(const struct tenant *t)
{
	if (t->budget > 0 && t->win_sent >= t->budget)
		return 1;
	return t->lim->concurrency;
}

/* When t could send its head call, or SCHED_NEVER if it waits for an
 * in-flight call to finish. */
static uint64_t
tenant_due(struct tenant *t, uint64_t now_ms)
{
	uint64_t	 due = now_ms, at;

	if (t->head == NULL || t->inflight >= cap_now(t))
		return SCHED_NEVER;
	if (t->paused_until > due)
		due = t->paused_until;
	if (t->head->not_before_ms > due)
		due = t->head->not_before_ms;
	refill(t, now_ms);
	if (t->tokens < 1.0) {
		at = now_ms + (uint64_t)ceil((1.0 - t->tokens) / rate_per_ms(t));
		if (at > due)
			due = at;
	}
	return due;
}

struct call *
sched_next(struct sched *s, uint64_t now_ms)
{
	struct tenant	*t, *start;
	struct call	*c;

	if ((start = s->cursor) == NULL)
		return NULL;
	t = start;
	do {
		if (tenant_due(t, now_ms) <= now_ms) {
			c = t->head;
			queue_unlink(t, c, NULL);
			s->queued--;
			t->tokens -= 1.0;
			t->inflight++;
			t->win_sent++;
			t->sent++;
			t->last_used_ms = now_ms;
			c->win_id = t->win_id;
			c->queued_ms += now_ms - c->enqueued_ms;
			s->inflight++;
			s->cursor = t->rnext;
			if (t->head == NULL)
				ring_del(s, t);
			return c;
		}
		t = t->rnext;
	} while (t != start);
	return NULL;
}

void
sched_done(struct sched *s, struct call *c, uint64_t now_ms)
{
	struct tenant	*t = tenant_find(s, c->tenant);

	s->inflight--;
	if (t == NULL)
		return;
	t->inflight--;
	t->last_used_ms = now_ms;
	if (c->xfer_error != XFER_OK || c->status == 429)
		return;
	if (c->win_id == t->win_id)
		t->win_ok++;
	else if (c->win_id + 1 == t->win_id && t->budget > 0)
		t->budget++;	/* sent in the last window, and within it */
}

void
sched_throttle(struct sched *s, struct call *c, uint64_t now_ms,
    uint64_t wait_ms, uint64_t limit_per_min)
{
	struct tenant	*t = tenant_find(s, c->tenant);
	uint64_t	 until = now_ms + wait_ms;

	if (t == NULL)
		return;
	t->throttled++;
	t->last_429_ms = now_ms;
	if (limit_per_min > 0)
		t->learned_per_min = limit_per_min;
	if (c->win_id == t->win_id) {
		/*
		 * The first 429 of this window: the window took win_ok calls
		 * (late successes of calls already out add to it), and the
		 * next one starts when the upstream says.
		 */
		if (t->win_ok > 0)
			t->budget = t->win_ok;
		t->win_id++;
		t->win_sent = 0;
		t->win_ok = 0;
	}
	if (until > t->paused_until)
		t->paused_until = until;
	/* A paused bucket does not fill past what one window takes. */
	refill(t, now_ms);
}

struct call *
sched_expire(struct sched *s, uint64_t now_ms)
{
	struct call	*out = NULL, **tail = &out, *c, *prev, *next;
	struct tenant	*t, *start;
	uint64_t	 k, earliest, base;
	double		 r;

	if (now_ms < s->next_expire_ms || s->cursor == NULL)
		return NULL;
	s->next_expire_ms = now_ms + SCHED_EXPIRE_EVERY_MS;
	start = t = s->cursor;
	do {
		struct tenant *tnext = t->rnext;

		refill(t, now_ms);
		r = rate_per_ms(t);
		base = t->paused_until > now_ms ? t->paused_until : now_ms;
		for (prev = NULL, c = t->head, k = 0; c != NULL; c = next) {
			next = c->next;
			/* The soonest the kth call in line could go. */
			earliest = now_ms;
			if ((double)(k + 1) > t->tokens)
				earliest += (uint64_t)(((double)(k + 1) -
				    t->tokens) / r);
			if (base > earliest)
				earliest = base;
			if (c->not_before_ms > earliest)
				earliest = c->not_before_ms;
			if (earliest <= c->deadline_ms) {
				prev = c;
				k++;
				continue;
			}
			queue_unlink(t, c, prev);
			s->queued--;
			c->queued_ms += now_ms - c->enqueued_ms;
			c->retry_after_s = (int)((earliest - now_ms + 999) /
			    1000);
			if (c->retry_after_s < 1)
				c->retry_after_s = 1;
			*tail = c;
			tail = &c->next;
		}
		if (t->head == NULL)
			ring_del(s, t);
		t = tnext;
	} while (s->cursor != NULL && t != start && t->on_ring);
	return out;
}

int
sched_remove(struct sched *s, struct call *c)
{
	struct tenant	*t = tenant_find(s, c->tenant);
	struct call	*p, *prev = NULL;

	if (t == NULL)
		return 0;
	for (p = t->head; p != NULL; prev = p, p = p->next) {
		if (p != c)
			continue;
		queue_unlink(t, c, prev);
		s->queued--;
		if (t->head == NULL)
			ring_del(s, t);
		return 1;
	}
	return 0;
}

uint64_t
sched_next_due(struct sched *s, uint64_t now_ms)
{
	struct tenant	*t;
	uint64_t	 due = SCHED_NEVER, d;

	if ((t = s->cursor) == NULL)
		return SCHED_NEVER;
	do {
		if ((d = tenant_due(t, now_ms)) < due)
			due = d;
		t = t->rnext;
	} while (t != s->cursor);
	if (s->next_expire_ms < due)
		due = s->next_expire_ms > now_ms ? s->next_expire_ms : now_ms;
	return due;
}

uint64_t
sched_queued(const struct sched *s)
{
	return s->queued;
}

uint64_t
sched_inflight(const struct sched *s)
{
	return s->inflight;
}

unsigned
sched_tenants(const struct sched *s)
{
	return s->ntenants;
}

struct call *
sched_drain(struct sched *s)
{
	struct tenant	*t = s->cursor;
	struct call	*c;

	if (t == NULL)
		return NULL;
	c = t->head;
	queue_unlink(t, c, NULL);
	s->queued--;
	if (t->head == NULL)
		ring_del(s, t);
	return c;
}

static void
fill_info(const struct tenant *t, uint64_t now_ms,
    struct sched_tenant_info *info)
{
	memset(info, 0, sizeof(*info));
	info->name = t->name;
	info->queued = t->queued;
	info->inflight = t->inflight;
	info->paused_until_ms = t->paused_until > now_ms ? t->paused_until : 0;
	info->rate_per_s = rate_per_ms(t) * 1000.0;
	info->budget = t->budget;
	info->learned_per_min = t->learned_per_min;
	info->configured_per_s = (double)t->lim->rate.n * 1000.0 /
	    (double)t->lim->rate.per_ms;
	info->throttled = t->throttled;
	info->last_429_ms = t->last_429_ms;
	info->sent = t->sent;
}

int
sched_tenant_info(const struct sched *s, const char *name, uint64_t now_ms,
    struct sched_tenant_info *info)
{
	struct tenant	*t = tenant_find(s, name);

	if (t == NULL)
		return -1;
	fill_info(t, now_ms, info);
	return 0;
}

void
sched_foreach(const struct sched *s, uint64_t now_ms, sched_tenant_cb fn,
    void *arg)
{
	struct sched_tenant_info	 info;
	struct tenant			*t;
	unsigned			 i;

	for (i = 0; i < NBUCKETS; i++)
		for (t = s->buckets[i]; t != NULL; t = t->hnext) {
			fill_info(t, now_ms, &info);
			fn(&info, arg);
		}
}
