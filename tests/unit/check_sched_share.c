/*
 * check_sched_share.c - sched's side of shared budgets with a fake clock:
 * local mode at a part of the limits, slots asked for once per lane,
 * calls sent only on slots and never before their time, epochs that drop
 * slots granted before a 429, stale slots, retries, and the switch back to
 * local without a burst.
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

static void
finish(struct sched *s, struct call *c, uint64_t now)
{
	c->status = 200;
	sched_done(s, c, now);
	call_free(c);
}

/* Free what is still queued. */
static void
drain(struct sched *s)
{
	struct call	*c;

	while ((c = sched_drain(s)) != NULL)
		call_free(c);
}

static void
share(struct sched *s, int shared, unsigned n, int floor, uint64_t now)
{
	struct sched_share	 sh = { shared, n, floor, 250 };

	sched_set_share(s, &sh, now);
}

/* What sched_wants asked for, collected. */
struct wants {
	char		 tenant[8][16];
	uint64_t	 k[8];
	int		 floor[8];
	int		 n;
};

static void
collect(const struct sched_want *w, void *arg)
{
	struct wants	*ws = arg;

	ck_assert_int_lt(ws->n, 8);
	snprintf(ws->tenant[ws->n], sizeof(ws->tenant[0]), "%s", w->tenant);
	ws->k[ws->n] = w->k;
	ws->floor[ws->n] = w->floor;
	ws->n++;
}

static int
asks(struct sched *s, uint64_t now, struct wants *ws)
{
	memset(ws, 0, sizeof(*ws));
	sched_wants(s, now, 1000, collect, ws);
	return ws->n;
}

static void
grant(struct sched *s, const char *tenant, uint64_t n, int64_t d0_us,
    uint64_t T_us, uint64_t epoch, uint64_t now)
{
	struct sched_slots	 g;

	memset(&g, 0, sizeof(g));
	g.n = n;
	g.d0_us = d0_us;
	g.T_us = T_us;
	g.epoch = epoch;
	g.retry_ms = 50;
	sched_grant(s, tenant, &g, now);
}

/* Send what is due from `from` to `to`, 1 ms at a time; the times go to
 * at[] (at most max), the count is returned. */
static int
run(struct sched *s, uint64_t from, uint64_t to, uint64_t *at, int max)
{
	struct call	*c;
	uint64_t	 now;
	int		 n = 0;

	for (now = from; now <= to; now++)
		while ((c = sched_next(s, now)) != NULL) {
			ck_assert_int_lt(n, max);
			at[n++] = now;
			finish(s, c, now);
		}
	return n;
}

