/*
 * check_loop.c - the loop's order of things, with a poll function that
 * reports what the test says instead of sleeping: descriptors before
 * timers before passes, passes in the order added, timers in time order,
 * the sleep no longer than the soonest timer or source allows,
 * loop_stop() ending loop_run() after the turn it was called in, and
 * passes removed while the passes run.
 */
#include <check.h>
#include <string.h>

#include "loop.h"
#include "tap.h"

static struct {
	char		 log[256];	/* what ran, in order */
	int		 last_timeout;	/* the sleep the loop asked for */
	int		 ready_fd;	/* report this fd readable, or -1 */
	int		 turns;
	long		 source_wait;	/* what the pass's timeout says */
	struct loop	*loop;
	int		 stop_after;
} T;

static void
note(const char *what)
{
	strncat(T.log, what, sizeof(T.log) - strlen(T.log) - 1);
}

static int
fake_poll(struct loop_pollfd *fds, unsigned n, int timeout_ms, void *arg)
{
	unsigned	 i;

	(void)arg;
	T.last_timeout = timeout_ms;
	for (i = 0; i < n; i++)
		if (fds[i].fd == T.ready_fd)
			fds[i].revents = LOOP_READ;
	T.ready_fd = -1;
	return 0;
}

static void
on_fd(int fd, int revents, void *arg)
{
	(void)arg;
	ck_assert_int_eq(fd, 7);
	ck_assert_int_eq(revents, LOOP_READ);
	note("fd ");
}

static char	 t1_name[] = "t1 ", t2_name[] = "t2 ", t_name[] = "t ";

static void
on_timer(void *arg)
{
	note(arg);
}

static void
pass_a(void *arg)
{
	(void)arg;
	note("a ");
}

static void
pass_b(void *arg)
{
	(void)arg;
	note("b ");
	if (++T.turns == T.stop_after)
		loop_stop(T.loop);
}

static void
pass_c(void *arg)
{
	(void)arg;
	note("c ");
}

static void
pass_d(void *arg)
{
	(void)arg;
	note("d ");
}

/* Removes itself on its first turn. */
static void
pass_once(void *arg)
{
	note("o ");
	loop_del_pass(T.loop, pass_once, arg);
}

/* Removes c (added before it) and d (after it). */
static void
pass_remover(void *arg)
{
	(void)arg;
	note("r ");
	loop_del_pass(T.loop, pass_c, NULL);
	loop_del_pass(T.loop, pass_d, NULL);
}

static long
wait_a(void *arg)
{
	(void)arg;
	return T.source_wait;
}

static void
setup(void)
{
	memset(&T, 0, sizeof(T));
	T.ready_fd = -1;
	T.source_wait = -1;
	T.loop = loop_new(fake_poll, NULL);
}

static void
teardown(void)
{
	loop_free(T.loop);
}

START_TEST(a_turn_runs_descriptors_then_timers_then_passes_in_order)
{
	struct loop_timer	 t1 = { 0 }, t2 = { 0 };
	uint64_t		 now = loop_time(T.loop)->mono_ms;

	ck_assert_int_eq(loop_add_fd(T.loop, 7, LOOP_READ, on_fd, NULL), 0);
	loop_add_pass(T.loop, pass_a, wait_a, NULL);
	loop_add_pass(T.loop, pass_b, NULL, NULL);
	/* both due at once; armed out of order, they fire in time order */
	loop_timer_arm(T.loop, &t2, now, on_timer, t2_name);
	loop_timer_arm(T.loop, &t1, now - 1, on_timer, t1_name);
	T.ready_fd = 7;
	T.stop_after = 2;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_str_eq(T.log, "fd t1 t2 a b a b ");
	ck_assert_int_eq(t1.armed, 0);
}
END_TEST

START_TEST(the_sleep_is_the_soonest_of_timers_and_sources)
{
	struct loop_timer	 t = { 0 };
	uint64_t		 now = loop_time(T.loop)->mono_ms;

	loop_add_pass(T.loop, pass_b, wait_a, NULL);
	T.stop_after = 1;
	/* nothing asks: the loop looks around once a second */
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_int_eq(T.last_timeout, 1000);
	/* a source that wants 40 ms */
	T.source_wait = 40;
	T.turns = 0;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_int_eq(T.last_timeout, 40);
	/* a timer sooner than that; disarmed, it no longer counts */
	loop_timer_arm(T.loop, &t, now + 5, on_timer, t_name);
	T.turns = 0;
	(void)loop_run(T.loop);
	ck_assert_int_le(T.last_timeout, 5);
	loop_timer_arm(T.loop, &t, now + 100000, on_timer, t_name);
	loop_timer_disarm(T.loop, &t);
	T.turns = 0;
	(void)loop_run(T.loop);
	ck_assert_int_eq(T.last_timeout, 40);
}
END_TEST

START_TEST(descriptors_come_and_go)
{
	int	 i;

	for (i = 0; i < LOOP_MAX_FDS; i++)
		ck_assert_int_eq(loop_add_fd(T.loop, 100 + i, LOOP_READ,
		    on_fd, NULL), 0);
	/* the table is full; changing one already there still works */
	ck_assert_int_eq(loop_add_fd(T.loop, 200, LOOP_READ, on_fd, NULL), -1);
	ck_assert_int_eq(loop_add_fd(T.loop, 105, LOOP_WRITE, on_fd, NULL), 0);
	loop_del_fd(T.loop, 105);
	ck_assert_int_eq(loop_add_fd(T.loop, 7, LOOP_READ, on_fd, NULL), 0);
	loop_add_pass(T.loop, pass_b, NULL, NULL);
	T.ready_fd = 7;
	T.stop_after = 1;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_str_eq(T.log, "fd b ");
}
END_TEST

START_TEST(a_pass_removed_mid_turn_runs_no_more_and_the_rest_still_run)
{
	loop_add_pass(T.loop, pass_once, NULL, NULL);
	loop_add_pass(T.loop, pass_a, NULL, NULL);
	loop_add_pass(T.loop, pass_b, NULL, NULL);
	T.stop_after = 2;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_str_eq(T.log, "o a b a b ");

	/* one before the remover, one after: b, last, is not skipped */
	loop_del_pass(T.loop, pass_a, NULL);
	loop_del_pass(T.loop, pass_b, NULL);
	loop_del_pass(T.loop, pass_b, NULL);	/* not there: nothing */
	loop_add_pass(T.loop, pass_c, NULL, NULL);
	loop_add_pass(T.loop, pass_remover, NULL, NULL);
	loop_add_pass(T.loop, pass_d, NULL, NULL);
	loop_add_pass(T.loop, pass_b, NULL, NULL);
	T.log[0] = '\0';
	T.turns = 0;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_str_eq(T.log, "c r b r b ");
}
END_TEST

static Suite *
loop_suite(void)
{
	Suite	*s = suite_create("loop");
	TCase	*tc = tcase_create("loop");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc,
	    a_turn_runs_descriptors_then_timers_then_passes_in_order);
	tcase_add_test(tc, the_sleep_is_the_soonest_of_timers_and_sources);
	tcase_add_test(tc, descriptors_come_and_go);
	tcase_add_test(tc,
	    a_pass_removed_mid_turn_runs_no_more_and_the_rest_still_run);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tap_run(loop_suite());
}
