/*
 * watch.c - the hang-up watch over suspended connections; see watch.h.
 * Touches its own epoll set and the sockets it is given (never reads
 * from them but a one-byte peek).
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "watch.h"
#include "xmalloc.h"

struct watch {
	int			 epfd;
	struct watch_item	*head, *tail;	/* waiting, oldest first */
	uint64_t		 next_sweep_ms;
};

struct watch *
watch_new(void)
{
	struct watch	*w = xcalloc(1, sizeof(*w));

	if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_warn("epoll_create1");
		free(w);
		return NULL;
	}
	return w;
}

void
watch_free(struct watch *w)
{
	if (w == NULL)
		return;
	close(w->epfd);
	free(w);
}

int
watch_fd(const struct watch *w)
{
	return w->epfd;
}

static void
unlist(struct watch *w, struct watch_item *it)
{
	if (!it->listed)
		return;
	if (it->prev != NULL)
		it->prev->next = it->next;
	else
		w->head = it->next;
	if (it->next != NULL)
		it->next->prev = it->prev;
	else
		w->tail = it->prev;
	it->next = it->prev = NULL;
	it->listed = 0;
}

void
watch_add(struct watch *w, struct watch_item *it, int sock, uint64_t now_ms)
{
	watch_del(w, it);
	it->sock = sock;
	it->since_ms = now_ms;
	it->prev = w->tail;
	it->next = NULL;
	if (w->tail != NULL)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	it->listed = 1;
}

void
watch_del(struct watch *w, struct watch_item *it)
{
	unlist(w, it);
	if (!it->watched)
		return;
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, it->sock, NULL);
	it->watched = 0;
}

long
watch_timeout(const struct watch *w, uint64_t now_ms)
{
	uint64_t	 due;

	if (w->head == NULL)
		return -1;
	due = w->head->since_ms + WATCH_AFTER_MS;
	return due > now_ms ? (long)(due - now_ms) : 0;
}

/* Move the items that have waited WATCH_AFTER_MS into the epoll set. */
static void
sweep(struct watch *w, uint64_t now_ms, watch_cb settled, void *arg)
{
	struct epoll_event	 ev;
	struct watch_item	*it;

	if (now_ms < w->next_sweep_ms)
		return;
	w->next_sweep_ms = now_ms + WATCH_AFTER_MS / 2;
	while ((it = w->head) != NULL &&
	    it->since_ms + WATCH_AFTER_MS <= now_ms) {
		unlist(w, it);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLRDHUP;
		ev.data.ptr = it;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, it->sock, &ev) == 0)
			it->watched = 1;
		if (settled != NULL)
			settled(it, arg);
	}
}

void
watch_run(struct watch *w, uint64_t now_ms, watch_cb gone, watch_cb settled,
    void *arg)
{
	struct epoll_event	 ev[64];
	struct watch_item	*it;
	char			 byte;
	int			 i, n;

	sweep(w, now_ms, settled, arg);
	while ((n = epoll_wait(w->epfd, ev, 64, 0)) > 0) {
		for (i = 0; i < n; i++) {
			it = ev[i].data.ptr;
			watch_del(w, it);
			/* Half-closed with bytes still unread is not gone. */
			if (!(ev[i].events & (EPOLLHUP | EPOLLERR)) &&
			    recv(it->sock, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
				continue;
			gone(it, arg);
		}
		if (n < 64)
			break;
	}
}
