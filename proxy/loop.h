/*
 * loop.h - the one loop: sources register with it, it sleeps until one of
 * them has work, reads the clock once, and gives each its turn.
 *
 * A source is a file descriptor with its events and a callback, a timer,
 * or a pass: a callback run on every turn of the loop, in the order the
 * passes were added, with a function that says how long the loop may
 * sleep for its sake.  Redis' ae.c (aeCreateFileEvent, aeCreateTimeEvent)
 * is the model.  The loop sleeps in epoll_wait() on an epoll set of its
 * own: every descriptor of weir's is in it, libcurl's sockets too
 * (upstream.c registers them through libcurl's socket API), and
 * libmicrohttpd's epoll set as one descriptor.
 *
 * The loop is the one place that reads the clock: every pass, callback
 * and timer of one turn sees the same loop_time, monotonic for intervals
 * and deadlines, wall-clock for dates.
 */
#ifndef WEIR_LOOP_H
#define WEIR_LOOP_H

#include <stdint.h>

/* The clock, read once per turn. */
struct loop_time {
	uint64_t	 mono_ms;	/* CLOCK_MONOTONIC */
	uint64_t	 mono_us;	/* the same in microseconds */
	int64_t		 wall_ms;	/* CLOCK_REALTIME, for dates */
};

#define LOOP_READ	0x1
#define LOOP_WRITE	0x2
/* In revents only: the descriptor has an error (EPOLLERR); the events it
 * is watched for are set too, so that a read or write finds it. */
#define LOOP_ERROR	0x4

struct epoll_event;
/* What sleeps: epoll_wait(2) unless a test sets another (loop_set_wait).
 * The number of events, or -1 with errno. */
typedef int	(*loop_wait_fn)(int epfd, struct epoll_event *, int maxevents,
		    int timeout_ms, void *arg);
/* A descriptor is ready (revents: LOOP_*). */
typedef void	(*loop_fd_cb)(int fd, int revents, void *arg);
/* How long the loop may sleep for this source's sake: ms, or -1 for any
 * time.  A pass's turn comes on every wake-up regardless. */
typedef long	(*loop_timeout_cb)(void *arg);
/* A pass, or a timer that is due. */
typedef void	(*loop_cb)(void *arg);

/* A timer the caller owns (embed it); armed at most once at a time. */
struct loop_timer {
	uint64_t		 at_ms;
	loop_cb			 fn;
	void			*arg;
	int			 armed;
	struct loop_timer	*next;
};

struct loop;

/* NULL if no epoll set could be made (errno set). */
struct loop	*loop_new(void);
/* Close the epoll set; the sources' descriptors are theirs to close. */
void		 loop_free(struct loop *);
/* Sleep in fn instead of epoll_wait() (tests: a fake clock of sleeps). */
void		 loop_set_wait(struct loop *, loop_wait_fn, void *arg);
/* The clock as of this turn. */
const struct loop_time *loop_time(const struct loop *);

/* Watch fd for events (LOOP_READ, LOOP_WRITE; 0 for errors only); again
 * changes the events, callback and arg.  Any number of descriptors.  0, or
 * -1 when epoll refuses fd (a regular file, a closed descriptor).  A
 * callback may add or remove descriptors, itself included: a descriptor
 * removed in a turn gets no more of that turn's events. */
int		 loop_add_fd(struct loop *, int fd, int events, loop_fd_cb,
		    void *arg);
void		 loop_del_fd(struct loop *, int fd);
/* Watch fd for reading only to wake the loop: a pass does the work. */
int		 loop_add_wake_fd(struct loop *, int fd);

/* Run fn on every turn, after those added before (timeout may be NULL). */
void		 loop_add_pass(struct loop *, loop_cb fn, loop_timeout_cb,
		    void *arg);
/* Stop running the pass added with fn and arg (the first such, if added
 * twice); the others keep their order.  A pass may remove itself or
 * another while the loop runs the passes: the removed one runs no more,
 * the rest of the turn's passes still run once each. */
void		 loop_del_pass(struct loop *, loop_cb fn, void *arg);

/* Run t->fn(t->arg) once the clock reaches at_ms (re-arming moves it). */
void		 loop_timer_arm(struct loop *, struct loop_timer *,
		    uint64_t at_ms, loop_cb, void *arg);
void		 loop_timer_disarm(struct loop *, struct loop_timer *);

/* Turn until loop_stop().  0, or -1 if epoll_wait() failed. */
int		 loop_run(struct loop *);
void		 loop_stop(struct loop *);

#endif
