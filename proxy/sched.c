/*
 * sched.c - per-tenant queues, token buckets, pauses, window learning,
 * round-robin and deadlines; see sched.h.  Pure: memory only, the time is
 * passed in.
 *
 * Tenants live in a hash table (bounded by max_tenants: an idle tenant is
 * evicted to make room, unless it is paused or learned its window in the
 * last few minutes).  Tenants with queued calls are also on a ring;
 * sched_next() walks the ring from a cursor that moves past every tenant
 * it serves, so a tenant with 10,000 queued calls delays another by one
 * dispatch at most.
 *
 * A lane holds one FIFO per priority class (prio.h).  The classes never
 * change when the lane may send (bucket, cap, pause: the limit is the
 * client's); they only choose which call takes the lane's next slot:
 * pick_class() below.
 */
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "hash.h"
#include "sched.h"
#include "xmalloc.h"

#define NBUCKETS	1024

/*
 * A tenant's lane: its queue, bucket, in-flight count, pause and what it
 * learned of the upstream's window.  (tenant.c names tenants; the
 * configuration's [tenant] sections set their limits; this is the state.)
 */
struct lane {
	char			*name;
	const struct limits	*lim;

	/* a FIFO per class, through call->next */
	struct call		*head[PRIO_N], *tail[PRIO_N];
	uint64_t		 nq[PRIO_N];
	uint64_t		 queued;	/* all classes */
	/* slots given to higher classes while this one waited (shares) */
	uint64_t		 skipped[PRIO_N];
	uint64_t		 inflight;

	struct bucket		 bucket;
	uint64_t		 paused_until;
	uint64_t		 keep_until;	/* not evicted before (learned) */
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

	/*
	 * Shared mode: send slots granted by Redis (share.c).  Slot i goes
	 * at max(g_start_us, g_base_us + i * g_T_us); g_i is the next one,
	 * g_left how many are held.
	 */
	int64_t			 g_start_us, g_base_us;
	uint64_t		 g_T_us;
	uint64_t		 g_i, g_left;
	uint64_t		 g_epoch;	/* newest pause epoch seen */
	uint64_t		 ask_epoch;	/* g_epoch when it last asked */
	uint64_t		 ask_k;		/* slots it last asked for */
	uint64_t		 g_ahead;	/* ask for this many even if
						 * fewer are queued */
	uint64_t		 ask_after_ms;	/* no reservation before */
	int			 asking;	/* a reservation is out */
	int			 floor;		/* the next one restarts empty */

	struct lane		*hnext;		/* hash chain */
	struct lane		*rnext, *rprev;	/* ring of tenants with calls */
	int			 on_ring;
};

/*
 * After a 429, what a tenant learned (its window, its budget, the body's
 * limit) and its pause must outlive a flood of new tenants: it is kept
 * this long past the end of its pause, a few of Genesys' one-minute
 * windows.
 */
#define KEEP_LEARNED_MS	(3 * 60 * 1000)

struct sched {
	const struct config	*cfg;
	struct sched_share	 share;
	struct lane		*buckets[NBUCKETS];
	unsigned		 ntenants;
	struct lane		*cursor;	/* ring position to serve next */
	unsigned		 nring;		/* tenants on the ring */
	uint64_t		 queued;
	uint64_t		 queued_cls[PRIO_N];
	uint64_t		 inflight;
	uint64_t		 next_expire_ms;
	uint64_t		 steps;		/* loop iterations, for tests */
	uint64_t		 refused;	/* tenants refused: table full */
	uint64_t		 granted;	/* shared slots granted */
	uint64_t		 wasted;	/* of them, dropped unused */
};

/*
 * The ring of tenants with queued calls, walked from the cursor.  The
 * walk visits each tenant that was on the ring when it started at most
 * once, and ends after nring steps whatever the visit does to the tenant
 * it is given (taking it off the ring included); nothing joins the ring
 * during a walk.
 */
struct ring_walk {
	struct sched	*s;
	struct lane	*next;
	unsigned	 left;
};

static void
ring_walk_start(struct ring_walk *w, struct sched *s)
{
	w->s = s;
	w->next = s->cursor;
	w->left = s->nring;
}

