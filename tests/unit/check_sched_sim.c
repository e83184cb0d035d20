/*
 * check_sched_sim.c - the scheduler's invariants over thousands of random
 * histories (sched_sim.h says which).  make check runs WEIR_SIM_SEEDS
 * seeds (default 3000, a few seconds); set it higher for a long run, or
 * WEIR_SIM_SEED to replay one.  A failing seed is printed with what broke
 * and the shortest history found that still breaks it.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched_sim.h"
#include "tap.h"

#define OPS	300	/* operations per history */

static volatile uint64_t	 current_seed;

/* A history that never returns is a failure too: say which. */
static void
on_alarm(int sig)
{
	char	 msg[96];
	int	 n;

	(void)sig;
	n = snprintf(msg, sizeof(msg), "seed %" PRIu64 " did not finish in "
	    "10 s: a sched function does not return\n", current_seed);
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
	_exit(1);
}

static uint64_t
env_u64(const char *name, uint64_t def)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? strtoull(v, NULL, 0) : def;
}

/* Run seed; on failure print it with its shrunk history and fail. */
static void
run_seed(uint64_t seed)
{
	struct sim_op	 ops[OPS];
	char		 why[512], line[96];
	size_t		 n, i;

	current_seed = seed;
	alarm(10);
	sim_random(seed, ops, OPS);
	if (sim_run(seed, ops, OPS, why, sizeof(why)) == 0) {
		alarm(0);
		return;
	}
	n = sim_shrink(seed, ops, OPS);
	alarm(0);
	fprintf(stderr, "seed %" PRIu64 " fails: %s\n", seed, why);
	(void)sim_run(seed, ops, n, why, sizeof(why));
	fprintf(stderr, "shortest history found (%zu operations), which "
	    "fails with: %s\n", n, why);
	for (i = 0; i < n; i++) {
		sim_format(&ops[i], line, sizeof(line));
		fprintf(stderr, "  %zu: %s\n", i, line);
	}
	ck_abort_msg("seed %" PRIu64 ": %s (replay: WEIR_SIM_SEED=%" PRIu64
	    ")", seed, why, seed);
}

START_TEST(every_invariant_holds_over_random_histories)
{
	uint64_t	 seeds = env_u64("WEIR_SIM_SEEDS", 3000);
	uint64_t	 first = env_u64("WEIR_SIM_FIRST", 1), s;

	signal(SIGALRM, on_alarm);
	if (getenv("WEIR_SIM_SEED") != NULL) {
		run_seed(env_u64("WEIR_SIM_SEED", 0));
		return;
	}
	memset(&sim_stats, 0, sizeof(sim_stats));
	for (s = first; s < first + seeds; s++)
		run_seed(s);
	/* on stderr, for people: the histories reach every path */
	fprintf(stderr, "sched_sim: %" PRIu64 " histories, %" PRIu64
	    " operations: %" PRIu64 " sent, %" PRIu64 " expired, %" PRIu64
	    " retried, %" PRIu64 " 429s, %" PRIu64 " taken back, %" PRIu64
	    " queue-full, %" PRIu64 " tenants refused, %" PRIu64
	    " reloads\n", sim_stats.histories, sim_stats.ops, sim_stats.sent,
	    sim_stats.expired, sim_stats.requeued, sim_stats.throttled,
	    sim_stats.removed, sim_stats.queue_full,
	    sim_stats.tenants_refused, sim_stats.reloads);
	fprintf(stderr, "sched_sim: sent by class: %" PRIu64 " high, %" PRIu64
	    " normal, %" PRIu64 " low; %" PRIu64 " lower-class calls sent "
	    "while high ones waited\n", sim_stats.by_class[0],
	    sim_stats.by_class[1], sim_stats.by_class[2], sim_stats.shares);
	fprintf(stderr, "sched_sim: shared: %" PRIu64 " mode switches, %"
	    PRIu64 " asks, %" PRIu64 " answers (%" PRIu64 " slots), %"
	    PRIu64 " failed asks, %" PRIu64 " pauses from elsewhere; %"
	    PRIu64 " calls sent on slots, %" PRIu64 " slots wasted (%"
	    PRIu64 " grants stale, %" PRIu64 " forgotten with their lane); %"
	    PRIu64 " calls sent locally after shared mode, %" PRIu64
	    " beside other instances; %" PRIu64 " asks restart empty\n",
	    sim_stats.switches, sim_stats.asks, sim_stats.grants,
	    sim_stats.granted, sim_stats.ask_failed, sim_stats.shared_pauses,
	    sim_stats.on_slots, sim_stats.wasted, sim_stats.stale,
	    sim_stats.forgotten, sim_stats.drained, sim_stats.beside,
	    sim_stats.floors);
	ck_assert_uint_gt(sim_stats.sent, 0);
	ck_assert_uint_gt(sim_stats.by_class[0], 0);
	ck_assert_uint_gt(sim_stats.by_class[2], 0);
	ck_assert_uint_gt(sim_stats.shares, 0);
	ck_assert_uint_gt(sim_stats.expired, 0);
	ck_assert_uint_gt(sim_stats.tenants_refused, 0);
	ck_assert_uint_gt(sim_stats.asks, 0);
	ck_assert_uint_gt(sim_stats.on_slots, 0);
	ck_assert_uint_gt(sim_stats.stale, 0);
	ck_assert_uint_gt(sim_stats.ahead, 0);
	ck_assert_uint_gt(sim_stats.drained, 0);
	ck_assert_uint_gt(sim_stats.beside, 0);
	ck_assert_uint_gt(sim_stats.floors, 0);
}
END_TEST

