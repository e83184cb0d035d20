/*
 * check_sched.c - per-tenant queues and pacing with a fake clock: pacing
 * accuracy, bursts, in-flight caps, round-robin fairness, pauses (nothing
 * dispatched early), deadlines, bounds, learning a fixed window, and
 * priority classes (order, shares, expiry per class).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "config.h"
#include "sched.h"
#include "sched_fixture.h"
#include "tap.h"
#include "xmalloc.h"

/* Finish an attempt with status (the upstream's answer). */
static void
finish(struct sched *s, struct call *c, int status, uint64_t now)
{
	c->status = status;
	sched_done(s, c, now);
}

START_TEST(paces_at_the_configured_rate)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 1\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c;
	uint64_t	 now, times[50];
	int		 i, n = 0;

	for (i = 0; i < 50; i++)
		submit(s, mk("a", UINT64_MAX), 0);
	for (now = 0; now <= 10000 && n < 50; now++)
		while ((c = sched_next(s, now)) != NULL) {
			times[n++] = now;
			finish(s, c, 200, now);
			call_free(c);
		}
	ck_assert_int_eq(n, 50);
	ck_assert_uint_eq(times[0], 0);
	for (i = 1; i < 50; i++) {
		/* one every 100 ms, never early */
		ck_assert_uint_ge(times[i] - times[i - 1], 99);
		ck_assert_uint_le(times[i] - times[i - 1], 101);
	}
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(next_due_tells_when_to_wake)
{
	struct config	*cfg = cfg_of("rate = 2/s\nburst = 1\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c;

	ck_assert_uint_eq(sched_next_due(s, 0), SCHED_NEVER);
	submit(s, mk("a", UINT64_MAX), 0);
	submit(s, mk("a", UINT64_MAX), 0);
	ck_assert_uint_eq(sched_next_due(s, 0), 0);
	c = sched_next(s, 0);
	ck_assert_ptr_nonnull(c);
	finish(s, c, 200, 0);
	call_free(c);
	ck_assert_ptr_null(sched_next(s, 0));
	/* the next token comes at 500 ms (the deadline check may wake us
	 * sooner, never later) */
	ck_assert_uint_le(sched_next_due(s, 0), 500);
	ck_assert_ptr_null(sched_next(s, 499));
	c = sched_next(s, 500);
	ck_assert_ptr_nonnull(c);
	finish(s, c, 200, 500);
	call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(burst_then_rate)
{
	struct config	*cfg = cfg_of("rate = 1/s\nburst = 5\nconcurrency = 100\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c;
	int		 i, n = 0;

	for (i = 0; i < 10; i++)
		submit(s, mk("a", UINT64_MAX), 0);
	while ((c = sched_next(s, 0)) != NULL) {
		n++;
		finish(s, c, 200, 0);
		call_free(c);
	}
	ck_assert_int_eq(n, 5);
	ck_assert_ptr_null(sched_next(s, 999));
	c = sched_next(s, 1000);
	ck_assert_ptr_nonnull(c);
	finish(s, c, 200, 1000);
	call_free(c);
	while ((c = sched_drain(s)) != NULL)
		call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(inflight_cap)
{
	struct config	*cfg = cfg_of("rate = 1000/s\nburst = 100\nconcurrency = 2\n");
	struct sched	*s = sched_new(cfg);
	struct call	*a, *b;
	int		 i;

	for (i = 0; i < 5; i++)
		submit(s, mk("a", UINT64_MAX), 0);
	a = sched_next(s, 0);
	b = sched_next(s, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_null(sched_next(s, 0));
	ck_assert_uint_eq(sched_totals(s).inflight, 2);
	/* nothing to do until a call finishes (or the deadline check) */
	ck_assert_ptr_null(sched_expire(s, 0));
	ck_assert_uint_ge(sched_next_due(s, 0), SCHED_EXPIRE_EVERY_MS);
	finish(s, a, 200, 1);
	call_free(a);
	a = sched_next(s, 1);
	ck_assert_ptr_nonnull(a);
	finish(s, a, 200, 1);
	finish(s, b, 200, 1);
	call_free(a);
	call_free(b);
	ck_assert_uint_eq(sched_totals(s).queued, 2);
	while ((a = sched_drain(s)) != NULL)
		call_free(a);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(round_robin_is_fair)
{
	struct config	*cfg = cfg_of("rate = 1000/s\nburst = 1000\nconcurrency = 1000\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c;
	int		 i, pos = -1;

	for (i = 0; i < 2000; i++)
		submit(s, mk("busy", UINT64_MAX), 0);
	/* serve a few of the busy tenant's calls, then a quiet one arrives */
	for (i = 0; i < 3; i++) {
		c = sched_next(s, 0);
		finish(s, c, 200, 0);
		call_free(c);
	}
	submit(s, mk("quiet", UINT64_MAX), 0);
	for (i = 0; i < 10; i++) {
		c = sched_next(s, 0);
		ck_assert_ptr_nonnull(c);
		if (strcmp(c->tenant, "quiet") == 0 && pos == -1)
			pos = i;
		finish(s, c, 200, 0);
		call_free(c);
	}
	/* at most one of the busy tenant's calls goes first */
	ck_assert_int_ge(pos, 0);
	ck_assert_int_le(pos, 1);
	while ((c = sched_drain(s)) != NULL)
		call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(tenant_sections_apply)
{
	struct config	*cfg = cfg_of("rate = 1/s\nburst = 1\n"
	    "[tenant fast]\nrate = 100/s\nburst = 50\nconcurrency = 100\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c;
	int		 i, fast = 0, slow = 0;

	for (i = 0; i < 20; i++) {
		submit(s, mk("fast", UINT64_MAX), 0);
		submit(s, mk("slow", UINT64_MAX), 0);
	}
	while ((c = sched_next(s, 0)) != NULL) {
		if (strcmp(c->tenant, "fast") == 0)
			fast++;
		else
			slow++;
		finish(s, c, 200, 0);
		call_free(c);
	}
	ck_assert_int_eq(fast, 20);
	ck_assert_int_eq(slow, 1);
	while ((c = sched_drain(s)) != NULL)
		call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(a_pause_holds_the_whole_tenant)
{
	struct config	*cfg = cfg_of("rate = 100/s\nburst = 100\nconcurrency = 10\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c, *other;
	uint64_t	 now;
	int		 i;

	for (i = 0; i < 5; i++)
		submit(s, mk("a", UINT64_MAX), 0);
	submit(s, mk("b", UINT64_MAX), 0);
	c = sched_next(s, 0);
	ck_assert_str_eq(c->tenant, "a");
	finish(s, c, 429, 10);
	sched_throttle(s, c, 10, 3000, 0);
	sched_requeue(s, c, 10, 10);
	/* b is not held by a's pause */
	other = sched_next(s, 10);
	ck_assert_ptr_nonnull(other);
	ck_assert_str_eq(other->tenant, "b");
	finish(s, other, 200, 10);
	call_free(other);
	for (now = 10; now < 3010; now++)
		ck_assert_ptr_null(sched_next(s, now));
	ck_assert_uint_eq(sched_next_due(s, 2000) >= 2000, 1);
	/* the retried call goes first */
	other = sched_next(s, 3010);
	ck_assert_ptr_eq(other, c);
	finish(s, c, 200, 3010);
	call_free(c);
	while ((c = sched_drain(s)) != NULL)
		call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(deadlines_expire_calls_that_cannot_make_it)
{
	struct config	*cfg = cfg_of("rate = 1/s\nburst = 1\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c, *list, *a, *b, *d;
	int		 n;

	/* a goes now; b at 1 s (deadline 5 s: fine); d at 2 s (deadline
	 * 1.5 s: cannot make it) */
	a = mk("t", 5000);
	b = mk("t", 5000);
	d = mk("t", 1500);
	submit(s, a, 0);
	submit(s, b, 0);
	submit(s, d, 0);
	c = sched_next(s, 0);
	ck_assert_ptr_eq(c, a);
	finish(s, a, 200, 0);
	call_free(a);
	list = sched_expire(s, 0);
	ck_assert_ptr_eq(list, d);
	ck_assert_ptr_null(d->next);
	ck_assert_uint_eq(d->not_before_ms, 2000);	/* its turn */
	call_free(d);
	ck_assert_uint_eq(sched_totals(s).queued, 1);

	/* a pause past a deadline expires at once, not at the deadline */
	c = sched_next(s, 1000);
	ck_assert_ptr_eq(c, b);
	finish(s, b, 429, 1100);
	sched_throttle(s, b, 1100, 60000, 0);
	sched_requeue(s, b, 1100, 1100);
	for (n = 0, list = sched_expire(s, 1200); list != NULL; list = c) {
		c = list->next;
		ck_assert_ptr_eq(list, b);
		ck_assert_uint_eq(b->not_before_ms, 61100);	/* pause end */
		n++;
	}
	ck_assert_int_eq(n, 1);
	call_free(b);
	ck_assert_uint_eq(sched_totals(s).queued, 0);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(never_held_past_the_deadline)
{
	struct config	*cfg = cfg_of("rate = 1/min\nburst = 1\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c, *list;
	uint64_t	 now;
	int		 i, expired = 0;

	for (i = 0; i < 20; i++)
		submit(s, mk("t", 2000 + (uint64_t)i * 100), 0);
	c = sched_next(s, 0);
	finish(s, c, 200, 0);
	call_free(c);
	for (now = 0; now < 10000; now += 10) {
		for (list = sched_expire(s, now); list != NULL; list = c) {
			c = list->next;
			ck_assert_uint_le(now, list->deadline_ms);
			call_free(list);
			expired++;
		}
		ck_assert_ptr_null(sched_next(s, now));
	}
	ck_assert_int_eq(expired, 19);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(queues_and_tenants_are_bounded)
{
	struct config	*cfg = cfg_of("max_queue = 3\nmax_tenants = 2\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c;
	int		 i;

	for (i = 0; i < 3; i++)
		submit(s, mk("a", UINT64_MAX), 0);
	c = mk("a", UINT64_MAX);
	ck_assert_int_eq(sched_submit(s, c, 0), WERR_QUEUE_FULL);
	call_free(c);
	submit(s, mk("b", UINT64_MAX), 0);
	/* both tenants busy: no room for a third */
	c = mk("c", UINT64_MAX);
	ck_assert_int_eq(sched_submit(s, c, 0), WERR_TOO_MANY_TENANTS);
	call_free(c);
	/* b goes idle: it is evicted for c */
	while ((c = sched_next(s, 0)) != NULL) {
		finish(s, c, 200, 0);
		call_free(c);
	}
	while ((c = sched_drain(s)) != NULL)
		call_free(c);
	ck_assert_uint_eq(sched_totals(s).tenants, 2);
	c = mk("c", UINT64_MAX);
	ck_assert_int_eq(sched_submit(s, c, 1), WERR_NONE);
	ck_assert_uint_eq(sched_totals(s).tenants, 2);
	ck_assert_int_eq(sched_remove(s, c), 1);
	ck_assert_int_eq(sched_remove(s, c), 0);
	call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

/*
 * The hang of issue 8: a tenant told to wait longer than its calls may
 * wait while another tenant has calls queued behind its in-flight cap.
 * sched_expire() walked the ring until it met its start tenant again;
 * when the start tenant's last call expired it left the ring and the walk
 * never ended.  Both orders of arrival, driven as the loop drives sched
 * (default limits: burst 10, concurrency 8, max_wait 15 s).
 */
static void
hang_shape(int throttled_first)
{
	struct config	*cfg = cfg_of("");
	struct sched	*s = sched_new(cfg);
	struct call	*c, *next, *out[16];
	const char	*slow = "b", *limited = "a";
	uint64_t	 now, first, second;
	int		 i, n, nout = 0, expired = 0;

	/* each tenant's 12 calls arrive together, and are dispatched at
	 * once, in the order they arrive */
	first = throttled_first ? 0 : 300;
	second = throttled_first ? 300 : 0;
	for (i = 0; i < 24; i++) {
		const char *who = (i < 12) == throttled_first ? limited : slow;
		uint64_t at = who == limited ? first : second;

		submit(s, mk(who, at + 15000), at);
		while ((c = sched_next(s, at)) != NULL)
			out[nout++] = c;
	}
	ck_assert_int_eq(nout, 16);	/* 8 each: the in-flight cap */
	/* 300 ms later every call of the limited tenant gets 429, wait 60 s:
	 * weir answers them (60 s is past their deadline) */
	now = 600;
	for (i = n = 0; i < nout; i++) {
		if (strcmp(out[i]->tenant, limited) != 0) {
			out[n++] = out[i];
			continue;
		}
		out[i]->status = 429;
		sched_done(s, out[i], now);
		sched_throttle(s, out[i], now, 60000, 0);
		call_free(out[i]);
	}
	nout = n;
	/* the limited tenant's 4 queued calls cannot make their deadline */
	for (c = sched_expire(s, now + SCHED_EXPIRE_EVERY_MS); c != NULL;
	    c = next) {
		next = c->next;
		ck_assert_str_eq(c->tenant, limited);
		ck_assert_uint_ge(c->not_before_ms, now + 60000);
		call_free(c);
		expired++;
	}
	ck_assert_int_eq(expired, 4);
	ck_assert_uint_eq(sched_totals(s).queued, 4);	/* the slow tenant's */
	ck_assert_uint_le(sched_next_due(s, now + 60), now + 60 +
	    SCHED_EXPIRE_EVERY_MS);
	ck_assert_ptr_null(sched_expire(s, now + 2 * SCHED_EXPIRE_EVERY_MS));
	for (i = 0; i < nout; i++) {
		finish(s, out[i], 200, 2000);
		call_free(out[i]);
	}
	while ((c = sched_next(s, 2000)) != NULL) {
		finish(s, c, 200, 2000);
		call_free(c);
	}
	ck_assert_uint_eq(sched_totals(s).queued, 0);
	sched_free(s);
	config_free(cfg);
}

START_TEST(a_long_pause_beside_a_capped_tenant_does_not_hang_expiry)
{
	hang_shape(1);
	hang_shape(0);
}
END_TEST

/*
 * max_tenants reached: a tenant that is paused, or learned its window in
 * the last minutes, keeps its slot; the newcomer is refused and counted.
 * An idle tenant with nothing learned makes room as before.
 */
START_TEST(a_paused_tenant_is_not_evicted_for_a_newcomer)
{
	struct config	*cfg = cfg_of("max_tenants = 2\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c;
	struct sched_tenant_info info;

	submit(s, mk("paused", UINT64_MAX), 0);
	c = sched_next(s, 0);
	c->status = 429;
	sched_done(s, c, 100);
	sched_throttle(s, c, 100, 30000, 0);
	call_free(c);
	submit(s, mk("idle", UINT64_MAX), 100);
	c = sched_next(s, 100);
	finish(s, c, 200, 200);
	call_free(c);
	/* "idle" has nothing to lose: evicted for "new1" */
	c = mk("new1", UINT64_MAX);
	ck_assert_int_eq(sched_submit(s, c, 300), WERR_NONE);
	ck_assert_int_eq(sched_tenant_info(s, "idle", 300, &info), -1);
	ck_assert_int_eq(sched_tenant_info(s, "paused", 300, &info), 0);
	ck_assert_uint_eq(info.paused_until_ms, 30100);
	c = sched_next(s, 300);
	finish(s, c, 200, 400);
	call_free(c);
	/* now "new1" is idle and goes; "paused" stays while paused and for
	 * a few windows after it */
	c = mk("new2", UINT64_MAX);
	ck_assert_int_eq(sched_submit(s, c, 500), WERR_NONE);
	c = mk("new3", UINT64_MAX);
	ck_assert_int_eq(sched_submit(s, c, 600), WERR_TOO_MANY_TENANTS);
	call_free(c);
	ck_assert_uint_eq(sched_totals(s).refused, 1);
	ck_assert_int_eq(sched_tenant_info(s, "paused", 600, &info), 0);
	while ((c = sched_next(s, 600)) != NULL) {
		finish(s, c, 200, 600);
		call_free(c);
	}
	/* long after the pause and its keep time, it may go */
	c = mk("new4", UINT64_MAX);
	ck_assert_int_eq(sched_submit(s, c, 30100 + 3 * 60000 + 1), WERR_NONE);
	ck_assert_int_eq(sched_tenant_info(s, "paused", 300000, &info), -1);
	ck_assert_ptr_eq(sched_drain(s), c);
	call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

/*
 * A fixed-window upstream: limit calls per window_ms, 429 with the time
 * to the window's end after that.  Drives sched like the loop does, with
 * a fixed latency, and counts 429s per window.
 */
struct fw {
	uint64_t	 window_ms, limit, latency;
	uint64_t	 used, win_start;
};

static int
fw_answer(struct fw *u, uint64_t sent_at, uint64_t *retry_ms)
{
	uint64_t	 w = sent_at / u->window_ms * u->window_ms;

	if (w != u->win_start) {
		u->win_start = w;
		u->used = 0;
	}
	if (u->used < u->limit) {
		u->used++;
		return 200;
	}
	*retry_ms = (w + u->window_ms - sent_at + 999) / 1000 * 1000;
	return 429;
}

static struct call *
mkp(const char *tenant, enum prio_class cls, uint64_t deadline)
{
	struct call	*c = mk(tenant, deadline);

	c->prio = cls;
	return c;
}

/* The class of a call as a letter, for readable orders. */
static char
letter(const struct call *c)
{
	return "HNL"[c->prio];
}

START_TEST(the_next_slot_goes_to_the_oldest_high_call_then_normal_then_low)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 1\n"
	    "concurrency = 100\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c, *want[12];
	uint64_t	 now, last = 0;
	int		 i, n = 0;

	for (i = 0; i < 5; i++)
		submit(s, want[7 + i] = mkp("a", PRIO_LOW, UINT64_MAX), 0);
	for (i = 0; i < 5; i++)
		submit(s, want[2 + i] = mkp("a", PRIO_NORMAL, UINT64_MAX), 0);
	for (i = 0; i < 2; i++)
		submit(s, want[i] = mkp("a", PRIO_HIGH, UINT64_MAX), 0);
	ck_assert_uint_eq(sched_queued_class(s, PRIO_HIGH), 2);
	ck_assert_uint_eq(sched_queued_class(s, PRIO_NORMAL), 5);
	ck_assert_uint_eq(sched_queued_class(s, PRIO_LOW), 5);
	for (now = 0; now <= 5000 && n < 12; now++)
		while ((c = sched_next(s, now)) != NULL) {
			ck_assert_ptr_eq(c, want[n]);
			/* at the tenant's pace: classes make no slot */
			ck_assert(n == 0 || now - last >= 99);
			last = now;
			n++;
			finish(s, c, 200, now);
			call_free(c);
		}
	ck_assert_int_eq(n, 12);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(a_high_call_behind_thousands_goes_in_the_next_slot)
{
	struct config	*cfg = cfg_of("rate = 5/s\nburst = 1\n"
	    "concurrency = 1000\nmax_queue = 10000\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c, *hi;
	uint64_t	 now, sent_at = 0;
	int		 i;

	for (i = 0; i < 3000; i++)
		submit(s, mkp("a", i % 2 ? PRIO_LOW : PRIO_NORMAL,
		    UINT64_MAX), 0);
	c = sched_next(s, 0);
	finish(s, c, 200, 0);
	call_free(c);
	ck_assert_ptr_null(sched_next(s, 50));
	hi = mkp("a", PRIO_HIGH, UINT64_MAX);
	submit(s, hi, 50);
	/* the bucket's next slot (200 ms after the first), no sooner */
	for (now = 50; now < 1000; now++)
		if ((c = sched_next(s, now)) != NULL) {
			sent_at = now;
			break;
		}
	ck_assert_ptr_eq(c, hi);
	ck_assert_uint_eq(sent_at, 200);
	finish(s, c, 200, now);
	call_free(c);
	while ((c = sched_drain(s)) != NULL)
		call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(a_waiting_lower_class_gets_its_share_of_the_slots)
{
	struct config	*cfg = cfg_of("rate = 100/s\nburst = 1\n"
	    "concurrency = 100\npriority_share = 3\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c;
	char		 order[31];
	uint64_t	 now;
	int		 i, n = 0, k, run[3] = { 0, 0, 0 }, left[3] = {10,10,10};

	for (k = 0; k < 3; k++)
		for (i = 0; i < 10; i++)
			submit(s, mkp("a", (enum prio_class)k, UINT64_MAX), 0);
	for (now = 0; n < 30; now += 10) {
		if ((c = sched_next(s, now)) == NULL)
			continue;
		order[n++] = letter(c);
		left[c->prio]--;
		/* a class that waits never sees 3 slots in a row go to
		 * higher classes */
		run[c->prio] = 0;
		for (k = c->prio + 1; k < 3; k++)
			if (left[k] > 0)
				ck_assert_int_lt(++run[k], 3);
		finish(s, c, 200, now);
		call_free(c);
	}
	order[n] = '\0';
	/* high goes first; normal and low each take every third slot
	 * while higher classes wait, the lower of two owed ones first */
	ck_assert_str_eq(order, "HHLNHLHNLHHLNHLHNLHHLNNLNNLNNL");
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(a_lower_class_expires_by_its_place_in_the_order_served)
{
	struct config	*cfg = cfg_of("rate = 1/s\nburst = 1\n"
	    "concurrency = 100\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c, *hi[30], *normal, *low, *out;
	int		 i, n;

	for (i = 0; i < 30; i++)
		submit(s, hi[i] = mkp("a", PRIO_HIGH,
		    i == 19 ? 10000 : UINT64_MAX), 0);
	/* slots 1-9 go to high; at the 10th low and normal are both owed,
	 * low first */
	submit(s, normal = mkp("a", PRIO_NORMAL, 15000), 0);
	submit(s, low = mkp("a", PRIO_LOW, 5000), 0);
	out = sched_expire(s, 0);
	/* low (10th in line, 9 s away) cannot make 5 s; then normal is
	 * 10th and makes 15 s (behind all 30 high calls it would be 31st:
	 * 30 s); the 20th high call is 21st in line, past its 10 s */
	for (n = 0, c = out; c != NULL; c = c->next, n++)
		ck_assert(c == low || c == hi[19]);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_ge(low->not_before_ms, 9000);
	ck_assert_uint_ge(hi[19]->not_before_ms, 20000);
	ck_assert_uint_eq(sched_queued_class(s, PRIO_NORMAL), 1);
	ck_assert_uint_eq(sched_queued_class(s, PRIO_LOW), 0);
	ck_assert_uint_eq(sched_queued_class(s, PRIO_HIGH), 29);
	call_free(low);
	call_free(hi[19]);
	/* and normal is sent within its deadline, 10th */
	for (n = 0; (c = sched_next(s, (uint64_t)n * 1000)) != NULL; n++) {
		ck_assert_ptr_null(sched_expire(s, (uint64_t)n * 1000));
		finish(s, c, 200, (uint64_t)n * 1000);
		if (c == normal)
			break;
		call_free(c);
	}
	ck_assert_ptr_eq(c, normal);
	ck_assert_int_eq(n, 9);
	call_free(normal);
	while ((c = sched_drain(s)) != NULL)
		call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(a_retry_goes_to_the_head_of_its_own_class)
{
	struct config	*cfg = cfg_of("rate = 100/s\nburst = 100\n"
	    "concurrency = 100\n");
	struct sched	*s = sched_new(cfg);
	struct call	*n1, *n2, *h1, *c;

	submit(s, n1 = mkp("a", PRIO_NORMAL, UINT64_MAX), 0);
	submit(s, n2 = mkp("a", PRIO_NORMAL, UINT64_MAX), 0);
	ck_assert_ptr_eq(sched_next(s, 0), n1);
	finish(s, n1, 503, 0);
	submit(s, h1 = mkp("a", PRIO_HIGH, UINT64_MAX), 1);
	sched_requeue(s, n1, 1, 1);
	/* the retry is ahead of n2, not of the high call */
	ck_assert_ptr_eq(sched_next(s, 1), h1);
	ck_assert_ptr_eq(sched_next(s, 1), n1);
	ck_assert_ptr_eq(sched_next(s, 1), n2);
	ck_assert_ptr_null(sched_next(s, 1));
	for (c = h1; c != NULL; c = c == h1 ? n1 : c == n1 ? n2 : NULL) {
		finish(s, c, 200, 2);
		call_free(c);
	}
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(a_pause_stops_every_class)
{
	struct config	*cfg = cfg_of("rate = 100/s\nburst = 100\n"
	    "concurrency = 100\n");
	struct sched	*s = sched_new(cfg);
	struct call	*c, *h;

	submit(s, mkp("a", PRIO_LOW, UINT64_MAX), 0);
	c = sched_next(s, 0);
	finish(s, c, 429, 0);
	sched_throttle(s, c, 0, 5000, 0);
	sched_requeue(s, c, 5000, 0);
	submit(s, h = mkp("a", PRIO_HIGH, UINT64_MAX), 10);
	ck_assert_ptr_null(sched_next(s, 10));
	ck_assert_ptr_null(sched_next(s, 4999));
	ck_assert_ptr_eq(sched_next(s, 5000), h);
	ck_assert_ptr_eq(sched_next(s, 5000), c);
	finish(s, h, 200, 5001);
	finish(s, c, 200, 5001);
	call_free(h);
	call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(learns_a_fixed_window)
{
	struct config	*cfg = cfg_of("rate = 1000/s\nburst = 1000\n"
	    "concurrency = 8\n");
	struct sched	*s = sched_new(cfg);
	struct fw	 up = { 10000, 50, 50, 0, 0 };
	struct call	*inflight[64], *c;
	uint64_t	 sent_at[64], now, retry;
	uint64_t	 per_window_429[64] = { 0 }, per_window_ok[64] = { 0 };
	int		 n = 0, i, done = 0, total = 400;

	for (i = 0; i < total; i++)
		submit(s, mk("t", UINT64_MAX), 0);
	for (now = 0; done < total && now < 200000; now++) {
		/* answers due now */
		for (i = 0; i < n; i++) {
			int status;

			if (sent_at[i] + up.latency > now)
				continue;
			c = inflight[i];
			inflight[i] = inflight[--n];
			sent_at[i] = sent_at[n];
			i--;
			status = fw_answer(&up, now - up.latency, &retry);
			finish(s, c, status, now);
			if (status == 429) {
				per_window_429[(now - up.latency) /
				    up.window_ms]++;
				sched_throttle(s, c, now, retry, 0);
				sched_requeue(s, c, now, now);
			} else {
				per_window_ok[(now - up.latency) /
				    up.window_ms]++;
				call_free(c);
				done++;
			}
		}
		while ((c = sched_next(s, now)) != NULL) {
			ck_assert_int_lt(n, 64);
			inflight[n] = c;
			sent_at[n++] = now;
		}
	}
	ck_assert_int_eq(done, total);
	/* 400 calls at 50 per 10 s window: 8 windows, each used fully */
	ck_assert_uint_lt(now, 8 * 10000 + 2000);
	for (i = 0; i < 8; i++)
		ck_assert_uint_eq(per_window_ok[i], 50);
	/* the first window may lose the calls in flight; later windows
	 * lose at most the one probe */
	ck_assert_uint_le(per_window_429[0], 8);
	for (i = 1; i < 8; i++)
		ck_assert_msg(per_window_429[i] <= 1,
		    "window %d saw %llu 429s", i,
		    (unsigned long long)per_window_429[i]);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(learns_a_lower_rate_from_429_bodies)
{
	struct config	*cfg = cfg_of("rate = 600/min\nburst = 1\n");
	struct sched	*s = sched_new(cfg);
	struct sched_tenant_info info;
	struct call	*c;

	submit(s, mk("t", UINT64_MAX), 0);
	c = sched_next(s, 0);
	ck_assert_int_eq(sched_tenant_info(s, "t", 0, &info), 0);
	ck_assert(info.rate_per_s > 9.99 && info.rate_per_s < 10.01);
	finish(s, c, 429, 10);
	sched_throttle(s, c, 10, 1000, 300);
	ck_assert_int_eq(sched_tenant_info(s, "t", 10, &info), 0);
	ck_assert(info.rate_per_s > 4.99 && info.rate_per_s < 5.01);
	ck_assert_uint_eq(info.paused_until_ms, 1010);
	ck_assert_uint_eq(info.throttled, 1);
	call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

/*
 * A client that hangs up takes its call back in constant work, wherever
 * the call stands in its queue: 10,000 clients of one tenant leaving
 * must not cost 10,000 squared steps.
 */
START_TEST(taking_a_call_back_costs_the_same_anywhere_in_line)
{
	struct config	*cfg = cfg_of("max_queue = 20000\nrate = 1/min\n");
	struct sched	*s = sched_new(cfg);
	struct call	*calls[10000];
	uint64_t	 before;
	int		 i;

	for (i = 0; i < 10000; i++) {
		calls[i] = mk("a", UINT64_MAX);
		submit(s, calls[i], 0);
	}
	for (i = 9999; i >= 0; i -= 2) {
		before = sched_totals(s).steps;
		ck_assert_int_eq(sched_remove(s, calls[i]), 1);
		ck_assert_uint_le(sched_totals(s).steps - before, 2);
		ck_assert_int_eq(sched_remove(s, calls[i]), 0);
		call_free(calls[i]);
	}
	ck_assert_uint_eq(sched_totals(s).queued, 5000);
	/* the rest still go in order */
	for (i = 0; i < 10000; i += 2) {
		ck_assert_int_eq(sched_remove(s, calls[i]), 1);
		call_free(calls[i]);
	}
	ck_assert_uint_eq(sched_totals(s).queued, 0);
	ck_assert_ptr_null(sched_next(s, 0));
	sched_free(s);
	config_free(cfg);
}
END_TEST

static Suite *
sched_suite(void)
{
	Suite	*s = suite_create("sched");
	TCase	*tc = tcase_create("sched");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, paces_at_the_configured_rate);
	tcase_add_test(tc, next_due_tells_when_to_wake);
	tcase_add_test(tc, burst_then_rate);
	tcase_add_test(tc, inflight_cap);
	tcase_add_test(tc, round_robin_is_fair);
	tcase_add_test(tc, tenant_sections_apply);
	tcase_add_test(tc, a_pause_holds_the_whole_tenant);
	tcase_add_test(tc, deadlines_expire_calls_that_cannot_make_it);
	tcase_add_test(tc, never_held_past_the_deadline);
	tcase_add_test(tc, queues_and_tenants_are_bounded);
	tcase_add_test(tc, learns_a_fixed_window);
	tcase_add_test(tc,
	    the_next_slot_goes_to_the_oldest_high_call_then_normal_then_low);
	tcase_add_test(tc, a_high_call_behind_thousands_goes_in_the_next_slot);
	tcase_add_test(tc, a_waiting_lower_class_gets_its_share_of_the_slots);
	tcase_add_test(tc,
	    a_lower_class_expires_by_its_place_in_the_order_served);
	tcase_add_test(tc, a_retry_goes_to_the_head_of_its_own_class);
	tcase_add_test(tc, a_pause_stops_every_class);
	tcase_add_test(tc, learns_a_lower_rate_from_429_bodies);
	tcase_add_test(tc,
	    a_long_pause_beside_a_capped_tenant_does_not_hang_expiry);
	tcase_add_test(tc, a_paused_tenant_is_not_evicted_for_a_newcomer);
	tcase_add_test(tc, taking_a_call_back_costs_the_same_anywhere_in_line);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(sched_suite());
}