START_TEST(local_mode_paces_at_a_part_of_the_limits)
{
	struct config	*cfg = cfg_of("rate = 30/s\nburst = 9\n"
			    "concurrency = 6\n");
	struct sched	*s = sched_new(cfg);
	struct sched_tenant_info info;
	struct call	*c, *out[10];
	int		 i, n = 0;

	share(s, 0, 3, 0, 0);
	for (i = 0; i < 20; i++)
		submit(s, mk("a", UINT64_MAX), 0);
	/* a third of the burst at once, and of the concurrency */
	while ((c = sched_next(s, 0)) != NULL)
		out[n++] = c;
	ck_assert_int_eq(n, 2);		/* concurrency 6 / 3 */
	for (i = 0; i < n; i++)
		finish(s, out[i], 0);
	n = 0;
	while ((c = sched_next(s, 0)) != NULL) {
		n++;
		finish(s, c, 0);
	}
	ck_assert_int_eq(n, 1);		/* burst 9 / 3 = 3 in all */
	ck_assert_int_eq(sched_tenant_info(s, "a", 0, &info), 0);
	ck_assert(info.rate_per_s > 9.9 && info.rate_per_s < 10.1);
	ck_assert_uint_eq(info.cap, 2);
	/* and nothing is asked of Redis in local mode */
	{
		struct wants	 ws;

		ck_assert_int_eq(asks(s, 0, &ws), 0);
	}
	drain(s);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(shared_mode_sends_only_on_slots)
{
	struct config	*cfg = cfg_of("rate = 100/s\nburst = 100\n"
			    "concurrency = 100\n");
	struct sched	*s = sched_new(cfg);
	struct wants	 ws;
	uint64_t	 at[20];
	int		 i;

	share(s, 1, 1, 0, 0);
	for (i = 0; i < 10; i++)
		submit(s, mk("a", UINT64_MAX), 0);
	submit(s, mk("b", UINT64_MAX), 0);
	/* a full local bucket is no reason to send */
	ck_assert_ptr_null(sched_next(s, 0));
	ck_assert_uint_eq(sched_next_due(s, 0), 0);	/* asks are due */
	ck_assert_int_eq(asks(s, 0, &ws), 2);
	ck_assert_uint_eq(ws.k[strcmp(ws.tenant[0], "a") == 0 ? 0 : 1], 10);
	/* one request per lane: no second ask while one is out */
	ck_assert_int_eq(asks(s, 1, &ws), 0);
	ck_assert_ptr_null(sched_next(s, 1));
	/* 4 slots for a: at once, at once, +100 ms, +200 ms */
	grant(s, "a", 4, -100000, 100000, 0, 10);
	ck_assert_int_eq(run(s, 10, 400, at, 20), 4);
	ck_assert_uint_eq(at[0], 10);
	ck_assert_uint_eq(at[1], 10);
	ck_assert_uint_eq(at[2], 110);
	ck_assert_uint_eq(at[3], 210);
	/* slots spent: a asks again for the other 6 */
	ck_assert_int_eq(asks(s, 400, &ws), 1);
	ck_assert_str_eq(ws.tenant[0], "a");
	ck_assert_uint_eq(ws.k[0], 6);
	ck_assert_uint_eq(sched_totals(s).granted, 4);
	ck_assert_uint_eq(sched_totals(s).wasted, 0);
	drain(s);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(no_slots_means_ask_again_later)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 1\n");
	struct sched	*s = sched_new(cfg);
	struct wants	 ws;
	struct call	*c = mk("a", UINT64_MAX);

	share(s, 1, 1, 0, 0);
	submit(s, c, 0);
	ck_assert_int_eq(asks(s, 0, &ws), 1);
	grant(s, "a", 0, 300000, 100000, 0, 2);	/* retry after 50 ms */
	ck_assert_int_eq(asks(s, 3, &ws), 0);
	ck_assert_ptr_null(sched_expire(s, 3));	/* next check at 53 */
	ck_assert_uint_eq(sched_next_due(s, 3), 52);
	ck_assert_int_eq(asks(s, 52, &ws), 1);
	/* a failed ask: again after its retry time */
	sched_ask_failed(s, "a", 60, 10);
	ck_assert_int_eq(asks(s, 65, &ws), 0);
	ck_assert_int_eq(asks(s, 70, &ws), 1);
	ck_assert_ptr_eq(sched_drain(s), c);
	call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(a_newer_epoch_drops_slots_granted_before_it)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 10\n");
	struct sched	*s = sched_new(cfg);
	struct sched_tenant_info info;
	struct wants	 ws;
	uint64_t	 at[10];
	int		 i;

	share(s, 1, 1, 0, 0);
	for (i = 0; i < 5; i++)
		submit(s, mk("a", UINT64_MAX), 0);
	ck_assert_int_eq(asks(s, 0, &ws), 1);
	grant(s, "a", 3, 0, 100000, 1, 0);
	ck_assert_int_eq(run(s, 0, 0, at, 10), 1);
	/* another weir saw a 429: pause 500 ms, epoch 2 */
	sched_shared_pause(s, "a", 2, 500, 1);
	ck_assert_uint_eq(sched_totals(s).wasted, 2);
	ck_assert_int_eq(run(s, 1, 600, at, 10), 0);
	ck_assert_int_eq(sched_tenant_info(s, "a", 600, &info), 0);
	ck_assert_uint_eq(info.epoch, 2);
	/* asked at epoch 2; another 429 (epoch 3) is heard before the
	 * answer, which Redis computed before it: dropped whole */
	ck_assert_int_eq(asks(s, 601, &ws), 1);
	sched_shared_pause(s, "a", 3, 100, 602);
	grant(s, "a", 2, 0, 100000, 2, 603);
	ck_assert_uint_eq(sched_totals(s).wasted, 4);
	ck_assert_int_eq(run(s, 603, 800, at, 10), 0);
	/* the next one, of epoch 3, is used */
	ck_assert_int_eq(asks(s, 802, &ws), 1);
	grant(s, "a", 2, 0, 100000, 3, 802);
	ck_assert_int_eq(run(s, 802, 1000, at, 10), 2);
	ck_assert_uint_eq(at[0], 802);
	ck_assert_uint_eq(at[1], 902);
	drain(s);
	sched_free(s);
	config_free(cfg);
}
END_TEST

/*
 * Redis lost the tenant (restarted empty, its key expired): its epoch
 * starts again at 0, below what the lane knew when it asked.  The lane
 * takes the new count rather than dropping every reply from then on,
 * and a pause of a lower epoch still holds it.
 */
START_TEST(an_epoch_that_went_back_is_redis_starting_over)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 10\n");
	struct sched	*s = sched_new(cfg);
	struct sched_tenant_info info;
	struct wants	 ws;
	uint64_t	 at[10];
	int		 i;

	share(s, 1, 1, 0, 0);
	for (i = 0; i < 6; i++)
		submit(s, mk("a", UINT64_MAX), 0);
	ck_assert_int_eq(asks(s, 0, &ws), 1);
	grant(s, "a", 1, 0, 100000, 3, 0);
	ck_assert_int_eq(run(s, 0, 0, at, 10), 1);
	/* asked at epoch 3, answered at 0: taken */
	ck_assert_int_eq(asks(s, 1, &ws), 1);
	grant(s, "a", 2, 0, 100000, 0, 1);
	ck_assert_uint_eq(sched_totals(s).wasted, 0);
	ck_assert_int_eq(run(s, 1, 200, at, 10), 2);
	ck_assert_uint_eq(at[0], 1);
	ck_assert_uint_eq(at[1], 101);
	ck_assert_int_eq(sched_tenant_info(s, "a", 200, &info), 0);
	ck_assert_uint_eq(info.epoch, 0);
	/* a 429 elsewhere: epoch 1 of the new count pauses it */
	ck_assert_int_eq(asks(s, 201, &ws), 1);
	sched_shared_pause(s, "a", 1, 300, 202);
	grant(s, "a", 2, 0, 100000, 0, 203);
	ck_assert_uint_eq(sched_totals(s).wasted, 2);
	ck_assert_int_eq(asks(s, 400, &ws), 0);
	ck_assert_int_eq(run(s, 203, 502, at, 10), 0);
	ck_assert_int_eq(asks(s, 503, &ws), 1);
	grant(s, "a", 1, 0, 100000, 1, 503);
	ck_assert_int_eq(run(s, 503, 600, at, 10), 1);
	/* and a pause message of an epoch below the lane's still holds */
	sched_shared_pause(s, "a", 0, 200, 601);
	ck_assert_int_eq(sched_tenant_info(s, "a", 601, &info), 0);
	ck_assert_uint_eq(info.paused_until_ms, 801);
	ck_assert_uint_eq(info.epoch, 1);
	drain(s);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(asks_ahead_while_the_bucket_is_far_from_binding)
{
	struct config	*cfg = cfg_of("rate = 1000/s\nburst = 12\n"
			    "concurrency = 100\n");
	struct sched	*s = sched_new(cfg);
	struct wants	 ws;
	uint64_t	 at[40];

	share(s, 1, 1, 0, 0);
	submit(s, mk("a", UINT64_MAX), 0);
	submit(s, mk("a", UINT64_MAX), 0);
	submit(s, mk("a", UINT64_MAX), 0);
	ck_assert_int_eq(asks(s, 0, &ws), 1);
	ck_assert_uint_eq(ws.k[0], 3);
	/* all 3, all due now: the next ask is for 6 even with one queued */
	grant(s, "a", 3, -5000, 1000, 0, 0);
	ck_assert_int_eq(run(s, 0, 0, at, 40), 3);
	submit(s, mk("a", UINT64_MAX), 1);
	ck_assert_int_eq(asks(s, 1, &ws), 1);
	ck_assert_uint_eq(ws.k[0], 6);
	grant(s, "a", 6, -6000, 1000, 0, 1);
	ck_assert_int_eq(run(s, 1, 1, at, 40), 1);
	/* the next calls find slots held: no round trip */
	submit(s, mk("a", UINT64_MAX), 2);
	ck_assert_int_eq(run(s, 2, 2, at, 40), 1);
	ck_assert_int_eq(asks(s, 2, &ws), 0);
	/* 4 held; spent, the next ask is for 12 (burst), not 12 + */
	ck_assert_int_eq(run(s, 3, 3, at, 40), 0);
	submit(s, mk("a", UINT64_MAX), 3);
	submit(s, mk("a", UINT64_MAX), 3);
	submit(s, mk("a", UINT64_MAX), 3);
	submit(s, mk("a", UINT64_MAX), 3);
	ck_assert_int_eq(run(s, 3, 3, at, 40), 4);
	submit(s, mk("a", UINT64_MAX), 4);
	ck_assert_int_eq(asks(s, 4, &ws), 1);
	ck_assert_uint_eq(ws.k[0], 12);
	/* the rate binds (the last slot is not due at once): only the
	 * queue from then on */
	grant(s, "a", 12, 0, 1000, 0, 4);
	ck_assert_int_eq(run(s, 4, 4, at, 40), 1);
	ck_assert_int_eq(run(s, 5, 30, at, 40), 0);	/* nothing queued */
	submit(s, mk("a", UINT64_MAX), 300);
	ck_assert_int_eq(asks(s, 300, &ws), 1);	/* stale: dropped */
	ck_assert_uint_eq(ws.k[0], 1);
	drain(s);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(a_pause_in_a_reply_holds_the_lane)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 10\n");
	struct sched	*s = sched_new(cfg);
	struct sched_slots g;
	struct wants	 ws;
	struct call	*c = mk("a", UINT64_MAX);

	share(s, 1, 1, 0, 0);
	submit(s, c, 0);
	ck_assert_int_eq(asks(s, 0, &ws), 1);
	memset(&g, 0, sizeof(g));
	g.epoch = 3;
	g.pause_ms = 400;
	g.T_us = 100000;
	sched_grant(s, "a", &g, 1);
	/* no asks during the pause (and no spinning), one at its end */
	ck_assert_int_eq(asks(s, 200, &ws), 0);
	ck_assert_ptr_null(sched_expire(s, 200));
	ck_assert_uint_gt(sched_next_due(s, 200), 200);
	ck_assert_int_eq(asks(s, 400, &ws), 0);
	ck_assert_int_eq(asks(s, 401, &ws), 1);
	ck_assert_ptr_eq(sched_drain(s), c);
	call_free(c);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(stale_slots_are_dropped_not_sent)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 10\n"
			    "concurrency = 1\n");
	struct sched	*s = sched_new(cfg);
	struct wants	 ws;
	struct call	*c;
	uint64_t	 at[4];

	share(s, 1, 1, 0, 0);
	submit(s, mk("a", UINT64_MAX), 0);
	submit(s, mk("a", UINT64_MAX), 0);
	ck_assert_int_eq(asks(s, 0, &ws), 1);
	grant(s, "a", 2, 0, 100000, 0, 0);
	/* the first goes and stays out for a second (concurrency 1) */
	c = sched_next(s, 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(sched_next(s, 100));
	finish(s, c, 1000);
	/* the second slot (100 ms) is older than the horizon: dropped,
	 * and the lane asks anew */
	ck_assert_int_eq(asks(s, 1000, &ws), 1);
	ck_assert_uint_eq(sched_totals(s).wasted, 1);
	ck_assert_int_eq(run(s, 1000, 1100, at, 4), 0);
	grant(s, "a", 1, 0, 100000, 0, 1101);
	ck_assert_int_eq(run(s, 1101, 1101, at, 4), 1);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(back_to_local_without_a_burst)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 10\n"
			    "concurrency = 100\n");
	struct sched	*s = sched_new(cfg);
	struct wants	 ws;
	uint64_t	 at[30];
	int		 i, n;

	share(s, 1, 1, 0, 0);
	for (i = 0; i < 20; i++)
		submit(s, mk("a", UINT64_MAX), 0);
	ck_assert_int_eq(asks(s, 0, &ws), 1);
	grant(s, "a", 5, -400000, 100000, 0, 0);
	ck_assert_int_eq(run(s, 0, 0, at, 30), 5);
	/* Redis is gone: local, alone (share_n 1) */
	share(s, 0, 1, 0, 1);
	ck_assert_uint_eq(sched_totals(s).wasted, 0);
	n = run(s, 1, 1000, at, 30);
	/* one at 1 ms, then one per 100 ms: no burst of 10 */
	ck_assert_int_ge(n, 9);
	ck_assert_int_le(n, 11);
	ck_assert_uint_eq(at[0], 1);
	ck_assert_uint_ge(at[1], 100);
	/* back to shared after the outage: the next asks restart empty */
	share(s, 1, 1, 1, 1001);
	ck_assert_int_eq(asks(s, 1001, &ws), 1);
	ck_assert_int_eq(ws.floor[0], 1);
	grant(s, "a", 1, 0, 100000, 0, 1002);
	ck_assert_int_eq(run(s, 1002, 1002, at, 30), 1);
	ck_assert_int_eq(asks(s, 1003, &ws), 1);
	ck_assert_int_eq(ws.floor[0], 0);	/* once */
	drain(s);
	sched_free(s);
	config_free(cfg);
}
END_TEST

