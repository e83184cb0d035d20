/*
 * check_loop.c - the loop's order of things, over real pipes in its epoll
 * set and a wait function that looks without sleeping (and notes the sleep
 * the loop asked for): descriptors before timers before passes, passes in
 * the order added, timers in time order, the sleep no longer than the
 * soonest timer or source allows, loop_stop() ending loop_run() after the
 * turn it was called in, passes removed while the passes run; many
 * descriptors (the table grows), events changed, errors and hang-ups, and
 * descriptors removed (or closed and their number reused) by a callback
 * while the turn's events are being handed out.
 */
#include <sys/epoll.h>

#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "tap.h"

static struct {
	char		 log[256];	/* what ran, in order */
	int		 last_timeout;	/* the sleep the loop asked for */
	int		 turns;
	long		 source_wait;	/* what the pass's timeout says */
	struct loop	*loop;
	int		 stop_after;
	int		 p[2];		/* a pipe */
	int		 calls;		/* fd callbacks run */
	int		 last_revents;
	int		 victim;	/* the fd killer() removes */
	int		 reborn[2];	/* the pipe that may take its number */
} T;

static void
note(const char *what)
{
	strncat(T.log, what, sizeof(T.log) - strlen(T.log) - 1);
}

/* loop_wait_fn: the kernel's events as of now, no sleep. */
static int
no_sleep(int epfd, struct epoll_event *ev, int maxevents, int timeout_ms,
    void *arg)
{
	(void)arg;
	T.last_timeout = timeout_ms;
	return epoll_wait(epfd, ev, maxevents, 0);
}

/* Reads what made the pipe readable: level-triggered, it would be called
 * again on every turn. */
static void
on_fd(int fd, int revents, void *arg)
{
	char	 c;

	(void)arg;
	ck_assert_int_eq(fd, T.p[0]);
	ck_assert_int_eq(revents, LOOP_READ);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	note("fd ");
}

/* Counts, and drains what it can. */
static void
counter(int fd, int revents, void *arg)
{
	char	 buf[16];

	(void)arg;
	T.calls++;
	T.last_revents = revents;
	if (revents & LOOP_READ)
		(void)read(fd, buf, sizeof(buf));
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
	T.source_wait = -1;
	T.loop = loop_new();
	ck_assert_ptr_nonnull(T.loop);
	loop_set_wait(T.loop, no_sleep, NULL);
	ck_assert_int_eq(pipe2(T.p, O_NONBLOCK | O_CLOEXEC), 0);
}

static void
teardown(void)
{
	loop_free(T.loop);
	close(T.p[0]);
	close(T.p[1]);
}

