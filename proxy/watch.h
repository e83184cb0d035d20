/*
 * watch.h - noticing clients that hang up while their connection is
 * suspended.
 *
 * libmicrohttpd does not look at a suspended connection, so a client that
 * hangs up while its call waits in a queue would go unnoticed until the
 * answer.  The sockets of suspended connections sit in an epoll set for
 * EPOLLRDHUP, and a hang-up is reported so the call can be taken back.
 * Most calls are answered within milliseconds, so a socket joins the set
 * only once it has waited WATCH_AFTER_MS (two epoll_ctl calls per request
 * cost more than anything else front does); until then it waits on a
 * list, oldest first.  front embeds a watch_item in each request.
 */
#ifndef WEIR_WATCH_H
#define WEIR_WATCH_H

#include <stdint.h>

#define WATCH_AFTER_MS	100

struct watch_item {
	int			 sock;
	uint64_t		 since_ms;
	struct watch_item	*next, *prev;	/* the waiting list */
	int			 listed;	/* on it */
	int			 watched;	/* in the epoll set */
};

struct watch;

/* NULL if no epoll set could be made (logged). */
struct watch	*watch_new(void);
void		 watch_free(struct watch *);
/* The epoll set's descriptor, readable when a watched client hung up. */
int		 watch_fd(const struct watch *);

/* Watch sock (a suspended connection's) from now_ms on. */
void		 watch_add(struct watch *, struct watch_item *, int sock,
		    uint64_t now_ms);
/* Stop watching (resumed, answered or closed); harmless if not added. */
void		 watch_del(struct watch *, struct watch_item *);
/* Most ms until watch_run() has sockets to move into the set, or -1. */
long		 watch_timeout(const struct watch *, uint64_t now_ms);

/* Called for an item whose client hung up (it is no longer watched), or
 * that has waited WATCH_AFTER_MS (front trims its pool then). */
typedef void	(*watch_cb)(struct watch_item *, void *arg);
/* Move sockets that waited long enough into the set, telling settled
 * (may be NULL) of each, then report the clients that hung up to gone.
 * A half-close with bytes still unread is not a hang-up (the item is
 * dropped from the watch all the same). */
void		 watch_run(struct watch *, uint64_t now_ms, watch_cb gone,
		    watch_cb settled, void *arg);

#endif