START_TEST(shared_expiry_counts_held_slots_and_hopes_for_the_rest)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 2\n"
			    "concurrency = 100\n");
	struct sched	*s = sched_new(cfg);
	struct wants	 ws;
	struct call	*c[6], *x;
	int		 i;

	share(s, 1, 1, 0, 0);
	for (i = 0; i < 6; i++)
		submit(s, c[i] = mk("a", 300), 0);
	ck_assert_int_eq(asks(s, 0, &ws), 1);
	/* one slot held, at +100 ms */
	grant(s, "a", 1, 100000, 100000, 0, 0);
	/*
	 * The first goes on it (100); the next ones need slots of their
	 * own, after it: at best a burst of 2 at 100, then one per 100 ms
	 * (200, 300): only the sixth (400) cannot make 300.
	 */
	x = sched_expire(s, 0);
	ck_assert_ptr_eq(x, c[5]);
	ck_assert_ptr_null(x->next);
	ck_assert_uint_eq(x->not_before_ms, 400);
	call_free(x);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(sched_remove(s, c[i]), 1);
		call_free(c[i]);
	}
	sched_free(s);
	config_free(cfg);
}
END_TEST

/*
 * A call held back by the in-flight cap on a slot that is past still
 * expires once its deadline has gone: the slot's time is no promise that
 * it can go then (found by check_sched_sim, seed 5: it was held as long
 * as its slot was, hours when no sched_wants dropped it).
 */