START_TEST(a_turn_runs_descriptors_then_timers_then_passes_in_order)
{
	struct loop_timer	 t1 = { 0 }, t2 = { 0 };
	uint64_t		 now = loop_time(T.loop)->mono_ms;

	ck_assert_int_eq(loop_add_fd(T.loop, T.p[0], LOOP_READ, on_fd, NULL),
	    0);
	loop_add_pass(T.loop, pass_a, wait_a, NULL);
	loop_add_pass(T.loop, pass_b, NULL, NULL);
	/* both due at once; armed out of order, they fire in time order */
	loop_timer_arm(T.loop, &t2, now, on_timer, t2_name);
	loop_timer_arm(T.loop, &t1, now - 1, on_timer, t1_name);
	ck_assert_int_eq(write(T.p[1], "x", 1), 1);
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

/* Enough descriptors to grow the table a few times, every third one
 * ready; one far up the table. */
START_TEST(many_descriptors)
{
	enum { NPIPES = 200 };
	int	 p[NPIPES][2], i, high;

	for (i = 0; i < NPIPES; i++) {
		ck_assert_int_eq(pipe2(p[i], O_NONBLOCK | O_CLOEXEC), 0);
		ck_assert_int_eq(loop_add_fd(T.loop, p[i][0], LOOP_READ,
		    counter, NULL), 0);
		if (i % 3 == 0)
			ck_assert_int_eq(write(p[i][1], "x", 1), 1);
	}
	high = fcntl(T.p[0], F_DUPFD_CLOEXEC, 900);
	ck_assert_int_ge(high, 900);
	ck_assert_int_eq(loop_add_fd(T.loop, high, LOOP_READ, counter, NULL),
	    0);
	ck_assert_int_eq(write(T.p[1], "x", 1), 1);
	loop_add_pass(T.loop, pass_b, NULL, NULL);
	T.stop_after = 1;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_int_eq(T.calls, (NPIPES + 2) / 3 + 1);
	/* all read: nothing more */
	T.calls = 0;
	T.turns = 0;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_int_eq(T.calls, 0);
	for (i = 0; i < NPIPES; i++) {
		loop_del_fd(T.loop, p[i][0]);
		close(p[i][0]);
		close(p[i][1]);
	}
	loop_del_fd(T.loop, high);
	close(high);
}
END_TEST

/* Adding again changes the events (and the callback); 0 watches errors
 * only; removing twice, or what was never added, is harmless. */
START_TEST(events_change)
{
	loop_add_pass(T.loop, pass_b, NULL, NULL);
	T.stop_after = 1;
	/* a pipe's write end is writable, never readable */
	ck_assert_int_eq(loop_add_fd(T.loop, T.p[1], LOOP_READ, counter,
	    NULL), 0);
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_int_eq(T.calls, 0);
	ck_assert_int_eq(loop_add_fd(T.loop, T.p[1], LOOP_READ | LOOP_WRITE,
	    counter, NULL), 0);
	T.turns = 0;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_int_eq(T.calls, 1);
	ck_assert_int_eq(T.last_revents, LOOP_WRITE);
	ck_assert_int_eq(loop_add_fd(T.loop, T.p[1], 0, counter, NULL), 0);
	T.turns = 0;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_int_eq(T.calls, 1);
	loop_del_fd(T.loop, T.p[1]);
	loop_del_fd(T.loop, T.p[1]);
	loop_del_fd(T.loop, 12345);
	loop_del_fd(T.loop, -1);
	ck_assert_int_eq(loop_add_fd(T.loop, -1, LOOP_READ, counter, NULL),
	    -1);
}
END_TEST

/* A hang-up reads as readable; an error as the events watched and
 * LOOP_ERROR; epoll refuses what it cannot watch. */
START_TEST(hang_ups_errors_and_refusals)
{
	int	 q[2], fd;

	loop_add_pass(T.loop, pass_b, NULL, NULL);
	T.stop_after = 1;
	ck_assert_int_eq(loop_add_fd(T.loop, T.p[0], LOOP_READ, counter,
	    NULL), 0);
	close(T.p[1]);
	T.p[1] = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_int_eq(T.calls, 1);
	ck_assert_int_eq(T.last_revents, LOOP_READ);

	ck_assert_int_eq(pipe2(q, O_NONBLOCK | O_CLOEXEC), 0);
	ck_assert_int_eq(loop_add_fd(T.loop, q[1], LOOP_WRITE, counter, NULL),
	    0);
	loop_del_fd(T.loop, T.p[0]);
	close(q[0]);
	T.calls = 0;
	T.turns = 0;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_int_eq(T.calls, 1);
	ck_assert_int_eq(T.last_revents, LOOP_WRITE | LOOP_ERROR);
	loop_del_fd(T.loop, q[1]);
	close(q[1]);

	/* a regular file, and a closed descriptor */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(loop_add_fd(T.loop, fd, LOOP_READ, counter, NULL),
	    -1);
	fd = open("check_loop_tmp", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	unlink("check_loop_tmp");
	ck_assert_int_eq(loop_add_fd(T.loop, fd, LOOP_READ, counter, NULL),
	    -1);
	close(fd);
}
END_TEST

/* Removes the victim, closes it, and makes a new pipe that takes its
 * number, watched too: neither is called for the victim's event. */
static void
killer(int fd, int revents, void *arg)
{
	char	 c;

	(void)revents;
	(void)arg;
	note("k ");
	(void)read(fd, &c, 1);
	if (T.victim == -1)
		return;
	loop_del_fd(T.loop, T.victim);
	close(T.victim);
	ck_assert_int_eq(pipe2(T.reborn, O_NONBLOCK | O_CLOEXEC), 0);
	if (T.reborn[0] != T.victim) {
		ck_assert_int_eq(dup3(T.reborn[0], T.victim, O_CLOEXEC),
		    T.victim);
		close(T.reborn[0]);
		T.reborn[0] = T.victim;
	}
	ck_assert_int_eq(loop_add_fd(T.loop, T.reborn[0], LOOP_READ, on_fd,
	    NULL), 0);
	T.victim = -1;
}

/* A pass that stops the loop after stop_after turns, silently. */
static void
stopper(void *arg)
{
	(void)arg;
	if (++T.turns == T.stop_after)
		loop_stop(T.loop);
}

/* Removes itself. */
static void
self_remover(int fd, int revents, void *arg)
{
	(void)revents;
	(void)arg;
	note("s ");
	loop_del_fd(T.loop, fd);
}

START_TEST(descriptors_removed_in_a_callback_get_no_more_events)
{
	int	 v[2], i;

	loop_add_pass(T.loop, stopper, NULL, NULL);
	/* Both orders of the two in epoll's batch: the killer first (the
	 * victim's event is dropped) or the victim first (it ran already). */
	for (i = 0; i < 2; i++) {
		T.log[0] = '\0';
		ck_assert_int_eq(pipe2(v, O_NONBLOCK | O_CLOEXEC), 0);
		T.victim = v[0];
		ck_assert_int_eq(loop_add_fd(T.loop, T.p[0], LOOP_READ,
		    killer, NULL), 0);
		ck_assert_int_eq(loop_add_fd(T.loop, v[0], LOOP_READ,
		    counter, NULL), 0);
		T.calls = 0;
		if (i == 0) {
			ck_assert_int_eq(write(T.p[1], "x", 1), 1);
			ck_assert_int_eq(write(v[1], "x", 1), 1);
		} else {
			ck_assert_int_eq(write(v[1], "x", 1), 1);
			ck_assert_int_eq(write(T.p[1], "x", 1), 1);
		}
		T.turns = 0;
		T.stop_after = 1;
		ck_assert_int_eq(loop_run(T.loop), 0);
		ck_assert_int_le(T.calls, 1);
		ck_assert_str_eq(T.log, "k ");
		/* the reborn pipe is empty: on_fd would fail on a read */
		loop_del_fd(T.loop, T.reborn[0]);
		close(T.reborn[0]);
		close(T.reborn[1]);
		close(v[1]);
		loop_del_fd(T.loop, T.p[0]);
	}

	/* a callback that removes itself is not called again */
	T.log[0] = '\0';
	ck_assert_int_eq(loop_add_fd(T.loop, T.p[0], LOOP_READ, self_remover,
	    NULL), 0);
	ck_assert_int_eq(write(T.p[1], "x", 1), 1);
	T.turns = 0;
	T.stop_after = 2;
	ck_assert_int_eq(loop_run(T.loop), 0);
	ck_assert_str_eq(T.log, "s ");
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
	tcase_add_test(tc, many_descriptors);
	tcase_add_test(tc, events_change);
	tcase_add_test(tc, hang_ups_errors_and_refusals);
	tcase_add_test(tc, descriptors_removed_in_a_callback_get_no_more_events);
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