/*
 * The checker itself: a scheduler that ends pauses early, sends at twice
 * its rate, sends one slot early or keeps slots of an epoch it was told
 * is over, is caught within a few seeds, and its history shrinks to a
 * handful of operations that still fail.  (A simulation that cannot fail
 * proves nothing.)
 */
static const char *
mutation_says(int mut)
{
	switch (mut) {
	case SIM_MUT_FAST_RATE:
		return "calls in";
	case SIM_MUT_EARLY_SLOT:
		return "before its slot's time";
	case SIM_MUT_OLD_EPOCH:
		return "epoch";
	default:
		return "pause";
	}
}

START_TEST(a_scheduler_that_breaks_a_rule_is_caught_and_shrunk)
{
	static const int muts[] = { SIM_MUT_SHORT_PAUSE, SIM_MUT_FAST_RATE,
	    SIM_MUT_EARLY_SLOT, SIM_MUT_OLD_EPOCH };
	struct sim_op	 ops[OPS];
	char		 why[512];
	size_t		 i, n;
	uint64_t	 seed;

	for (i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
		sim_mutation = muts[i];
		for (seed = 1; seed <= 200; seed++) {
			sim_random(seed, ops, OPS);
			if (sim_run(seed, ops, OPS, why, sizeof(why)) == -1)
				break;
		}
		ck_assert_msg(seed <= 200, "mutation %d never caught", muts[i]);
		ck_assert_msg(strstr(why, mutation_says(muts[i])) != NULL,
		    "mutation %d caught by seed %" PRIu64 " as: %s", muts[i],
		    seed, why);
		n = sim_shrink(seed, ops, OPS);
		ck_assert_uint_lt(n, 30);
		ck_assert_int_eq(sim_run(seed, ops, n, why, sizeof(why)), -1);
		sim_mutation = SIM_MUT_NONE;
		ck_assert_int_eq(sim_run(seed, ops, n, why, sizeof(why)), 0);
	}
}
END_TEST

/* Bytes decode into a history, six bytes an operation (the fuzzer's
 * form), and a decoded history runs like any other. */
START_TEST(bytes_decode_into_a_history)
{
	struct sim_op	 ops[4];
	char		 why[512];
	size_t		 n;

	n = sim_decode((const uint8_t *)"\x00\x01\x02\x03\x04\x05"
	    "\x0e\x00\x00\x10\x00\x00\x01\x00\x00\x00\x00\x00\x07",
	    19, ops, 4);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ops[0].kind, SIM_SUBMIT);
	ck_assert_int_eq(ops[1].kind, SIM_ADVANCE);
	ck_assert_int_eq(ops[2].kind, SIM_DONE);
	ck_assert_uint_eq(ops[0].v, 0x050403);
	ck_assert_int_eq(sim_run(7, ops, n, why, sizeof(why)), 0);
}
END_TEST

static Suite *
sim_suite(void)
{
	Suite	*s = suite_create("sched_sim");
	TCase	*tc = tcase_create("sim");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, every_invariant_holds_over_random_histories);
	tcase_add_test(tc, a_scheduler_that_breaks_a_rule_is_caught_and_shrunk);
	tcase_add_test(tc, bytes_decode_into_a_history);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(sim_suite());
}