START_TEST(a_call_capped_on_a_past_slot_still_expires)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 10\n"
			    "concurrency = 1\n");
	struct sched	*s = sched_new(cfg);
	struct wants	 ws;
	struct call	*a = mk("a", 300), *b = mk("a", 300), *x;

	share(s, 1, 1, 0, 0);
	submit(s, a, 0);
	submit(s, b, 0);
	ck_assert_int_eq(asks(s, 0, &ws), 1);
	grant(s, "a", 2, -100000, 100000, 0, 0);	/* both at 0 */
	ck_assert_ptr_eq(sched_next(s, 0), a);
	ck_assert_ptr_null(sched_next(s, 0));		/* capped */
	/* a stays out past b's deadline: b cannot make it */
	ck_assert_ptr_null(sched_expire(s, 200));
	x = sched_expire(s, 301);
	ck_assert_ptr_eq(x, b);
	ck_assert_ptr_null(x->next);
	ck_assert_uint_ge(x->not_before_ms, 301);
	call_free(x);
	finish(s, a, 400);
	sched_free(s);
	config_free(cfg);
}
END_TEST

/*
 * A lane forgotten to make room for a new tenant loses the slots it
 * held: they count as wasted, so granted == wasted + used + held still
 * (found by check_sched_sim, seed 18).
 */
