/*
 * sched.c - the queue between front and upstream; see sched.h.
 *
 * This first version is one FIFO without limits: every queued call is due
 * at once, except a requeued one, which waits for its time.  Per-tenant
 * queues, token buckets and pauses plug in behind the same functions.
 */
#include <stdlib.h>

#include "sched.h"
#include "xmalloc.h"

struct sched {
	const struct config	*cfg;
	struct call		*head;
	struct call		*tail;
	uint64_t		 queued;
	uint64_t		 inflight;
};

struct sched *
sched_new(const struct config *cfg)
{
	struct sched	*s;

	s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	return s;
}

void
sched_free(struct sched *s)
{
	free(s);
}

void
sched_submit(struct sched *s, struct call *c, uint64_t now_ms)
{
	c->next = NULL;
	c->not_before_ms = now_ms;
	if (s->tail != NULL)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	s->queued++;
}

void
sched_requeue(struct sched *s, struct call *c, uint64_t at_ms,
    uint64_t now_ms)
{
	(void)now_ms;
	/* A retry goes to the head of the queue. */
	c->next = s->head;
	c->not_before_ms = at_ms;
	s->head = c;
	if (s->tail == NULL)
		s->tail = c;
	s->queued++;
}

struct call *
sched_next(struct sched *s, uint64_t now_ms)
{
	struct call	*c = s->head;

	if (c == NULL || c->not_before_ms > now_ms)
		return NULL;
	s->head = c->next;
	if (s->head == NULL)
		s->tail = NULL;
	c->next = NULL;
	s->queued--;
	s->inflight++;
	return c;
}

void
sched_done(struct sched *s, struct call *c, uint64_t now_ms)
{
	(void)c;
	(void)now_ms;
	s->inflight--;
}

int
sched_remove(struct sched *s, struct call *c)
{
	struct call	**pp, *prev = NULL;

	for (pp = &s->head; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp != c)
			continue;
		*pp = c->next;
		if (s->tail == c)
			s->tail = prev;
		c->next = NULL;
		s->queued--;
		return 1;
	}
	return 0;
}

uint64_t
sched_next_due(struct sched *s, uint64_t now_ms)
{
	if (s->head == NULL)
		return SCHED_NEVER;
	return s->head->not_before_ms > now_ms ? s->head->not_before_ms : now_ms;
}

uint64_t
sched_queued(const struct sched *s)
{
	return s->queued;
}

uint64_t
sched_inflight(const struct sched *s)
{
	return s->inflight;
}

struct call *
sched_drain(struct sched *s)
{
	struct call	*c = s->head;

	if (c == NULL)
		return NULL;
	s->head = c->next;
	if (s->head == NULL)
		s->tail = NULL;
	c->next = NULL;
	s->queued--;
	return c;
}
