/*
 * loop.c - descriptors in an epoll set, timers and passes; see loop.h.
 * The only file that reads the clock.
 *
 * Descriptors sit in a table indexed by the descriptor, grown as needed.
 * Each registration gets a generation, carried in its epoll events, so
 * that an event still in the turn's batch for a descriptor removed (and
 * perhaps, under the same number, added again) since is dropped.
 * Level-triggered, as poll(2) was: a source that leaves bytes unread is
 * woken again.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "xmalloc.h"

/* Passes: a handful (see main.c). */
#define MAX_PASSES	16

/* The longest sleep without a reason: the loop looks around anyway. */
#define MAX_SLEEP_MS	1000

/* Events taken from the kernel per turn; more wait for the next one
 * (epoll hands them out round-robin). */
#define MAX_EVENTS	256

struct fd_source {
	loop_fd_cb	 fn;
	void		*arg;
	int		 events;	/* LOOP_READ | LOOP_WRITE */
	int		 used;
	uint32_t	 gen;		/* this registration's */
};

struct pass {
	loop_cb		 fn;
	loop_timeout_cb	 timeout;
	void		*arg;
};

struct loop {
	int			 epfd;
	loop_wait_fn		 wait;
	void			*wait_arg;
	struct loop_time	 now;
	struct fd_source	*fds;		/* by descriptor */
	size_t			 fds_cap;
	struct epoll_event	 ev[MAX_EVENTS];
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

/* loop_wait_fn: the real sleep. */
static int
wait_epoll(int epfd, struct epoll_event *ev, int maxevents, int timeout_ms,
    void *arg)
{
	(void)arg;
	return epoll_wait(epfd, ev, maxevents, timeout_ms);
}

struct loop *
loop_new(void)
{
	struct loop	*l = xcalloc(1, sizeof(*l));

	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(l);
		return NULL;
	}
	l->wait = wait_epoll;
	read_clock(&l->now);
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	close(l->epfd);
	free(l->fds);
	free(l);
}

void
loop_set_wait(struct loop *l, loop_wait_fn fn, void *arg)
{
	l->wait = fn;
	l->wait_arg = arg;
}

const struct loop_time *
loop_time(const struct loop *l)
{
	return &l->now;
}

static uint32_t
to_epoll(int events)
{
	return (events & LOOP_READ ? EPOLLIN : 0) |
	    (events & LOOP_WRITE ? EPOLLOUT : 0);
}

/* Make room in the table for fd. */
static void
grow(struct loop *l, int fd)
{
	size_t	 cap = l->fds_cap != 0 ? l->fds_cap : 64;

	while (cap <= (size_t)fd)
		cap *= 2;
	l->fds = xrealloc(l->fds, cap * sizeof(l->fds[0]));
	memset(l->fds + l->fds_cap, 0,
	    (cap - l->fds_cap) * sizeof(l->fds[0]));
	l->fds_cap = cap;
}

/*
 * Into the epoll set, or its events changed.  The table and the set can
 * disagree: a descriptor closed while registered leaves the set by
 * itself, and one of the same number may come back.
 */
static int
set_events(struct loop *l, int fd, struct fd_source *s, int add)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = to_epoll(s->events);
	ev.data.u64 = (uint64_t)s->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(l->epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd,
	    &ev) == 0)
		return 0;
	if (add && errno == EEXIST)
		return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
	if (!add && errno == ENOENT)
		return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
	return -1;
}

int
loop_add_fd(struct loop *l, int fd, int events, loop_fd_cb fn, void *arg)
{
	struct fd_source	*s;
	int			 add;

	if (fd < 0)
		return -1;
	if ((size_t)fd >= l->fds_cap)
		grow(l, fd);
	s = &l->fds[fd];
	events &= LOOP_READ | LOOP_WRITE;
	add = !s->used;
	if (add || s->events != events) {
		struct fd_source	 was = *s;

		if (add)
			s->gen++;
		s->events = events;
		if (set_events(l, fd, s, add) == -1) {
			*s = was;
			return -1;
		}
	}
	s->used = 1;
	s->fn = fn;
	s->arg = arg;
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
	struct fd_source	*s;

	if (fd < 0 || (size_t)fd >= l->fds_cap || !l->fds[fd].used)
		return;
	s = &l->fds[fd];
	/* Fails harmlessly if fd was closed first: it left the set then. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->used = 0;
	s->gen++;	/* events still in this turn's batch are stale */
	s->fn = NULL;
	s->arg = NULL;
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

/* One event's revents (LOOP_*) for source s, or 0 if it is stale. */
static int
revents_of(const struct loop *l, const struct epoll_event *ev, int *fdp)
{
	int			 fd = (int)(uint32_t)ev->data.u64, r = 0;
	const struct fd_source	*s;

	*fdp = fd;
	if ((size_t)fd >= l->fds_cap)
		return 0;
	s = &l->fds[fd];
	if (!s->used || s->gen != (uint32_t)(ev->data.u64 >> 32))
		return 0;
	if (ev->events & EPOLLIN)
		r |= LOOP_READ;
	if (ev->events & EPOLLOUT)
		r |= LOOP_WRITE;
	if (ev->events & (EPOLLERR | EPOLLHUP))
		r |= s->events;		/* a read or write finds out */
	if (ev->events & EPOLLERR)
		r |= LOOP_ERROR;
	return r & (s->events | LOOP_ERROR);
}

/* One turn: sleep, read the clock, descriptors, timers, passes. */
static int
turn(struct loop *l)
{
	struct loop_timer	*t;
	struct pass		 p;
	int			 i, n, fd, r;

	if ((n = l->wait(l->epfd, l->ev, MAX_EVENTS, sleep_ms(l),
	    l->wait_arg)) == -1) {
		if (errno != EINTR)
			return -1;
		n = 0;
	}
	read_clock(&l->now);
	/* A callback may add or remove descriptors: each is checked. */
	for (i = 0; i < n; i++)
		if ((r = revents_of(l, &l->ev[i], &fd)) != 0)
			l->fds[fd].fn(fd, r, l->fds[fd].arg);
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