START_TEST(slots_of_a_forgotten_lane_are_wasted)
{
	struct config	*cfg = cfg_of("rate = 10/s\nburst = 10\n"
			    "max_tenants = 1\n");
	struct sched	*s = sched_new(cfg);
	struct wants	 ws;
	struct call	*a = mk("a", UINT64_MAX), *b = mk("b", UINT64_MAX);

	share(s, 1, 1, 0, 0);
	submit(s, a, 0);
	ck_assert_int_eq(asks(s, 0, &ws), 1);
	/* a's client leaves while its ask is out; the slots come anyway */
	ck_assert_int_eq(sched_remove(s, a), 1);
	call_free(a);
	grant(s, "a", 3, 0, 100000, 0, 1);
	ck_assert_uint_eq(sched_totals(s).granted, 3);
	ck_assert_uint_eq(sched_totals(s).wasted, 0);
	/* b takes a's place in the table, and a's slots go with it */
	submit(s, b, 2);
	ck_assert_int_eq(sched_tenant_info(s, "a", 2,
	    &(struct sched_tenant_info){ 0 }), -1);
	ck_assert_uint_eq(sched_totals(s).wasted, 3);
	drain(s);
	sched_free(s);
	config_free(cfg);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("sched_share");
	TCase	*tc = tcase_create("sched_share");

	tcase_add_test(tc, local_mode_paces_at_a_part_of_the_limits);
	tcase_add_test(tc, shared_mode_sends_only_on_slots);
	tcase_add_test(tc, no_slots_means_ask_again_later);
	tcase_add_test(tc, a_newer_epoch_drops_slots_granted_before_it);
	tcase_add_test(tc, an_epoch_that_went_back_is_redis_starting_over);
	tcase_add_test(tc, a_pause_in_a_reply_holds_the_lane);
	tcase_add_test(tc, asks_ahead_while_the_bucket_is_far_from_binding);
	tcase_add_test(tc, stale_slots_are_dropped_not_sent);
	tcase_add_test(tc, back_to_local_without_a_burst);
	tcase_add_test(tc,
	    shared_expiry_counts_held_slots_and_hopes_for_the_rest);
	tcase_add_test(tc, a_call_capped_on_a_past_slot_still_expires);
	tcase_add_test(tc, slots_of_a_forgotten_lane_are_wasted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(suite());
}
