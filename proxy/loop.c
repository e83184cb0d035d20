/*
 * loop.c - descriptors, timers and passes around one poll function; see
 * loop.h.  The only file that reads the clock.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop.h"
#include "xmalloc.h"

/* Passes: a handful (see main.c). */
#define MAX_PASSES	16

/* The longest sleep without a reason: the loop looks around anyway. */
#define MAX_SLEEP_MS	1000

struct fd_source {
	int		 fd;
	int		 events;
	loop_fd_cb	 fn;
	void		*arg;
};

struct pass {
	loop_cb		 fn;
	loop_timeout_cb	 timeout;
	void		*arg;
};

struct loop {
	loop_poll_fn		 poll;
	void			*poll_arg;
	struct loop_time	 now;
	struct fd_source	 fds[LOOP_MAX_FDS];
	unsigned		 nfds;
	struct pass		 passes[MAX_PASSES];
	unsigned		 npasses;
	unsigned		 pass_next;	/* the pass to run next this turn */
	struct loop_timer	*timers;	/* by at_ms, soonest first */
	int			 stop;
};

static void
read_clock(struct loop_time *t)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t->mono_us = (uint64_t)ts.tv_sec * 1000000 +
	    (uint64_t)ts.tv_nsec / 1000;
	t->mono_ms = t->mono_us / 1000;
	clock_gettime(CLOCK_REALTIME, &ts);
	t->wall_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *
loop_new(loop_poll_fn poll, void *poll_arg)
{
	struct loop	*l = xcalloc(1, sizeof(*l));

	l->poll = poll;
	l->poll_arg = poll_arg;
	read_clock(&l->now);
	return l;
}

void
loop_free(struct loop *l)
{
	free(l);
}

const struct loop_time *
loop_time(const struct loop *l)
{
	return &l->now;
}

int
loop_add_fd(struct loop *l, int fd, int events, loop_fd_cb fn, void *arg)
{
	unsigned	 i;

	for (i = 0; i < l->nfds && l->fds[i].fd != fd; i++)
		;
	if (i == LOOP_MAX_FDS)
		return -1;
	if (i == l->nfds)
		l->nfds++;
	l->fds[i].fd = fd;
	l->fds[i].events = events;
	l->fds[i].fn = fn;
	l->fds[i].arg = arg;
	return 0;
}

/* loop_fd_cb that does nothing: waking the loop was the point. */
static void
nothing(int fd, int revents, void *arg)
{
	(void)fd;
	(void)revents;
	(void)arg;
}

int
loop_add_wake_fd(struct loop *l, int fd)
{
	return loop_add_fd(l, fd, LOOP_READ, nothing, NULL);
}

void
loop_del_fd(struct loop *l, int fd)
{
	unsigned	 i;

	for (i = 0; i < l->nfds; i++)
		if (l->fds[i].fd == fd) {
			l->fds[i] = l->fds[--l->nfds];
			return;
		}
}

void
loop_add_pass(struct loop *l, loop_cb fn, loop_timeout_cb timeout,
    void *arg)
{
	if (l->npasses == MAX_PASSES)
		abort();	/* a programming error: raise MAX_PASSES */
	l->passes[l->npasses].fn = fn;
	l->passes[l->npasses].timeout = timeout;
	l->passes[l->npasses].arg = arg;
	l->npasses++;
}

void
loop_del_pass(struct loop *l, loop_cb fn, void *arg)
{
	unsigned	 i;

	for (i = 0; i < l->npasses; i++)
		if (l->passes[i].fn == fn && l->passes[i].arg == arg)
			break;
	if (i == l->npasses)
		return;
	memmove(&l->passes[i], &l->passes[i + 1],
	    (l->npasses - i - 1) * sizeof(l->passes[0]));
	l->npasses--;
	/* removed while turn() runs the passes: keep its place */
	if (l->pass_next > i)
		l->pass_next--;
}

void
loop_timer_disarm(struct loop *l, struct loop_timer *t)
{
	struct loop_timer	**pp;

	if (!t->armed)
		return;
	for (pp = &l->timers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->armed = 0;
	t->next = NULL;
}

void
loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t at_ms,
    loop_cb fn, void *arg)
{
	struct loop_timer	**pp;

	loop_timer_disarm(l, t);
	t->at_ms = at_ms;
	t->fn = fn;
	t->arg = arg;
	for (pp = &l->timers; *pp != NULL && (*pp)->at_ms <= at_ms;
	    pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	t->armed = 1;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}

/* How long to sleep: until the soonest timer or a source's say-so. */
static int
sleep_ms(struct loop *l)
{
	long		 ms = MAX_SLEEP_MS, t;
	unsigned	 i;

	if (l->timers != NULL) {
		t = l->timers->at_ms > l->now.mono_ms ?
		    (long)(l->timers->at_ms - l->now.mono_ms) : 0;
		if (t < ms)
			ms = t;
	}
	for (i = 0; i < l->npasses; i++)
		if (l->passes[i].timeout != NULL &&
		    (t = l->passes[i].timeout(l->passes[i].arg)) >= 0 &&
		    t < ms)
			ms = t;
	return (int)ms;
}

/* One turn: sleep, read the clock, descriptors, timers, passes. */
static int
turn(struct loop *l)
{
	struct loop_pollfd	 pfd[LOOP_MAX_FDS];
	struct loop_timer	*t;
	struct pass		 p;
	unsigned		 i, n = l->nfds;

	for (i = 0; i < n; i++) {
		pfd[i].fd = l->fds[i].fd;
		pfd[i].events = l->fds[i].events;
		pfd[i].revents = 0;
	}
	if (l->poll(pfd, n, sleep_ms(l), l->poll_arg) == -1)
		return -1;
	read_clock(&l->now);
	/* A callback may add or remove descriptors: look each up again. */
	for (i = 0; i < n; i++) {
		unsigned k;

		if (pfd[i].revents == 0)
			continue;
		for (k = 0; k < l->nfds && l->fds[k].fd != pfd[i].fd; k++)
			;
		if (k < l->nfds)
			l->fds[k].fn(pfd[i].fd, pfd[i].revents, l->fds[k].arg);
	}
	while ((t = l->timers) != NULL && t->at_ms <= l->now.mono_ms) {
		loop_timer_disarm(l, t);
		t->fn(t->arg);
	}
	/* A pass may add or remove passes: pass_next follows a removal. */
	for (l->pass_next = 0; l->pass_next < l->npasses;) {
		p = l->passes[l->pass_next++];
		p.fn(p.arg);
	}
	return 0;
}

int
loop_run(struct loop *l)
{
	l->stop = 0;
	while (!l->stop)
		if (turn(l) == -1)
			return -1;
	return 0;
}