static struct lane *
ring_walk_next(struct ring_walk *w)
{
	struct lane	*t;

	if (w->left == 0)
		return NULL;
	w->left--;
	w->s->steps++;
	t = w->next;
	w->next = t->rnext;
	return t;
}

static void	set_rate(const struct sched *, struct lane *, uint64_t now_ms);

static unsigned
hash(const char *s)
{
	return hash_fnv1a(s) % NBUCKETS;
}

static struct lane *
lane_find(const struct sched *s, const char *name)
{
	struct lane	*t;

	for (t = s->buckets[hash(name)]; t != NULL; t = t->hnext)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

static void
lane_forget(struct sched *s, struct lane *t)
{
	struct lane	**pp;

	for (pp = &s->buckets[hash(t->name)]; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == t) {
			*pp = t->hnext;
			break;
		}
	s->ntenants--;
	free(t->name);
	free(t);
}

/*
 * Make room: forget the least recently used tenant that has nothing to
 * lose: no call queued or out, and no pause or learned window still worth
 * keeping.  One whose bucket is full again goes first: one forgotten with
 * calls spent comes back with a fresh burst, so that is the last resort.
 * 0, or -1 if there is none.
 */
static int
evict_idle(struct sched *s, uint64_t now_ms)
{
	struct lane	*t, *full = NULL, *any = NULL;
	unsigned	 i;

	for (i = 0; i < NBUCKETS; i++)
		for (t = s->buckets[i]; t != NULL; t = t->hnext) {
			s->steps++;
			if (t->queued != 0 || t->inflight != 0 ||
			    t->asking || t->keep_until > now_ms)
				continue;
			if (any == NULL || t->last_used_ms < any->last_used_ms)
				any = t;
			if (bucket_full(&t->bucket, now_ms) && (full == NULL ||
			    t->last_used_ms < full->last_used_ms))
				full = t;
		}
	if (full != NULL)
		any = full;
	if (any == NULL)
		return -1;
	s->wasted += any->g_left;	/* slots held go with it */
	lane_forget(s, any);
	return 0;
}

static struct lane *
lane_get(struct sched *s, const char *name, uint64_t now_ms)
{
	struct lane	*t;
	unsigned	 h;

	if ((t = lane_find(s, name)) != NULL)
		return t;
	if (s->ntenants >= s->cfg->max_tenants &&
	    evict_idle(s, now_ms) == -1) {
		s->refused++;
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->name = xstrdup(name);
	t->lim = config_limits(s->cfg, name);
	bucket_init(&t->bucket, 1, 1, 1);
	set_rate(s, t, now_ms);
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
	s->share.share_n = 1;
	return s;
}

void
sched_free(struct sched *s)
{
	struct lane	*t, *next;
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
sched_set_config(struct sched *s, const struct config *cfg, uint64_t now_ms)
{
	struct lane	*t;
	unsigned	 i;

	s->cfg = cfg;
	for (i = 0; i < NBUCKETS; i++)
		for (t = s->buckets[i]; t != NULL; t = t->hnext) {
			t->lim = config_limits(cfg, t->name);
			set_rate(s, t, now_ms);
		}
}

/* This instance's part of a limit when n instances share it locally. */
static uint64_t
part(uint64_t v, unsigned n)
{
	return v / n > 0 ? v / n : 1;
}

/*
 * Pace t at its configured rate, or at what a 429 body said if that is
 * lower; after a reload or a 429.  In local mode beside other instances
 * (share_n > 1) at its part of that: the rate over share_n times the
 * time, the burst over share_n.
 */
static void
set_rate(const struct sched *s, struct lane *t, uint64_t now_ms)
{
	const struct rate	*r = &t->lim->rate;
	uint64_t		 n = r->n, per_ms = r->per_ms;
	unsigned		 k = s->share.shared || s->share.share_n == 0 ?
				    1 : s->share.share_n;

	/* learned/60000 < n/per_ms, without division */
	if (t->learned_per_min > 0 &&
	    t->learned_per_min * r->per_ms < r->n * 60000) {
		n = t->learned_per_min;
		per_ms = 60000;
	}
	bucket_set(&t->bucket, n, per_ms * k, part(t->lim->burst, k),
	    now_ms);
}

static void
ring_add(struct sched *s, struct lane *t)
{
	if (t->on_ring)
		return;
	t->on_ring = 1;
	s->nring++;
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
ring_del(struct sched *s, struct lane *t)
{
	if (!t->on_ring)
		return;
	t->on_ring = 0;
	s->nring--;
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

/* c's class, as an index (a bad value is normal: never out of range). */
static int
cls_of(const struct call *c)
{
	return (unsigned)c->prio < PRIO_N ? (int)c->prio : PRIO_NORMAL;
}

/*
 * Which class takes a lane's next slot, given the calls n[] each holds
 * and the slots skipped[] each has seen go to higher classes while it
 * waited.  A lower class that has waited share - 1 such slots is owed
 * this one; if two are owed the lower goes first, and the other is still
 * owed at the next slot (a slot to a lower class does not count against
 * it).  Else the highest class with calls.  So a waiting class never sees
 * share slots in a row go to higher classes.  -1: nothing queued.
 */
static int
pick_class(const uint64_t *n, const uint64_t *skipped, uint64_t share)
{
	int	 c;

	for (c = PRIO_N - 1; c > 0; c--)
		if (n[c] > 0 && skipped[c] + 1 >= share)
			return c;
	for (c = 0; c < PRIO_N; c++)
		if (n[c] > 0)
			return c;
	return -1;
}

/* Class c took a slot: the lower classes that wait skipped one more. */
static void
grant(const uint64_t *n, uint64_t *skipped, int c)
{
	int	 x;

	skipped[c] = 0;
	for (x = c + 1; x < PRIO_N; x++)
		if (n[x] > 0)
			skipped[x]++;
}

/* Count c into its class's queue, which it joins now. */
static int
queue_count(struct sched *s, struct lane *t, struct call *c)
{
	int	 k = cls_of(c);

	if (t->nq[k] == 0)
		t->skipped[k] = 0;	/* the class starts waiting now */
	c->in_queue = 1;
	t->nq[k]++;
	t->queued++;
	s->queued_cls[k]++;
	s->queued++;
	return k;
}

static void
queue_push_tail(struct sched *s, struct lane *t, struct call *c)
{
	int	 k = queue_count(s, t, c);

	c->next = NULL;
	c->prev = t->tail[k];
	if (t->tail[k] != NULL)
		t->tail[k]->next = c;
	else
		t->head[k] = c;
	t->tail[k] = c;
}

static void
queue_push_head(struct sched *s, struct lane *t, struct call *c)
{
	int	 k = queue_count(s, t, c);

	c->prev = NULL;
	c->next = t->head[k];
	if (t->head[k] != NULL)
		t->head[k]->prev = c;
	t->head[k] = c;
	if (t->tail[k] == NULL)
		t->tail[k] = c;
}

/* Take c out of its class's FIFO, wherever it is: O(1). */
static void
queue_unlink(struct sched *s, struct lane *t, struct call *c)
{
	int	 k = cls_of(c);

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		t->head[k] = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		t->tail[k] = c->prev;
	c->next = c->prev = NULL;
	c->in_queue = 0;
	t->nq[k]--;
	t->queued--;
	s->queued_cls[k]--;
	s->queued--;
}

/* The class whose head takes t's next slot, or -1. */
static int
lane_class(const struct lane *t)
{
	return pick_class(t->nq, t->skipped, t->lim->priority_share);
}

enum weir_err
sched_submit(struct sched *s, struct call *c, uint64_t now_ms)
{
	struct lane	*t;

	if ((t = lane_get(s, c->tenant, now_ms)) == NULL)
		return WERR_TOO_MANY_TENANTS;
	if (t->queued >= t->lim->max_queue)
		return WERR_QUEUE_FULL;
	c->not_before_ms = now_ms;
	c->enqueued_ms = now_ms;
	queue_push_tail(s, t, c);
	t->last_used_ms = now_ms;
	ring_add(s, t);
	return WERR_NONE;
}

void
sched_requeue(struct sched *s, struct call *c, uint64_t at_ms,
    uint64_t now_ms)
{
	struct lane	*t = lane_find(s, c->tenant);

	if (t == NULL)	/* cannot happen: a tenant with calls stays */
		t = lane_get(s, c->tenant, now_ms);
	c->not_before_ms = at_ms;
	c->enqueued_ms = now_ms;
	/* A retry goes to the head of its class: it is the oldest call. */
	queue_push_head(s, t, c);
	ring_add(s, t);
}

/* The in-flight cap now: the configured one, or one call at a time once
 * this window's learned budget is spent (probing for the next reset). */
static uint64_t
cap_now(const struct sched *s, const struct lane *t)
{
	if (s->share.shared)
		return t->lim->concurrency;
	if (t->budget > 0 && t->win_sent >= t->budget)
		return 1;
	if (s->share.share_n > 1)
		return part(t->lim->concurrency, s->share.share_n);
	return t->lim->concurrency;
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The time of t's held slot j places after the next one (shared mode),
 * in ms rounded up. */
static uint64_t
slot_ms(const struct lane *t, uint64_t j)
{
	int64_t	 at = t->g_base_us + (int64_t)((t->g_i + j) * t->g_T_us);

	if (at < t->g_start_us)
		at = t->g_start_us;
	return ((uint64_t)at + 999) / 1000;
}

/*
 * When the kth call in t's line could go as far as the rate is
 * concerned.  Local: its bucket.  Shared: its held slot, or, past those,
 * as if every later slot came to this instance with a full bucket (the
 * most it could get: a call is never answered early for a wait it might
 * not have).
 */
static uint64_t
rate_due(const struct sched *s, const struct lane *t, uint64_t k,
    uint64_t now_ms)
{
	uint64_t	 from, beyond, T_us;

	if (!s->share.shared)
		return bucket_due(&t->bucket, k, now_ms);
	if (k <= t->g_left)	/* a slot that is past goes now at best */
		return max_u64(slot_ms(t, k - 1), now_ms);
	from = t->g_left > 0 ? slot_ms(t, t->g_left - 1) : now_ms;
	from = max_u64(from, now_ms);
	beyond = k - t->g_left;
	if (beyond <= t->lim->burst)
		return from;
	T_us = t->g_T_us > 0 ? t->g_T_us : t->bucket.interval_us;
	return from + (beyond - t->lim->burst) * T_us / 1000;
}

/*
 * The soonest c, the kth call in t's line (k >= 1), could go if nothing
 * but the pause, the rate and its own retry time held it (in-flight
 * caps can only make it later).
 */
static uint64_t
earliest(const struct sched *s, const struct lane *t, const struct call *c,
    uint64_t k, uint64_t now_ms)
{
	return max_u64(max_u64(t->paused_until, c->not_before_ms),
	    rate_due(s, t, k, now_ms));
}

/* When t could send its next call, or SCHED_NEVER if it waits for an
 * in-flight call to finish or, shared, for slots. */
static uint64_t
lane_send_due(const struct sched *s, const struct lane *t, uint64_t now_ms)
{
	int	 k;

	if ((k = lane_class(t)) == -1 || t->inflight >= cap_now(s, t))
		return SCHED_NEVER;
	if (s->share.shared && t->g_left == 0)
		return SCHED_NEVER;
	return earliest(s, t, t->head[k], 1, now_ms);
}

/* When t has work: a call to send or, shared, slots to ask for. */
static uint64_t
lane_due(const struct sched *s, const struct lane *t, uint64_t now_ms)
{
	uint64_t	 due = lane_send_due(s, t, now_ms);

	uint64_t	 ask;

	if (s->share.shared && t->g_left == 0 && !t->asking &&
	    t->queued > 0 && t->inflight < cap_now(s, t)) {
		ask = max_u64(max_u64(t->ask_after_ms, t->paused_until),
		    now_ms);
		if (ask < due)
			due = ask;
	}
	return due;
}

struct call *
sched_next(struct sched *s, uint64_t now_ms)
{
	struct ring_walk	 w;
	struct lane		*t;
	struct call		*c;
	int			 k;

	ring_walk_start(&w, s);
	while ((t = ring_walk_next(&w)) != NULL) {
		if (lane_send_due(s, t, now_ms) <= now_ms) {
			k = lane_class(t);
			c = t->head[k];
			queue_unlink(s, t, c);
			grant(t->nq, t->skipped, k);
			if (s->share.shared) {
				t->g_i++;
				t->g_left--;
			} else
				bucket_take(&t->bucket, now_ms);
			t->inflight++;
			t->win_sent++;
			t->sent++;
			t->last_used_ms = now_ms;
			c->win_id = t->win_id;
			c->queued_ms += now_ms - c->enqueued_ms;
			s->inflight++;
			s->cursor = t->rnext;
			if (t->queued == 0)
				ring_del(s, t);
			return c;
		}
	}
	return NULL;
}

void
sched_done(struct sched *s, struct call *c, uint64_t now_ms)
{
	struct lane	*t = lane_find(s, c->tenant);

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
	struct lane	*t = lane_find(s, c->tenant);
	uint64_t	 until = now_ms + wait_ms;

	if (t == NULL)
		return;
	t->throttled++;
	t->last_429_ms = now_ms;
	if (limit_per_min > 0) {
		t->learned_per_min = limit_per_min;
		set_rate(s, t, now_ms);
	}
	if (c->win_id == t->win_id && !s->share.shared) {
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
	t->keep_until = max_u64(t->keep_until,
	    t->paused_until + KEEP_LEARNED_MS);
	/* The bucket fills during the pause, up to burst: a window's budget
	 * (burst, when it is set to the window's size) goes at its start. */
}

/*
 * Unlink t's calls that cannot go before their deadline onto *tail.
 *
 * A call's place k in line is its rank in the order the lane will serve
 * what it holds now: the walk replays pick_class() over copies of the
 * lane's counts, so a normal call behind 5,000 high ones is the 10th,
 * 20th ... in line by its share, not the 5,001st, and is not answered
 * early for a wait it will not have.  Calls that come later (a high one,
 * a retry) can only push it back: then it expires at a later walk.
 */
static void
expire_lane(struct sched *s, struct lane *t, uint64_t now_ms,
    struct call ***tail)
{
	struct call		*c, *cur[PRIO_N];
	uint64_t		 n[PRIO_N], skipped[PRIO_N], k = 1, at;
	int			 i, cls;

	for (i = 0; i < PRIO_N; i++) {
		cur[i] = t->head[i];
		n[i] = t->nq[i];
		skipped[i] = t->skipped[i];
	}
	while ((cls = pick_class(n, skipped, t->lim->priority_share)) != -1) {
		s->steps++;
		c = cur[cls];
		cur[cls] = c->next;
		n[cls]--;
		at = earliest(s, t, c, k, now_ms);
		if (at <= c->deadline_ms) {
			grant(n, skipped, cls);
			k++;
			continue;
		}
		queue_unlink(s, t, c);
		c->queued_ms += now_ms - c->enqueued_ms;
		c->not_before_ms = at;	/* the soonest it could have gone */
		**tail = c;
		*tail = &c->next;
	}
	if (t->queued == 0)
		ring_del(s, t);
}

struct call *
sched_expire(struct sched *s, uint64_t now_ms)
{
	struct ring_walk	 w;
	struct lane		*t;
	struct call		*out = NULL, **tail = &out;

	if (now_ms < s->next_expire_ms)
		return NULL;
	s->next_expire_ms = now_ms + SCHED_EXPIRE_EVERY_MS;
	ring_walk_start(&w, s);
	while ((t = ring_walk_next(&w)) != NULL)
		expire_lane(s, t, now_ms, &tail);
	return out;
}

int
sched_remove(struct sched *s, struct call *c)
{
	struct lane	*t;

	/* A call out upstream, answered, or never queued is in no queue. */
	if (!c->in_queue || (t = lane_find(s, c->tenant)) == NULL)
		return 0;
	queue_unlink(s, t, c);
	if (t->queued == 0)
		ring_del(s, t);
	return 1;
}

uint64_t
sched_next_due(struct sched *s, uint64_t now_ms)
{
	struct ring_walk	 w;
	struct lane		*t;
	uint64_t		 due = SCHED_NEVER, d;

	if (s->cursor == NULL)
		return SCHED_NEVER;
	ring_walk_start(&w, s);
	while ((t = ring_walk_next(&w)) != NULL)
		if ((d = lane_due(s, t, now_ms)) < due)
			due = d;
	if (s->next_expire_ms < due)
		due = s->next_expire_ms > now_ms ? s->next_expire_ms : now_ms;
	return due;
}

struct sched_totals
sched_totals(const struct sched *s)
{
	struct sched_totals	 t;

	t.queued = s->queued;
	t.inflight = s->inflight;
	t.tenants = s->ntenants;
	t.refused = s->refused;
	t.steps = s->steps;
	t.granted = s->granted;
	t.wasted = s->wasted;
	return t;
}

uint64_t
sched_queued_class(const struct sched *s, enum prio_class k)
{
	return (unsigned)k < PRIO_N ? s->queued_cls[k] : 0;
}

struct call *
sched_drain(struct sched *s)
{
	struct lane	*t = s->cursor;
	struct call	*c;
	int		 k;

	if (t == NULL)
		return NULL;
	for (k = 0; t->head[k] == NULL; k++)
		;	/* a lane on the ring has a call */
	c = t->head[k];
	queue_unlink(s, t, c);
	if (t->queued == 0)
		ring_del(s, t);
	return c;
}

/* Drop t's held slots (a newer epoch, stale, a mode change): wasted. */
static void
drop_slots(struct sched *s, struct lane *t)
{
	s->wasted += t->g_left;
	t->g_left = 0;
	t->g_ahead = 0;		/* asking ahead was too much, or is over */
}

void
sched_set_share(struct sched *s, const struct sched_share *sh,
    uint64_t now_ms)
{
	struct lane	*t;
	unsigned	 i;
	int		 was = s->share.shared;

	s->share = *sh;
	if (s->share.share_n == 0)
		s->share.share_n = 1;
	for (i = 0; i < NBUCKETS; i++)
		for (t = s->buckets[i]; t != NULL; t = t->hnext) {
			s->steps++;
			set_rate(s, t, now_ms);
			if (sh->shared) {
				if (sh->floor)
					t->floor = 1;
				continue;
			}
			drop_slots(s, t);
			t->asking = 0;
			/* Local from now on, beside slots just spent: no
			 * burst on top of them. */
			if (was)
				bucket_drain(&t->bucket, now_ms);
		}
}

void
sched_wants(struct sched *s, uint64_t now_ms, uint64_t max_k,
    sched_want_cb fn, void *arg)
{
	struct ring_walk	 w;
	struct lane		*t;
	struct sched_want	 want;
	uint64_t		 horizon = s->share.horizon_ms, cap;

	if (!s->share.shared)
		return;
	ring_walk_start(&w, s);
	while ((t = ring_walk_next(&w)) != NULL) {
		/* A slot older than the horizon was paid for in a window
		 * that may be over: sending it now could overrun the next. */
		if (t->g_left > 0 && slot_ms(t, 0) + horizon < now_ms)
			drop_slots(s, t);
		cap = cap_now(s, t);
		if (t->asking || t->g_left > 0 || t->ask_after_ms > now_ms ||
		    t->paused_until > now_ms || t->inflight >= cap)
			continue;
		/* No more than it can send: a slot it must hold while its
		 * calls are out would go stale, and be lost to everyone. */
		want.tenant = t->name;
		want.k = min_u64(min_u64(max_u64(t->queued, t->g_ahead),
		    cap - t->inflight), max_k);
		want.floor = t->floor;
		want.lim = t->lim;
		t->asking = 1;
		t->ask_epoch = t->g_epoch;
		t->ask_k = want.k;
		t->floor = 0;
		fn(&want, arg);
	}
}

/* A reply for tenant: its lane if it still waits for one. */
static struct lane *
asker(struct sched *s, const char *tenant)
{
	struct lane	*t = lane_find(s, tenant);

	if (t == NULL || !t->asking)
		return NULL;
	t->asking = 0;
	return t;
}

/* Learn the pause and epoch a reply or message says; 0, or -1 if it is
 * older than what t knows (its slots predate a 429).  The pause holds
 * whatever the epoch: a later end is never wrong to keep. */
static int
learn_epoch(struct sched *s, struct lane *t, uint64_t epoch,
    uint64_t pause_ms, uint64_t now_ms)
{
	if (pause_ms > 0 && now_ms + pause_ms > t->paused_until) {
		t->paused_until = now_ms + pause_ms;
		t->keep_until = max_u64(t->keep_until,
		    t->paused_until + KEEP_LEARNED_MS);
	}
	if (epoch < t->g_epoch)
		return -1;
	if (epoch > t->g_epoch) {
		drop_slots(s, t);
		t->g_epoch = epoch;
	}
	return 0;
}

/*
 * How many slots t should ask for next time, queued or not.  When Redis
 * granted all it asked for, every one due at once (the bucket is far from
 * binding), calls arrive faster than one reservation a round trip serves:
 * ask for twice as many next time (at most burst), so that the next calls
 * find slots held instead of waiting for Redis.  Unused, they are dropped
 * after the horizon.  Once the rate binds, only what is queued.
 */
static uint64_t
ahead(const struct lane *t, const struct sched_slots *g)
{
	if (g->n == 0 || g->n < t->ask_k ||
	    g->d0_us + (int64_t)((g->n - 1) * g->T_us) > 0)
		return 0;
	return min_u64(2 * g->n, t->lim->burst);
}

void
sched_grant(struct sched *s, const char *tenant, const struct sched_slots *g,
    uint64_t now_ms)
{
	struct lane	*t;

	s->granted += g->n;
	/*
	 * Redis' epoch only grows while it keeps the tenant's state: a reply
	 * older than what the lane knew when it asked means Redis lost it
	 * (restarted empty, the key expired or was evicted) and counts from
	 * 0 again.  Take its count, or every later reply is "stale" too.
	 * (A reply computed before a pause the lane learned while asking is
	 * not older than that: it is dropped below.)
	 */
	if ((t = asker(s, tenant)) != NULL && g->epoch < t->ask_epoch)
		t->g_epoch = g->epoch;
	if (t == NULL ||
	    learn_epoch(s, t, g->epoch, g->pause_ms, now_ms) == -1 ||
	    !s->share.shared) {
		s->wasted += g->n;
		return;
	}
	if (g->limit_per_min > 0 && g->limit_per_min != t->learned_per_min) {
		t->learned_per_min = g->limit_per_min;
		set_rate(s, t, now_ms);
	}
	t->ask_after_ms = g->n == 0 ? now_ms + g->retry_ms : 0;
	t->g_ahead = ahead(t, g);
	if (g->n == 0)
		return;
	t->g_start_us = (int64_t)(now_ms * 1000);
	t->g_base_us = t->g_start_us + g->d0_us;
	t->g_T_us = g->T_us > 0 ? g->T_us : 1;
	t->g_i = 0;
	t->g_left = g->n;
}

void
sched_ask_failed(struct sched *s, const char *tenant, uint64_t now_ms,
    uint64_t retry_ms)
{
	struct lane	*t = asker(s, tenant);

	if (t != NULL)
		t->ask_after_ms = now_ms + retry_ms;
}

void
sched_shared_pause(struct sched *s, const char *tenant, uint64_t epoch,
    uint64_t pause_ms, uint64_t now_ms)
{
	struct lane	*t = lane_find(s, tenant);

	if (t != NULL)
		(void)learn_epoch(s, t, epoch, pause_ms, now_ms);
}


static void
fill_info(const struct sched *s, const struct lane *t, uint64_t now_ms,
    struct sched_tenant_info *info)
{
	memset(info, 0, sizeof(*info));
	info->name = t->name;
	info->queued = t->queued;
	memcpy(info->queued_by, t->nq, sizeof(info->queued_by));
	info->inflight = t->inflight;
	info->cap = cap_now(s, t);
	info->paused_until_ms = t->paused_until > now_ms ? t->paused_until : 0;
	info->rate_per_s = bucket_per_s(&t->bucket);
	info->available = s->share.shared ? t->g_left :
	    bucket_available(&t->bucket, now_ms);
	info->epoch = t->g_epoch;
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
	struct lane	*t = lane_find(s, name);

	if (t == NULL)
		return -1;
	fill_info(s, t, now_ms, info);
	return 0;
}

void
sched_foreach(const struct sched *s, uint64_t now_ms, sched_tenant_cb fn,
    void *arg)
{
	struct sched_tenant_info	 info;
	struct lane			*t;
	unsigned			 i;

	for (i = 0; i < NBUCKETS; i++)
		for (t = s->buckets[i]; t != NULL; t = t->hnext) {
			fill_info(s, t, now_ms, &info);
			fn(&info, arg);
		}
}
